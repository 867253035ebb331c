import { createHash } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import type { DecayFit } from '../../detectors/decay/types.ts';
import { fitVersionDecay, initialMonitorState, policyStateOf, startVersion } from '../../detectors/monitor/tick.ts';
import { DEFAULT_MONITOR_SETTINGS, type MonitorSettings, type MonitorState } from '../../detectors/monitor/types.ts';
import { evaluatePolicy } from '../../detectors/policy/evaluate.ts';
import type { PolicyDecision, RetrainPolicy } from '../../detectors/policy/index.ts';
import { recordDecision, type DecisionKind } from '../../platform/clickhouse/decisions-repository.ts';
import { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import { ClickHouseRegistryRepository } from '../../platform/clickhouse/registry-repository.ts';
import type { LabelRow, ScoringEventRow } from '../../platform/contracts.ts';
import { monitorWorkflowId, retrainWorkflowId } from '../../workflows/messages.ts';
import { demoPolicy } from './policies.ts';

/**
 * A model as the `npm start` demo leaves it, for the dashboard's texts: 30-second windows, a
 * version that declines, a retrain, and a healthy new version with two windows — the case where
 * a straight line through two points used to be drawn to 0% and read as a half-life. Every
 * monitor decision is the real policy's (`evaluatePolicy` on the monitor's state, the cost-aware
 * trigger with retrain 60 + risk 10): the first windows under text revision 1 (as a monitor that
 * started before it recorded them, "no action: wait: …"), the rest under revision 2. After the
 * promotion a person asks for a retrain inside the 2-minute cooldown, so the timeline gets four
 * decisions within a minute and a blocked reason with a cooldown.
 */

const WINDOW = 30_000;
const HOUR = 3_600_000;
const EVENTS = 120;
const SETTINGS: MonitorSettings = { ...DEFAULT_MONITOR_SETTINGS, qualitySlo: 0.85 };
/** Windows recorded before the monitor's run moved to text revision 2. */
const LEGACY_WINDOWS = 4;

export const DEMO_POLICY: RetrainPolicy = demoPolicy({ name: 'demo-cost-aware', model: '' });
const POLICY_REF = {
  name: DEMO_POLICY.name,
  version: DEMO_POLICY.version,
  hash: createHash('sha256').update('seed-policy:demo-cost-aware:1').digest('hex'),
};

/** v1 declines window by window; v2 (after the retrain) is healthy. */
const V1_QUALITY = [
  0.95, 0.948, 0.944, 0.94, 0.931, 0.925, 0.918, 0.91, 0.905, 0.897, 0.889, 0.884, 0.876, 0.87, 0.866, 0.861,
];
const V2_QUALITY = [0.942, 0.936];

export interface SeededDemo {
  modelId: string;
  /** Window length (ms). */
  windowMs: number;
  windows: number;
  decisions: { decisionId: string; kind: DecisionKind; at: number; reason: string }[];
  /** Decisions recorded under text revision 1. */
  legacyDecisionIds: string[];
  /** The decay fit the page shows for the version in service (two windows: no half-life). */
  latestFit: DecayFit | null;
  blockedDecisionId: string;
  /** Events stored per window, and the first window's start. */
  eventsPerWindow: number;
  start: number;
}

export async function seedDemo(
  client: ClickHouseClient,
  modelId: string,
  { now, setClock }: { now: number; setClock: (ms: number) => void },
): Promise<SeededDemo> {
  const policy = { ...DEMO_POLICY, model: modelId };
  const registry = new ClickHouseRegistryRepository(client);
  const workflowId = monitorWorkflowId(modelId);
  const runId = 'b1d2e3f4-0000-4000-8000-seededdemo01';
  const windows = V1_QUALITY.length + V2_QUALITY.length;
  // Two window slots between v1 and v2: the retrain, the promotion and a person's request fall there.
  const start = Math.floor(now / WINDOW) * WINDOW - (windows + 6) * WINDOW;
  const features = { numeric: ['x1', 'x2', 'x3'], categorical: [] };
  const decisions: SeededDemo['decisions'] = [];
  const legacyDecisionIds: string[] = [];
  let counter = 0;

  const v1TrainedAt = start - 2 * 60_000;
  setClock(v1TrainedAt);
  await registry.registerVersion({
    modelId,
    version: 'v1',
    artifactUri: `file://artifacts/${modelId}/v1/model.onnx`,
    sha256: createHash('sha256').update(`${modelId}/v1`).digest('hex'),
    trainer: 'builtin:logistic-regression',
    codeVersion: 'seed',
    stage: 'production',
    features,
    metrics: { accuracy: 0.95 },
    createdBy: 'demo',
  });
  let state: MonitorState = { ...initialMonitorState(modelId), version: 'v1', versionTrainedAt: v1TrainedAt };

  const record = async (
    kind: DecisionKind,
    at: number,
    reason: string,
    decision: PolicyDecision | null,
    window: MonitorState['windows'][number] | null,
    extra: { workflowId?: string; runId?: string; version?: string; details?: Record<string, unknown> } = {},
  ): Promise<string> => {
    counter += 1;
    const decisionId = `${extra.workflowId ?? workflowId}/${extra.runId ?? runId}/${counter}`;
    await recordDecision(client, {
      decisionId,
      modelId,
      modelVersion: extra.version ?? state.version ?? '',
      workflowId: extra.workflowId ?? workflowId,
      runId: extra.runId ?? runId,
      decidedAt: at,
      kind,
      actor: extra.details?.actor === undefined ? 'system' : String(extra.details.actor),
      reason,
      policy: POLICY_REF,
      statistics: window
        ? {
            window,
            quality: {
              metric: 'accuracy',
              realised: { value: window.quality?.value ?? null, n: window.events, interval: null },
              estimated: null,
              used: 'realised',
            },
            decay: state.decay,
            economics: decision?.economics ?? null,
          }
        : null,
      thresholds: decision?.thresholds ?? null,
      windows: window ? [{ start: window.start, end: window.end }] : null,
      trainingWindow: decision?.trainingWindow ?? null,
      lineageId: '',
      details: {
        trigger: decision?.trigger ?? null,
        guards: decision?.guardsApplied ?? null,
        blockedBy: decision?.blockedBy ?? null,
        notBefore: decision?.notBefore ?? null,
        approval: decision?.approval ?? null,
        inputs: decision?.inputs ?? null,
        ...extra.details,
      },
    });
    decisions.push({ decisionId, kind, at, reason });
    return decisionId;
  };

  const events: ScoringEventRow[] = [];
  const labels: LabelRow[] = [];
  let blockedDecisionId = '';
  for (let i = 0; i < windows; i++) {
    const wStart = start + (i < V1_QUALITY.length ? i : i + 2) * WINDOW;
    const wEnd = wStart + WINDOW;
    const quality = i < V1_QUALITY.length ? (V1_QUALITY[i] as number) : (V2_QUALITY[i - V1_QUALITY.length] as number);
    if (i === V1_QUALITY.length) {
      // The retrain decided at the end of v1's last window: v2 trained from its 5-minute window and promoted.
      const retrainId = retrainWorkflowId(modelId, 1);
      const decidedAt = wStart - 2 * WINDOW + 2_000;
      const trainedAt = decidedAt + 18_000;
      setClock(trainedAt);
      await registry.registerVersion({
        modelId,
        version: 'v2',
        artifactUri: `file://artifacts/${modelId}/v2/model.onnx`,
        sha256: createHash('sha256').update(`${modelId}/v2`).digest('hex'),
        trainer: 'builtin:logistic-regression',
        codeVersion: 'seed',
        features,
        metrics: { accuracy: 0.94 },
        parentVersion: 'v1',
        retrainId,
        createdBy: 'system',
      });
      const promotedAt = trainedAt + 12_000;
      setClock(promotedAt);
      await registry.setStage(modelId, 'v2', 'production', 'system', 'challenger passed validation');
      await record('promote', promotedAt, 'challenger passed validation, shadow evaluation and canary', null, null, {
        workflowId: retrainId,
        runId: 'b1d2e3f4-0000-4000-8000-seededdemo02',
        version: 'v2',
      });
      state = startVersion(state, 'v2', trainedAt, 0.94, decidedAt, promotedAt);
      // A person asks for another retrain 20 s later: the cooldown holds it.
      const askedAt = promotedAt + 20_000;
      const asked = evaluatePolicy(
        policy,
        { ...policyStateOf(state, SETTINGS), manualRequest: { by: 'alice', reason: 'check v2', force: false } },
        askedAt,
      );
      await record('force-retrain', askedAt - 1, 'check v2', null, null, { details: { actor: 'alice', force: false } });
      blockedDecisionId = await record(asked.kind, askedAt, asked.reason, asked, null);
    }
    const window = {
      start: wStart,
      end: wEnd,
      events: EVENTS,
      dataQualityOk: true,
      drift: null,
      quality: { metric: 'accuracy', value: quality, source: 'realised' as const },
    };
    const age = (wEnd - (state.versionTrainedAt as number)) / HOUR;
    state.points.push({ version: state.version as string, ageHours: age, quality, weight: EVENTS, source: 'realised' });
    state.windows.push(window);
    state.decay = fitVersionDecay(state, SETTINGS, age);
    const at = wEnd + 2_000;
    const textRevision = i < LEGACY_WINDOWS ? 1 : 2;
    // The demo moves its concept after v1's last window and asks for a retrain (as `halflife retrain` does).
    const asks =
      i === V1_QUALITY.length - 1 ? { manualRequest: { by: 'demo', reason: 'concept moved', force: false } } : {};
    const decision = evaluatePolicy(policy, { ...policyStateOf(state, { ...SETTINGS, textRevision }), ...asks }, at);
    const id = await record(decision.kind, at, decision.reason, decision, window);
    if (textRevision === 1) legacyDecisionIds.push(id);

    for (let k = 0; k < EVENTS; k++) {
      const ts = wStart + Math.floor((k / EVENTS) * WINDOW);
      const eventId = `${modelId}-w${i}-${k}`;
      const score = ((k * 37) % 100) / 100;
      events.push({
        event_id: eventId,
        model_id: modelId,
        model_version: state.version as string,
        ts,
        subject_id: `s-${k % 40}`,
        num_features: { x1: k % 7, x2: (k * 3) % 11, x3: score },
        cat_features: {},
        missing_features: [],
        prediction_score: score,
        prediction_class: score >= 0.5 ? '1' : '0',
        prediction_value: null,
        metadata: {},
        contract_version: 1,
        source: 'kafka',
        source_ref: `halflife.scoring-events:2:${i * EVENTS + k}`,
      });
      if (k % 2 === 0)
        labels.push({
          event_id: eventId,
          label: score >= 0.5 ? '1' : '0',
          label_numeric: score >= 0.5 ? 1 : 0,
          label_ts: ts + 5_000,
          contract_version: 1,
          source: 'kafka',
          source_ref: `halflife.labels:2:${i * EVENTS + k}`,
        });
    }
  }
  const ingest = new ClickHouseIngestRepository(client);
  await ingest.insertScoringEvents(events);
  await ingest.insertLabels(labels);
  return {
    modelId,
    windowMs: WINDOW,
    windows,
    decisions,
    legacyDecisionIds,
    latestFit: state.decay,
    blockedDecisionId,
    eventsPerWindow: EVENTS,
    start,
  };
}
