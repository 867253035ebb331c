import { createHash } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import {
  recordDecision,
  type DecisionKind,
  type DecisionRecord,
} from '../../platform/clickhouse/decisions-repository.ts';
import { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import { ClickHouseRegistryRepository } from '../../platform/clickhouse/registry-repository.ts';
import type { LabelRow, ScoringEventRow } from '../../platform/contracts.ts';
import type { DecayFit } from '../../detectors/decay/types.ts';
import { dataQualityReport } from '../../detectors/drift/data-quality.ts';
import type { FeatureDriftResult } from '../../detectors/drift/feature-result.ts';
import { driftReport } from '../../detectors/drift/report.ts';
import { evaluateRetrainEconomics } from '../../detectors/economics/index.ts';
import { fitVersionDecay, initialMonitorState } from '../../detectors/monitor/tick.ts';
import { DEFAULT_MONITOR_SETTINGS, type MonitorSettings, type MonitorState } from '../../detectors/monitor/types.ts';
import { composeDecisionReason } from '../../detectors/texts/decision-reason.ts';
import { monitorWorkflowId, retrainWorkflowId } from '../../workflows/messages.ts';
import { seedDemo, type SeededDemo } from './seed-demo.ts';

/**
 * A "seeded run" for dashboard tests: the rows a ModelMonitor + Retrain run leaves in
 * ClickHouse, written through the same repositories the activities use, without running the
 * workflows (test/integration/monitor-time-skipping.test.ts does that, at ~1 min per run).
 *
 * Model `<prefix>-churn`: v1 decays (half-life 18 h) for 30 hourly windows while two features
 * drift; the cost-aware policy retrains; v2 passes shadow evaluation and is promoted; v2 decays
 * more slowly; a second retrain's v3 is rejected by shadow evaluation. The decay fits are the
 * monitor's own (`fitVersionDecay`, with the population prior for v2), the drift reports and
 * data-quality reports the detectors' own, the economics `evaluateRetrainEconomics`.
 * Model `<prefix>-fraud`: stable quality, no decay detected.
 *
 * Registry writes take their time from Date.now(); `setClock` moves it (vi.setSystemTime), so
 * versions are "trained" when the story says, before the windows that score with them.
 */

const HOUR = 3_600_000;
export const SEED_POLICY = {
  name: 'cost-aware-default',
  version: '3',
  hash: createHash('sha256').update('seed-policy:cost-aware-default:3').digest('hex'),
};
const SETTINGS: MonitorSettings = { ...DEFAULT_MONITOR_SETTINGS, qualitySlo: 0.8 };
const NUMERIC = ['tenure_days', 'monthly_spend', 'support_calls', 'sessions_7d', 'discount_rate'];
const CATEGORICAL = ['plan'];

export interface SeededModel {
  modelId: string;
  windows: number;
  /** The newest decay fit recorded (what the dashboard draws for the serving version). */
  latestFit: DecayFit | null;
  latestFitVersion: string | null;
  productionVersion: string;
  decisions: { decisionId: string; kind: DecisionKind; at: number }[];
  promoteDecisionId: string | null;
  rejectDecisionId: string | null;
  /** The last window's recorded label-free estimate, when it recorded one. @default undefined */
  lastEstimate?: ReturnType<typeof seededEstimate>;
}

export interface SeededRun {
  start: number;
  end: number;
  policy: typeof SEED_POLICY;
  churn: SeededModel;
  fraud: SeededModel;
  /** A model as the `npm start` demo leaves it (30-second windows; see seed-demo.ts). */
  demo: SeededDemo;
}

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function featureResult(
  name: string,
  kind: 'numeric' | 'categorical',
  role: 'feature' | 'prediction',
  shift: number,
  n: number,
  random: () => number,
): FeatureDriftResult {
  const js = Math.max(0.004, shift + (random() - 0.5) * 0.01);
  const psi = js * js * 18;
  const wn = kind === 'numeric' ? js * 1.1 : undefined;
  const pvalue = Math.max(1e-12, Math.exp(-js * js * n * 0.8));
  return {
    name,
    kind,
    role,
    n_reference: 5000,
    n_current: n,
    missing_reference: 0,
    missing_current: 0,
    tested: true,
    drifted: false,
    effect_size_exceeded: false,
    reasons: [],
    test: kind === 'numeric' ? 'ks' : 'chi-square',
    pvalue,
    pvalue_adjusted: null,
    ...(kind === 'numeric'
      ? { ks: { statistic: js * 0.9, pvalue }, wasserstein: { distance: (wn ?? 0) * 3.2, normalized: wn ?? 0 } }
      : { linf: js * 0.8 }),
    psi,
    jensen_shannon: js,
    hellinger: js * 0.95,
  } as FeatureDriftResult;
}

interface VersionStory {
  version: string;
  trainedAt: number;
  q0: number;
  floor: number;
  halfLifeHours: number;
}

export async function seedRun(
  client: ClickHouseClient,
  options: { prefix: string; setClock: (ms: number) => void; now?: number },
): Promise<SeededRun> {
  const now = options.now ?? Date.now();
  const start = Math.floor(now / HOUR) * HOUR - 60 * HOUR;
  const churn = await seedChurn(client, `${options.prefix}-churn`, start, options.setClock);
  const fraud = await seedFraud(client, `${options.prefix}-fraud`, start + 46 * HOUR, options.setClock);
  const demo = await seedDemo(client, `${options.prefix}-demo`, { now, setClock: options.setClock });
  options.setClock(now);
  return { start, end: start + 60 * HOUR, policy: SEED_POLICY, churn, fraud, demo };
}

async function seedChurn(
  client: ClickHouseClient,
  modelId: string,
  start: number,
  setClock: (ms: number) => void,
): Promise<SeededModel> {
  const random = rng(7);
  const registry = new ClickHouseRegistryRepository(client);
  const ingest = new ClickHouseIngestRepository(client);
  const features = { numeric: NUMERIC, categorical: CATEGORICAL };
  const workflowId = monitorWorkflowId(modelId);
  const runId = '6f1c2a0e-4b7d-4c1e-9a53-seeded000001';
  const decisions: SeededModel['decisions'] = [];
  let counter = 0;
  let state: MonitorState = initialMonitorState(modelId);
  let latestFit: DecayFit | null = null;
  let latestFitVersion: string | null = null;
  let lastEstimate: ReturnType<typeof seededEstimate> | undefined;
  let promoteDecisionId: string | null = null;
  let rejectDecisionId: string | null = null;

  const record = async (
    d: Omit<DecisionRecord, 'modelId' | 'policy' | 'workflowId' | 'runId'> & { workflowId?: string; runId?: string },
  ) => {
    await recordDecision(client, {
      modelId,
      policy: SEED_POLICY,
      workflowId: d.workflowId ?? workflowId,
      runId: d.runId ?? runId,
      ...d,
    });
    decisions.push({ decisionId: d.decisionId, kind: d.kind, at: d.decidedAt });
  };

  const v1: VersionStory = { version: 'v1', trainedAt: start - 4 * HOUR, q0: 0.93, floor: 0.66, halfLifeHours: 18 };
  setClock(v1.trainedAt);
  await registerSeedVersion(registry, modelId, 'v1', {
    stage: 'production',
    features,
    metrics: { accuracy: 0.93 },
    createdBy: 'team-churn',
  });
  state = { ...state, version: 'v1', versionTrainedAt: v1.trainedAt };

  let serving = v1;
  const v2: VersionStory = {
    version: 'v2',
    trainedAt: start + 29 * HOUR + 20 * 60_000,
    q0: 0.92,
    floor: 0.7,
    halfLifeHours: 30,
  };
  const events: ScoringEventRow[] = [];
  const labels: LabelRow[] = [];

  for (let hour = 0; hour < 60; hour++) {
    const wStart = start + hour * HOUR;
    const wEnd = wStart + HOUR;
    if (hour === 30) {
      serving = v2;
      state = {
        ...state,
        version: 'v2',
        versionTrainedAt: v2.trainedAt,
        decay: null,
        changeDetector: null,
        lastRetrainAt: v2.trainedAt,
      };
    }
    const age = (wEnd - serving.trainedAt) / HOUR;
    // Noise of about the binomial error of ~320 labelled events (sd ≈ 1.2 points).
    const quality =
      serving.floor + (serving.q0 - serving.floor) * 2 ** (-age / serving.halfLifeHours) + (random() - 0.5) * 0.04;
    const n = 380 + Math.floor(random() * 60);
    const labelled = Math.floor(n * 0.8);

    // Two features drift with the version's age; the prediction follows; the rest stay put.
    const ageShift = Math.min(0.3, age / 140);
    const results = [
      featureResult('tenure_days', 'numeric', 'feature', 0.01, n, random),
      featureResult('monthly_spend', 'numeric', 'feature', ageShift, n, random),
      featureResult('support_calls', 'numeric', 'feature', ageShift * 0.8, n, random),
      featureResult('sessions_7d', 'numeric', 'feature', 0.015, n, random),
      featureResult('discount_rate', 'numeric', 'feature', 0.02, n, random),
      featureResult('plan', 'categorical', 'feature', ageShift * 0.35, n, random),
      featureResult('prediction', 'numeric', 'prediction', ageShift * 0.6, n, random),
    ];
    const drift = driftReport(results);
    const missingPlan = hour === 40 ? Math.floor(n * 0.12) : Math.floor(random() * 3);
    const dq = dataQualityReport({
      rows: n,
      dead_lettered: hour === 40 ? 9 : hour % 9 === 0 ? 1 : 0,
      features: [
        ...NUMERIC.map((name) => ({
          name,
          kind: 'numeric' as const,
          rows: n,
          missing: Math.floor(random() * 2),
          out_of_range: name === 'monthly_spend' ? Math.floor(ageShift * n * 0.05) : 0,
          unseen: 0,
          reference_missing_rate: 0.002,
        })),
        {
          name: 'plan',
          kind: 'categorical' as const,
          rows: n,
          missing: missingPlan,
          out_of_range: 0,
          unseen: hour > 45 ? 2 : 0,
          reference_missing_rate: 0.004,
        },
      ],
    });
    const half = 1.96 * Math.sqrt((quality * (1 - quality)) / labelled);
    const evaluation = {
      window: {
        start: wStart,
        end: wEnd,
        events: n,
        dataQualityOk: dq.ok,
        drift: { datasetDrift: drift.dataset_drift, driftedShare: drift.share_drifted },
        quality: { metric: 'accuracy', value: quality, source: 'realised' },
      },
      quality: {
        metric: 'accuracy',
        realised: { value: quality, n: labelled, interval: { lower: quality - half, upper: quality + half } },
        estimated: (lastEstimate = seededEstimate(quality + (random() - 0.5) * 0.02, n)),
        used: 'realised',
      },
    };
    state.points.push({ version: serving.version, ageHours: age, quality, weight: labelled, source: 'realised' });
    state.windows.push(evaluation.window as MonitorState['windows'][number]);
    state.decay = fitVersionDecay(state, SETTINGS, age);
    latestFit = state.decay;
    latestFitVersion = serving.version;

    const economics = state.decay
      ? evaluateRetrainEconomics({
          fit: state.decay,
          horizonHours: 72,
          eventsPerHour: n,
          valuePerQualityUnit: 2,
          retrainCost: 900,
          deploymentRisk: { probability: 0.05, cost: 2000 },
        })
      : null;
    // The team approves retrains (the policy requires approval): at hours 28 and 50 they ask for
    // one; while the economics say a retrain pays before that, the approval guard holds it.
    const retrainNow = hour === 28 || hour === 50;
    const pays = economics?.shouldRetrain === true;
    const kind: DecisionKind = retrainNow ? 'retrain' : pays ? 'blocked' : 'no-action';
    const statement = economics?.reason ?? 'no decay fit yet: nothing to weigh';
    const approvalDetail = 'awaiting approval by team-churn';
    const reason = retrainNow
      ? `requested by team-churn: drift in ${drift.drifted_features.join(', ') || 'no feature'}; policy trigger: ${statement}`
      : pays
        ? composeDecisionReason(statement, { guard: 'approval', detail: approvalDetail })
        : statement;
    counter += 1;
    const at = wEnd + 30_000;
    const decisionId = `${workflowId}/${runId}/${counter}`;
    await record({
      decisionId,
      modelVersion: serving.version,
      decidedAt: at,
      kind,
      actor: 'system',
      reason,
      statistics: {
        window: evaluation.window,
        drift,
        dataQuality: dq,
        quality: evaluation.quality,
        changePoint: { detected: hour === 24, statistic: hour * 0.004 },
        decay: state.decay,
        economics,
      },
      thresholds: {
        retrainCost: 900,
        valuePerQualityUnit: 2,
        horizonHours: 72,
        quantile: 0.5,
        qualitySlo: 0.8,
        cooldown: '6h',
        maxRetrainsPer7d: 3,
      },
      windows: [{ start: wStart, end: wEnd }],
      trainingWindow: retrainNow
        ? { kind: 'since-change-point', start: wEnd - 24 * HOUR, end: wEnd, reason: 'since the last change point' }
        : null,
      lineageId: '',
      details: {
        trigger: { kind: 'cost-aware', fired: retrainNow || pays, reason: statement },
        guards: [
          { guard: 'cooldown', passed: true, overridden: false, detail: 'last retrain more than 6 h ago', until: null },
          {
            guard: 'budget',
            passed: true,
            overridden: false,
            detail: `${hour > 28 ? 1 : 0} of 3 retrains in 7 days`,
            until: null,
          },
          {
            guard: 'data-quality',
            passed: dq.ok,
            overridden: false,
            detail: dq.ok ? 'window data quality ok' : dq.alerts.join('; '),
            until: null,
          },
          { guard: 'approval', passed: !pays || retrainNow, overridden: false, detail: approvalDetail, until: null },
        ],
        blockedBy: kind === 'blocked' ? 'approval' : null,
        notBefore: null,
        approval: { required: false, status: 'not-required', expiresAt: null },
        inputs: { ageHours: Number(age.toFixed(2)), quality: Number(quality.toFixed(4)) },
        referenceId: `ref-${modelId}-${serving.version}`,
      },
    });

    for (let i = 0; i < 40; i++) {
      const ts = wStart + Math.floor((i / 40) * HOUR);
      const eventId = `${modelId}-e${hour}-${i}`;
      const score = Math.min(0.99, Math.max(0.01, random()));
      events.push({
        event_id: eventId,
        model_id: modelId,
        model_version: serving.version,
        ts,
        subject_id: `subject-${i % 25}`,
        num_features: {
          tenure_days: 30 + random() * 900,
          monthly_spend: 20 + random() * 80 + ageShift * 40,
          support_calls: Math.floor(random() * 5),
          sessions_7d: Math.floor(random() * 30),
          discount_rate: random() * 0.3,
        },
        cat_features: { plan: ['basic', 'pro', 'team'][i % 3] as string },
        missing_features: [],
        prediction_score: score,
        prediction_class: score >= 0.5 ? '1' : '0',
        prediction_value: null,
        metadata: {},
        contract_version: 1,
        source: 'kafka',
        source_ref: `halflife.scoring-events:0:${hour * 40 + i}`,
      });
      if (i % 5 !== 0) {
        const label = random() < quality ? (score >= 0.5 ? 1 : 0) : score >= 0.5 ? 0 : 1;
        labels.push({
          event_id: eventId,
          label: String(label),
          label_numeric: label,
          label_ts: ts + 2 * HOUR,
          contract_version: 1,
          source: 'kafka',
          source_ref: `halflife.labels:0:${hour * 40 + i}`,
        });
      }
    }

    if (hour === 28) {
      // Retrain 1: v2 trained, shadow-evaluated against v1 (better), promoted.
      const retrainId = retrainWorkflowId(modelId, 1);
      setClock(v2.trainedAt);
      await registerSeedVersion(registry, modelId, 'v2', {
        parentVersion: 'v1',
        retrainId,
        lineageId: `snapshot-${retrainId}`,
        features,
        metrics: { accuracy: 0.92, logLoss: 0.24 },
        createdBy: 'system',
      });
      const shadow = await seedShadow(client, modelId, 'v2', 'v1', v2.trainedAt + 10 * 60_000, 0.9, 0.81, 11);
      const promotedAt = v2.trainedAt + 35 * 60_000;
      setClock(promotedAt);
      await registry.setStage(
        modelId,
        'v2',
        'production',
        'system',
        'challenger passed validation, shadow evaluation and canary',
      );
      promoteDecisionId = `${retrainId}/promote/1`;
      await record({
        decisionId: promoteDecisionId,
        workflowId: retrainId,
        runId: '6f1c2a0e-4b7d-4c1e-9a53-seeded000002',
        modelVersion: 'v2',
        decidedAt: promotedAt,
        kind: 'promote',
        actor: 'system',
        reason: 'challenger passed validation, shadow evaluation and canary',
        statistics: {
          validation: {
            passed: true,
            candidate: { accuracy: 0.92, logLoss: 0.24 },
            champion: { accuracy: 0.81, logLoss: 0.41 },
            reasons: [],
          },
          verdict: shadow.verdict,
          training: { rows: 8400, seconds: 3.1 },
          promoted: { version: 'v2', previous: 'v1' },
        },
        thresholds: {
          shadow: { mode: 'non-inferiority', margin: 0.01, lookback: '1d', maxEvents: 20000 },
          canary: { steps: [], stepDuration: '10m', minEvents: 100, darkLaunch: false },
        },
        windows: null,
        trainingWindow: { start: start + 5 * HOUR, end: start + 29 * HOUR },
        lineageId: `snapshot-${retrainId}`,
        details: { retrainId, requestedBy: decisionId, championVersion: 'v1' },
      });
    }
    if (hour === 50) {
      // Retrain 2: v3 no better than v2 on the shadow events: rejected, v2 stays.
      const retrainId = retrainWorkflowId(modelId, 2);
      const trainedAt = wEnd + 20 * 60_000;
      setClock(trainedAt);
      await registerSeedVersion(registry, modelId, 'v3', {
        parentVersion: 'v2',
        retrainId,
        lineageId: `snapshot-${retrainId}`,
        features,
        metrics: { accuracy: 0.84 },
        createdBy: 'system',
      });
      const shadow = await seedShadow(client, modelId, 'v3', 'v2', trainedAt + 10 * 60_000, 0.8, 0.84, 13);
      const rejectedAt = trainedAt + 25 * 60_000;
      setClock(rejectedAt);
      await registry.setStage(modelId, 'v3', 'rejected', 'system', `shadow evaluation: ${shadow.verdict.decision}`);
      rejectDecisionId = `${retrainId}/reject/1`;
      await record({
        decisionId: rejectDecisionId,
        workflowId: retrainId,
        runId: '6f1c2a0e-4b7d-4c1e-9a53-seeded000003',
        modelVersion: 'v3',
        decidedAt: rejectedAt,
        kind: 'reject',
        actor: 'system',
        reason: `shadow evaluation: ${shadow.verdict.decision}: ${shadow.verdict.reasons.join('; ')}`,
        statistics: {
          validation: { passed: true, candidate: { accuracy: 0.8 }, champion: { accuracy: 0.84 }, reasons: [] },
          shadow: { evaluationId: shadow.evaluationId, n: shadow.n, verdict: shadow.verdict },
        },
        thresholds: {
          shadow: { mode: 'non-inferiority', margin: 0.01, lookback: '1d', maxEvents: 20000 },
          canary: { steps: [], stepDuration: '10m', minEvents: 100, darkLaunch: false },
        },
        windows: null,
        trainingWindow: { start: start + 26 * HOUR, end: start + 51 * HOUR },
        lineageId: `snapshot-${retrainId}`,
        details: { retrainId, requestedBy: decisionId, championVersion: 'v2' },
      });
    }
  }

  await ingest.insertScoringEvents(events);
  await ingest.insertLabels(labels);
  // Dead letters as ingest stores them, at the hours they arrived (received_at defaults to now otherwise).
  await client.insert({
    table: 'dead_letters',
    format: 'JSONEachRow',
    values: [3, 17, 40, 40, 40, 52].map((hour, i) => ({
      dead_letter_id: `kafka:halflife.scoring-events:1:${modelId}:${i}`,
      received_at: start + hour * HOUR + 600_000 + i,
      source: 'kafka',
      topic: 'halflife.scoring-events',
      partition: 1,
      offset: i,
      record_key: '',
      payload: JSON.stringify({ event_id: `bad-${i}`, model_id: modelId }),
      reason: 'prediction.score: must be between 0 and 1',
      error_path: 'prediction.score',
      model_id: modelId,
    })),
  });

  return {
    modelId,
    windows: 60,
    latestFit,
    latestFitVersion,
    lastEstimate,
    productionVersion: 'v2',
    decisions,
    promoteDecisionId,
    rejectDecisionId,
  };
}

/** A label-free estimate as estimation revision 2 records it: CBPE at the version's threshold, with its 95% interval. */
function seededEstimate(value: number, n: number) {
  const half = 1.96 * Math.sqrt((value * (1 - value)) / n);
  return {
    value,
    n,
    trustworthy: true,
    reasons: [],
    interval: { lower: value - half, upper: value + half, level: 0.95 },
    threshold: 0.5,
    method: 'CBPE' as const,
  };
}

/** Paired champion/challenger scores on the same labelled events, and the verdict the retrain recorded. */
/** A seeded registry version: the artifact, checksum, trainer and code version every seeded version shares, plus its own fields. */
type SeedVersionFields = Omit<
  Parameters<ClickHouseRegistryRepository['registerVersion']>[0],
  'modelId' | 'version' | 'artifactUri' | 'sha256' | 'trainer' | 'codeVersion'
>;

async function registerSeedVersion(
  registry: ClickHouseRegistryRepository,
  modelId: string,
  version: string,
  fields: SeedVersionFields,
): Promise<void> {
  await registry.registerVersion({
    modelId,
    version,
    artifactUri: `file://artifacts/${modelId}/${version}/model.onnx`,
    sha256: createHash('sha256').update(`${modelId}/${version}`).digest('hex'),
    trainer: 'builtin:logistic-regression',
    codeVersion: 'seed',
    ...fields,
  });
}

async function seedShadow(
  client: ClickHouseClient,
  modelId: string,
  candidate: string,
  champion: string,
  at: number,
  candidateAccuracy: number,
  championAccuracy: number,
  seed: number,
) {
  const random = rng(seed);
  const n = 800;
  const evaluationId = `shadow-${createHash('sha256').update(`${modelId}/${candidate}/${champion}`).digest('hex').slice(0, 24)}`;
  const rows = [];
  let candidateCorrect = 0;
  let championCorrect = 0;
  for (let i = 0; i < n; i++) {
    const label = random() < 0.35 ? 1 : 0;
    const side = (accuracy: number) => {
      const correct = random() < accuracy;
      const confident = 0.55 + random() * 0.4;
      const p1 = correct === (label === 1) ? confident : 1 - confident;
      return { score: p1, correct };
    };
    const c = side(candidateAccuracy);
    const h = side(championAccuracy);
    candidateCorrect += c.correct ? 1 : 0;
    championCorrect += h.correct ? 1 : 0;
    rows.push({
      evaluation_id: evaluationId,
      model_id: modelId,
      candidate_version: candidate,
      champion_version: champion,
      event_id: `${modelId}-shadow-${candidate}-${i}`,
      source: 'replay',
      label,
      champion_score: h.score,
      candidate_score: c.score,
      champion_latency_ms: 0.4 + random() * 0.2,
      candidate_latency_ms: 0.4 + random() * 0.2,
      evaluated_at: at,
    });
  }
  await client.insert({ table: 'shadow_results', values: rows, format: 'JSONEachRow' });
  const cand = candidateCorrect / n;
  const champ = championCorrect / n;
  const diff = cand - champ;
  const se = Math.sqrt((cand * (1 - cand) + champ * (1 - champ)) / n);
  const improvement = {
    metric: 'accuracy',
    champion: champ,
    challenger: cand,
    improvement: diff,
    lower: diff - 1.96 * se,
    upper: diff + 1.96 * se,
    level: 0.95,
    method: 'paired-bootstrap-percentile',
  };
  const decision = improvement.lower > -0.01 ? 'promote' : improvement.upper < -0.01 ? 'reject' : 'inconclusive';
  const verdict = {
    decision,
    reasons: [
      `accuracy: champion ${champ.toFixed(4)}, challenger ${cand.toFixed(4)}; improvement ${diff.toFixed(4)} (95% CI ${improvement.lower.toFixed(4)} to ${improvement.upper.toFixed(4)}, paired-bootstrap-percentile)`,
      decision === 'promote'
        ? 'the whole interval is above the non-inferiority margin 0.0100'
        : decision === 'reject'
          ? 'the whole interval is below the non-inferiority margin 0.0100'
          : 'the interval straddles the non-inferiority margin 0.0100: not shown to be non-inferior',
    ],
    statistics: {
      n,
      metric: 'accuracy',
      test: 'non-inferiority',
      level: 0.95,
      bar: -0.01,
      improvement,
      mcnemar: { statistic: 4.2, pvalue: 0.04, championOnlyCorrect: 30, challengerOnlyCorrect: 52, exact: false },
      guardrails: { passed: true, violations: [] },
    },
  };
  return { evaluationId, n, verdict };
}

async function seedFraud(
  client: ClickHouseClient,
  modelId: string,
  start: number,
  setClock: (ms: number) => void,
): Promise<SeededModel> {
  const random = rng(21);
  const registry = new ClickHouseRegistryRepository(client);
  const workflowId = monitorWorkflowId(modelId);
  const runId = '9a7d0c55-1e2f-4f6b-8c11-seeded000004';
  const trainedAt = start - 30 * HOUR;
  setClock(trainedAt);
  await registerSeedVersion(registry, modelId, 'v1', {
    stage: 'production',
    features: { numeric: ['amount', 'velocity_1h'], categorical: ['country'] },
    createdBy: 'team-fraud',
  });
  let state: MonitorState = { ...initialMonitorState(modelId), version: 'v1', versionTrainedAt: trainedAt };
  const decisions: SeededModel['decisions'] = [];
  for (let hour = 0; hour < 14; hour++) {
    const wStart = start + hour * HOUR;
    const wEnd = wStart + HOUR;
    const age = (wEnd - trainedAt) / HOUR;
    const quality = 0.955 + (random() - 0.5) * 0.006;
    const n = 900;
    const drift = driftReport([
      featureResult('amount', 'numeric', 'feature', 0.01, n, random),
      featureResult('velocity_1h', 'numeric', 'feature', 0.012, n, random),
      featureResult('country', 'categorical', 'feature', 0.008, n, random),
    ]);
    const dq = dataQualityReport({
      rows: n,
      dead_lettered: 0,
      features: [
        { name: 'amount', kind: 'numeric', rows: n, missing: 0, out_of_range: 0, unseen: 0, reference_missing_rate: 0 },
      ],
    });
    const window = {
      start: wStart,
      end: wEnd,
      events: n,
      dataQualityOk: dq.ok,
      drift: { datasetDrift: drift.dataset_drift, driftedShare: drift.share_drifted },
      quality: { metric: 'accuracy', value: quality, source: 'realised' },
    };
    state = {
      ...state,
      points: [...state.points, { version: 'v1', ageHours: age, quality, weight: 700, source: 'realised' }],
      windows: [...state.windows, window as MonitorState['windows'][number]],
    };
    state.decay = fitVersionDecay(state, SETTINGS, age);
    const decisionId = `${workflowId}/${runId}/${hour + 1}`;
    await recordDecision(client, {
      decisionId,
      modelId,
      modelVersion: 'v1',
      workflowId,
      runId,
      decidedAt: wEnd + 30_000,
      kind: 'no-action',
      actor: 'system',
      reason: 'quality within expectations; retraining does not pay yet',
      policy: SEED_POLICY,
      statistics: {
        window,
        drift,
        dataQuality: dq,
        quality: {
          metric: 'accuracy',
          realised: { value: quality, n: 700, interval: null },
          estimated: null,
          used: 'realised',
        },
        changePoint: { detected: false, statistic: 0 },
        decay: state.decay,
        economics: null,
      },
      thresholds: { retrainCost: 900, qualitySlo: 0.8 },
      windows: [{ start: wStart, end: wEnd }],
      trainingWindow: null,
      lineageId: '',
      details: { trigger: { kind: 'cost', fired: false, reason: 'no decay' }, guards: [], blockedBy: null },
    });
    decisions.push({ decisionId, kind: 'no-action', at: wEnd + 30_000 });
  }
  return {
    modelId,
    windows: 14,
    latestFit: state.decay,
    latestFitVersion: 'v1',
    productionVersion: 'v1',
    decisions,
    promoteDecisionId: null,
    rejectDecisionId: null,
  };
}
