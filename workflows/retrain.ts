/**
 * Retrain(model): snapshot → train → validate → shadow → decide → canary → promote | reject | rollback.
 *
 * A child of the model's monitor, one at a time. Every step is an activity with a timeout and
 * retries; long steps heartbeat; each is idempotent by the retrain id, so a retried or replayed
 * step never trains twice or promotes twice.
 */
import { ApplicationFailure, patched, proxyActivities, sleep, workflowInfo, log } from '@temporalio/workflow';
import type { MonitorActivities } from '../activities/monitor.ts';
import type { RetrainActivities } from '../activities/retrain.ts';
import { parseDuration } from '../detectors/policy/duration.ts';
import type { QualityPolicy } from '../detectors/policy/types.ts';
import { GUARDRAIL_DEFAULTS, type GuardrailOptions } from '../detectors/promotion/guardrails.ts';
import { liveShadowWaitState } from '../detectors/promotion/live-shadow-wait.ts';
import type { PromotionVerdict } from '../detectors/promotion/verdict.ts';
import type { PolicyRef } from './messages.ts';

/** How a retrain trains, evaluates and rolls out. */
export interface RetrainSettings {
  /** The trainer: built-in logistic regression, or an external command. @default { kind: "builtin", params: {} } */
  trainer:
    | { kind: 'builtin'; params: Record<string, unknown> }
    | { kind: 'command'; command: string[]; params: Record<string, unknown> };
  /** Seed of the training run (recorded). @default 42 */
  seed: number;
  /**
   * Shadow evaluation: superiority (must be better) or non-inferiority (must not be worse by more
   * than `margin`), on up to `maxEvents` labelled events of the last `lookback`; fewer paired events
   * than `minEvents` is inconclusive (a low-volume model lowers it, or lengthens `lookback`).
   * @default "non-inferiority", 0.01, "1d", 20000, minEvents 500
   */
  shadow: {
    mode: 'superiority' | 'non-inferiority';
    margin: number;
    lookback: string;
    maxEvents: number;
    minEvents?: number;
    /**
     * A live shadow before the verdict: the challenger is published in shadow beside the
     * production champion, so the scorer scores every request with both, for at most `maxWait`,
     * checking every `pollEvery` whether `minEvents` of those pairs are labelled; the verdict then
     * rests on the live pairs, or on a replay of the lookback when too few were labelled by then.
     * @default undefined (the verdict replays stored events); pollEvery "1m"
     */
    live?: { maxWait: string; pollEvery?: string };
    /**
     * The challenger's operational guardrails (detectors/promotion/guardrails.ts): its p99
     * latency against the champion's on the same events, replayed or served live, and its error
     * rate. @default { maxLatencyP99Ratio: 2 (SHADOW_MAX_LATENCY_P99_RATIO), minLatencySamples: 100, maxErrorRateIncrease: 0.001 }
     */
    guardrails?: Partial<GuardrailOptions>;
  };
  /** Canary traffic shares and how long each is watched; empty = promote straight after shadow. `darkLaunch` stops after shadow. */
  canary: { steps: number[]; stepDuration: string; minEvents: number; darkLaunch: boolean };
  /**
   * How soon a step whose worker died is retried elsewhere: long steps (training, shadow) by their
   * heartbeat timeout, short ones by their start-to-close timeout. @default { heartbeat: "2m", shortStep: "5m" }
   */
  timeouts: { heartbeat: string; shortStep: string };
}

export const DEFAULT_RETRAIN_SETTINGS: RetrainSettings = {
  trainer: { kind: 'builtin', params: {} },
  seed: 42,
  shadow: { mode: 'non-inferiority', margin: 0.01, lookback: '1d', maxEvents: 20_000 },
  canary: { steps: [], stepDuration: '10m', minEvents: 100, darkLaunch: false },
  timeouts: { heartbeat: '2m', shortStep: '5m' },
};

export interface RetrainInput {
  retrainId: string;
  modelId: string;
  championVersion: string | null;
  /**
   * Training data window chosen by the policy. Its `kind` bounds the shadow evaluation: after a
   * change point the challenger is judged on traffic since the change, not on the old concept's.
   */
  trainingWindow: { kind?: 'fixed' | 'since-change-point' | 'all'; start: number | null; end: number };
  /** The decision that asked for this retrain. */
  decisionId: string;
  policy: PolicyRef;
  actor: string;
  settings: RetrainSettings;
  /**
   * The policy's quality section: a multiclass or regression model (its kind is read from the
   * registry by the activities) is validated and shadow-tested on this metric. @default the kind's default metric
   */
  quality?: QualityPolicy;
}

export interface RetrainResult {
  outcome: 'promoted' | 'rejected' | 'rolled-back' | 'failed' | 'dark-launched';
  reason: string;
  version: string | null;
  trainedAt: number | null;
  /** Quality of the new version on the held-out slice (the decay curve's starting point). */
  freshQuality: number | null;
  lineageId: string | null;
  verdict: PromotionVerdict | null;
}

const MINUTE = 60_000;

const record = proxyActivities<MonitorActivities>({
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 20, maximumInterval: '1m' },
});

export async function Retrain(input: RetrainInput): Promise<RetrainResult> {
  const { retrainId, modelId } = input;
  const timeouts = input.settings.timeouts ?? DEFAULT_RETRAIN_SETTINGS.timeouts;
  const training = proxyActivities<RetrainActivities>({
    startToCloseTimeout: '2h',
    heartbeatTimeout: timeouts.heartbeat,
    retry: {
      initialInterval: '1s',
      maximumInterval: '5m',
      maximumAttempts: 5,
      nonRetryableErrorTypes: ['TrainingInputError', 'ValidationError'],
    },
  });
  const quick = proxyActivities<RetrainActivities>({
    startToCloseTimeout: timeouts.shortStep,
    retry: { initialInterval: '1s', maximumAttempts: 10, maximumInterval: '1m' },
  });
  const info = workflowInfo();
  let step = 0;
  // The champion the challenger is judged against: the monitor's, unless it became tainted (resolved below).
  let championVersion = input.championVersion;
  let championNote: string | null = null;
  const decide = async (
    kind: 'reject' | 'promote' | 'rollback' | 'training-failed' | 'promotion-failed',
    reason: string,
    statistics: unknown,
    version: string | null,
    lineageId: string | null,
  ) => {
    step += 1;
    await record.recordDecision({
      decisionId: `${retrainId}/${kind}/${step}`,
      modelId,
      modelVersion: version ?? championVersion ?? '',
      workflowId: info.workflowId,
      runId: info.runId,
      decidedAt: Date.now(),
      kind,
      actor: input.actor,
      reason,
      policy: input.policy,
      statistics,
      thresholds: { shadow: input.settings.shadow, canary: input.settings.canary },
      windows: null,
      trainingWindow: input.trainingWindow,
      lineageId: lineageId ?? '',
      details: {
        retrainId,
        requestedBy: input.decisionId,
        championVersion,
        ...(championNote ? { championRequested: input.championVersion, championNote } : {}),
      },
    });
  };

  const snapshot = await training.snapshotTrainingData({
    retrainId,
    modelId,
    window: { start: input.trainingWindow.start ?? 0, end: input.trainingWindow.end },
  });

  let trained: Awaited<ReturnType<RetrainActivities['trainModel']>>;
  try {
    trained = await training.trainModel({
      retrainId,
      modelId,
      snapshotId: snapshot.snapshotId,
      trainer: input.settings.trainer,
      seed: input.settings.seed,
    });
  } catch (err) {
    const reason = `training failed: ${failureMessage(err)}`;
    await decide('training-failed', reason, { snapshot }, null, snapshot.snapshotId);
    return {
      outcome: 'failed',
      reason,
      version: null,
      trainedAt: null,
      freshQuality: null,
      lineageId: snapshot.snapshotId,
      verdict: null,
    };
  }
  const version = trained.modelVersion;
  const trainedAt = Date.now();

  // A tainted version is never a shadow champion (a GDPR erasure may have tainted it since the
  // retrain started): the registry names the champion to use, or none, with its reason.
  const resolvesChampion = patched('retrain-untainted-champion');
  if (resolvesChampion) {
    const champion = await quick.resolveChampion({ modelId, championVersion: input.championVersion });
    championVersion = champion.version;
    championNote = champion.reason;
  }

  // The policy's metric reaches validation and shadow (a history without a quality section never asks).
  const quality = input.quality !== undefined && patched('retrain-policy-quality') ? input.quality : undefined;
  const validation = await quick.validateOffline({
    modelId,
    candidateVersion: version,
    championVersion: championVersion ?? undefined,
    snapshotId: snapshot.snapshotId,
    ...(quality ? { quality } : {}),
  });
  // A multiclass or regression candidate's quality is its metric's (in [0, 1]); a binary one's its accuracy.
  const freshQuality =
    validation.freshQuality !== undefined
      ? validation.freshQuality
      : typeof validation.candidate?.accuracy === 'number'
        ? validation.candidate.accuracy
        : null;
  if (!validation.passed) {
    const reason = `offline validation failed: ${validation.reasons.join('; ')}`;
    await quick.rejectVersion({ modelId, version, actor: input.actor, reason });
    await decide('reject', reason, { validation, training: trained.metrics }, version, snapshot.snapshotId);
    return {
      outcome: 'rejected',
      reason,
      version,
      trainedAt,
      freshQuality,
      lineageId: snapshot.snapshotId,
      verdict: null,
    };
  }

  let verdict: PromotionVerdict | null = null;
  // Which evaluation, and which events, the verdict rests on, for the promotion's provenance (a rejection records the whole result).
  let shadowSource: Record<string, unknown> | null = null;
  let liveShortfall = '';
  // Every outcome from here on names the trained version and the verdict reached so far.
  const trainedOutcome = (outcome: RetrainResult['outcome'], reason: string): RetrainResult => ({
    outcome,
    reason,
    version,
    trainedAt,
    freshQuality,
    lineageId: snapshot.snapshotId,
    verdict,
  });
  if (championVersion !== null) {
    // The live shadow (a history without the setting never asks).
    const live =
      input.settings.shadow.live !== undefined && patched('retrain-live-shadow')
        ? await liveShadow(quick, {
            retrainId,
            modelId,
            candidateVersion: version,
            championVersion,
            live: input.settings.shadow.live,
            minEvents: input.settings.shadow.minEvents ?? 500,
            minLatencySamples:
              input.settings.shadow.guardrails?.minLatencySamples ?? GUARDRAIL_DEFAULTS.minLatencySamples,
          })
        : null;
    const liveWindow = live?.window ?? null;
    // What the live wait ended without (maxWait reached), said with the verdict's reason.
    liveShortfall =
      live && live.missing.length > 0 ? `; live shadow ended at maxWait with ${live.missing.join(', ')}` : '';
    const lookbackStart = input.trainingWindow.end - parseDuration(input.settings.shadow.lookback);
    const sinceChange = input.trainingWindow.kind === 'since-change-point' && input.trainingWindow.start !== null;
    const shadow = await training.shadowEvaluate({
      modelId,
      candidateVersion: version,
      championVersion,
      window: {
        start: sinceChange ? Math.max(lookbackStart, input.trainingWindow.start as number) : lookbackStart,
        end: input.trainingWindow.end,
      },
      margin: input.settings.shadow.margin,
      mode: input.settings.shadow.mode,
      maxEvents: input.settings.shadow.maxEvents,
      ...(input.settings.shadow.minEvents === undefined ? {} : { minEvents: input.settings.shadow.minEvents }),
      ...(input.settings.shadow.guardrails ? { guardrails: input.settings.shadow.guardrails } : {}),
      ...(quality ? { quality } : {}),
      ...(liveWindow ? { source: 'prefer-live' as const, liveWindow } : {}),
    });
    verdict = shadow.verdict;
    // Every promotion names the evaluation it rests on, replayed or live (histories from before
    // the marker named only a live one).
    if (patched('retrain-shadow-source') || liveWindow)
      shadowSource = { evaluationId: shadow.evaluationId, n: shadow.n, ...pickSource(shadow) };
    if (shadow.verdict.decision !== 'promote') {
      const reason = `shadow evaluation: ${shadow.verdict.decision}: ${shadow.verdict.reasons.join('; ')}${liveShortfall}`;
      await quick.rejectVersion({ modelId, version, actor: input.actor, reason });
      await decide('reject', reason, { validation, shadow }, version, snapshot.snapshotId);
      return trainedOutcome('rejected', reason);
    }
  }

  if (input.settings.canary.darkLaunch) {
    const reason = 'dark launch: the challenger passed shadow evaluation and stays in shadow';
    return trainedOutcome('dark-launched', reason);
  }

  // Without a champion there is nothing to split traffic with: a canary would be all or nothing.
  const canarySteps = resolvesChampion && championVersion === null ? [] : input.settings.canary.steps;
  for (const [index, share] of canarySteps.entries()) {
    const since = Date.now();
    await quick.publishModelUpdate({
      modelId,
      version,
      artifactUri: trained.artifactUri,
      sha256: trained.sha256,
      trafficSplit: { [version]: share, ...(championVersion ? { [championVersion]: 1 - share } : {}) },
      reason: `canary step ${index + 1}: ${Math.round(share * 100)}%`,
      idempotencyKey: `${retrainId}/canary/${index}`,
    });
    await sleep(Math.max(MINUTE, parseDuration(input.settings.canary.stepDuration)));
    const check = await quick.canaryCheck({
      modelId,
      candidateVersion: version,
      championVersion: championVersion ?? undefined,
      since,
      minEvents: input.settings.canary.minEvents,
    });
    if (!check.healthy) {
      const reason = `canary at ${Math.round(share * 100)}% regressed: ${check.reasons.join('; ')}`;
      const rollback = await quick.rollbackVersion({ retrainId, modelId, version, actor: input.actor, reason });
      await decide('rollback', reason, { validation, verdict, canary: check, rollback }, version, snapshot.snapshotId);
      return trainedOutcome('rolled-back', reason);
    }
  }

  const promoted = await quick.promoteVersion({ retrainId, modelId, version, actor: input.actor });
  // The promotion stands only when serving confirmed it; otherwise the activity undid it.
  if (patched('retrain-serving-confirmed-promotion') && promoted.confirmed === false) {
    const restored = promoted.undone?.restore.restoredVersion ?? null;
    const reason = `promotion not confirmed by serving: ${promoted.serving.summary}; undone (${version} back to ${promoted.undone?.stage ?? 'its stage'}, ${restored ? `${restored} is production again` : 'no version is production'})`;
    await decide('promotion-failed', reason, { validation, verdict, promoted }, version, snapshot.snapshotId);
    return trainedOutcome('failed', reason);
  }
  const reason =
    championVersion === null
      ? championNote
        ? `promoted after offline validation: ${championNote}`
        : 'first version: promoted after offline validation'
      : `challenger passed validation, shadow evaluation and canary${liveShortfall}`;
  await decide(
    'promote',
    reason,
    { validation, verdict, training: trained.metrics, promoted, ...(shadowSource ? { shadowSource } : {}) },
    version,
    snapshot.snapshotId,
  );
  log.info('promoted', { modelId, version });
  return trainedOutcome('promoted', reason);
}

const CLOCK_MARGIN_MS = MINUTE;

/**
 * Publish the challenger in shadow and wait until `minEvents` of the pairs it and the champion
 * scored are labelled and both sides' pairs hold `minLatencySamples` scorer runs (histories
 * before the `retrain-live-shadow-runs` marker waited for the pairs only), or `maxWait` has
 * passed. Returns the live window the verdict reads (null when the champion is not a served
 * production version: the verdict replays).
 */
async function liveShadow(
  quick: ReturnType<typeof proxyActivities<RetrainActivities>>,
  args: {
    retrainId: string;
    modelId: string;
    candidateVersion: string;
    championVersion: string;
    live: NonNullable<RetrainSettings['shadow']['live']>;
    minEvents: number;
    minLatencySamples: number;
  },
): Promise<{ window: { start: number; end: number } | null; missing: string[] }> {
  // Events carry the request's own timestamp: a minute's margin for the clocks that set them.
  const start = Date.now() - CLOCK_MARGIN_MS;
  const started = await quick.startLiveShadow({
    retrainId: args.retrainId,
    modelId: args.modelId,
    candidateVersion: args.candidateVersion,
    championVersion: args.championVersion,
  });
  if (!started.started) {
    log.info('no live shadow', { modelId: args.modelId, reason: started.reason });
    return { window: null, missing: [] };
  }
  const deadline = Date.now() + parseDuration(args.live.maxWait);
  const every = parseDuration(args.live.pollEvery ?? '1m');
  // The latency guardrail counts scorer runs, not events: a few large batches label the pairs
  // long before each side has run often enough for its p99.
  const waitsForRuns = patched('retrain-live-shadow-runs');
  let missing: string[] = [];
  for (;;) {
    const progress = await quick.liveShadowPairs({
      modelId: args.modelId,
      candidateVersion: args.candidateVersion,
      championVersion: args.championVersion,
      window: { start, end: Date.now() + CLOCK_MARGIN_MS },
    });
    const state = waitsForRuns
      ? liveShadowWaitState(progress, { minEvents: args.minEvents, minLatencySamples: args.minLatencySamples })
      : { enough: progress.labelledPairs >= args.minEvents, missing: [] };
    if (state.enough) break;
    if (Date.now() >= deadline) {
      missing = state.missing;
      break;
    }
    await sleep(Math.max(1, Math.min(every, deadline - Date.now())));
  }
  return { window: { start, end: Date.now() + CLOCK_MARGIN_MS }, missing };
}

function pickSource(shadow: { statistics: { source: string; live?: unknown } }): Record<string, unknown> {
  return { source: shadow.statistics.source, ...(shadow.statistics.live ? { live: shadow.statistics.live } : {}) };
}

function failureMessage(err: unknown): string {
  let current: unknown = err;
  // Activity failures wrap the trainer's error as their cause.
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  if (current instanceof ApplicationFailure) return current.message;
  return current instanceof Error ? current.message : String(current);
}
