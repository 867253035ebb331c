/**
 * The backtest engine: replay a labelled scoring history through the monitor's own tick.
 *
 * The history is cut into cadence-long windows aligned to the epoch (as the ModelMonitor
 * workflow aligns its windows). The first `referenceWindowMs` is the reference period: it is
 * profiled into the reference the windows are compared with, and — when the file has no scores —
 * the first model is trained on it. Every later window becomes exactly the `WindowObservation`
 * the workflow's statistics activity returns from ClickHouse (counts over the reference's bins,
 * a 100-bin score histogram, a labelled score histogram), goes through `monitorTick`, and the
 * policy's decision is acted on at once: a retrain trains the trainer on the decision's training
 * window, the new model scores every following row, its reference is rebuilt from its training
 * data (as the workflow does from the training lineage) and `startVersion` restarts its age.
 *
 * Differences from production, on purpose: training is instantaneous (the new version serves
 * from the next window), approval is assumed granted at once (the backtest measures a policy's
 * timing, not a person's), every trained version is promoted (no shadow evaluation or canary:
 * those judge a trainer's output, not when to retrain), and a failed training (e.g. a
 * single-class window) starts the cooldown and counts against the budget like a failed Retrain
 * workflow but costs nothing.
 *
 * Labels arrive when they would in production (`labelDelayMs`, or a row's own `labelTime`): a
 * window sees the labels that arrived before it closed, later ones reach it as late labels at a
 * later window's close, and a retrain trains only on labels that had arrived. The report's
 * `trueCost` is measured in hindsight, on every label.
 *
 * Memory: every row is kept, because a training window may reach back to the start ("all").
 */
import { categoricalProfile, numericReferenceProfile, numericWindowCounts, topValueOf } from '../drift/profiles.ts';
import type { CategoricalProfile, NumericCounts, NumericReferenceProfile } from '../drift/profiles.ts';
import { windowQualityCounts } from '../drift/window-comparison.ts';
import { LabelQueue, type PendingLabel } from './label-queue.ts';
import { BacktestProbes } from './probe-runner.ts';
import { resolveProbePolicy } from '../probes/policy.ts';
import { initialMonitorState, monitorTick, startVersion } from '../monitor/tick.ts';
import { DEFAULT_MONITOR_SETTINGS } from '../monitor/types.ts';
import type { MonitorReference, MonitorSettings, MonitorState, WindowObservation } from '../monitor/types.ts';
import { equalWidthBin } from '../quality/calibration.ts';
import { groupScores } from '../quality/cbpe-groups.ts';
import { qualitySlo } from '../monitor/health-inputs.ts';
import { windowEstimationGrouping } from '../monitor/window-estimate.ts';
import { windowEstimate } from './estimate-check.ts';
import { windowEndByTime, windowingOrigin, type BacktestWindowing } from './windowing.ts';
import { estimateCbpe, fitCbpe } from '../quality/cbpe.ts';
import {
  buildScoreHistogram,
  DEFAULT_SCORE_HISTOGRAM_BINS,
  qualityFromScoreHistogram,
} from '../quality/score-histogram.ts';
import type {
  BacktestDecision,
  BacktestModel,
  BacktestOptions,
  BacktestReport,
  BacktestRow,
  BacktestTrainer,
  BacktestVersion,
  BacktestWindow,
} from './types.ts';

/** Input the engine cannot use (out-of-order rows, nothing to train on, …). The CLI maps it to exit code 3. */
export class BacktestInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BacktestInputError';
  }
}

/** The threshold a version is estimated at when none is given (as the registry's default). */
const DEFAULT_DECISION_THRESHOLD = 0.5;
/** Labelled reference events needed to fit the label-free estimator (as the monitor activity). */
const MIN_CBPE_REFERENCE = 500;
/** Fewest labelled rows a training window needs (both classes present). */
const MIN_TRAINING_ROWS = 20;
/** Most consecutive empty windows tolerated between two rows (guards against a mis-scaled timestamp). */
const MAX_EMPTY_WINDOWS = 100_000;

/** The model serving: a trained one, or the file's own scores. */
interface Serving {
  version: string;
  model: BacktestModel | null;
}

/** A reference and the rows it was profiled from (the denominator of its missing rates). */
interface Reference {
  profiles: MonitorReference;
  rows: number;
  /** The estimator's estimate of the monitor's metric over the reference period (the reference band's centre). */
  estimateOnReference: number | null;
}

/** "retrain: retrain: …" and "no action: wait: …" read as one verdict: the kind is reported beside the reason. */
export function reasonWithoutVerdict(reason: string): string {
  let out = reason;
  for (;;) {
    const next = out.replace(/^(retrain|no action|wait): /, '');
    if (next === out) return out;
    out = next;
  }
}

export async function runBacktest(options: BacktestOptions): Promise<BacktestReport> {
  const { policy, cadenceMs, referenceWindowMs, trainer, hasPrediction } = options;
  const windowing: BacktestWindowing = options.windowing ?? { kind: 'duration', ms: cadenceMs };
  if (windowing.kind === 'duration' && !(windowing.ms > 0))
    throw new BacktestInputError(`cadence must be longer than zero, got ${windowing.ms} ms`);
  if (windowing.kind === 'rows' && !(Number.isInteger(windowing.rows) && windowing.rows >= 1))
    throw new BacktestInputError(`rows per window must be a whole number of at least 1, got ${windowing.rows}`);
  const threshold = options.decisionThreshold ?? null;
  if (threshold !== null && !(threshold >= 0 && threshold <= 1))
    throw new BacktestInputError(`decision threshold must be between 0 and 1, got ${threshold}`);
  if (!(referenceWindowMs > 0))
    throw new BacktestInputError(`reference window must be longer than zero, got ${referenceWindowMs} ms`);
  const numeric = [...options.numeric];
  const categorical = [...(options.categorical ?? [])];
  const settings: MonitorSettings = { ...DEFAULT_MONITOR_SETTINGS, ...options.settings };
  const slo = qualitySlo({ settings, policy });
  const costModel = options.costModel ? { ...options.costModel, riskCost: options.costModel.riskCost ?? 0 } : null;
  const validationShare = options.validationShare ?? 0.2;
  const seed = options.seed ?? 1;
  const labelDelayMs = options.labelDelayMs ?? 0;
  if (!(labelDelayMs >= 0)) throw new BacktestInputError(`label delay must be zero or more, got ${labelDelayMs} ms`);
  const arrivalOf = (row: BacktestRow): number => row.labelTime ?? row.time + labelDelayMs;
  const inFlight = new LabelQueue();
  const probes = new BacktestProbes(
    resolveProbePolicy(policy.probes, policy.trigger.kind === 'cost-aware' ? policy.trigger.retrainCost : 0),
  );

  const history: BacktestRow[] = [];
  let labelledRows = 0;
  let state: MonitorState = initialMonitorState(policy.model);
  let reference: Reference | null = null;
  let serving: Serving | null = null;
  let referenceInfo = { start: 0, end: 0, rows: 0 };
  const decisions: BacktestDecision[] = [];
  const windows: BacktestWindow[] = [];
  const versions: BacktestVersion[] = [];
  let retrains = 0;
  let failedRetrains = 0;

  let origin: number | null = null;
  let windowStart = 0; // start of the window being filled (valid once monitoring)
  let windowFirstIndex = 0; // index in `history` of its first row
  let monitoring = false;

  const score = (row: BacktestRow, index: number): number => {
    if (serving?.model) return clampProbability(serving.model.predict(row.features));
    if (row.prediction === null)
      throw new BacktestInputError(`row ${index + 1}: no prediction score, and the file's model is the one serving`);
    return row.prediction;
  };

  const startMonitoring = (referenceEnd: number): void => {
    const rows = history.slice(0, windowFirstIndex);
    const start = origin as number;
    referenceInfo = { start, end: referenceEnd, rows: rows.length };
    if (hasPrediction) {
      serving = { version: 'file', model: null };
      const fresh = qualityOf(
        rows.map((r, i) => score(r, i)),
        rows.map((r) => (r.label !== null && arrivalOf(r) < referenceEnd ? r.label : null)),
        settings,
      );
      versions.push({
        version: 'file',
        trainedAt: start,
        freshQuality: fresh,
        source: 'file',
        trainingRows: 0,
        validationRows: 0,
      });
      // The file's model is taken as deployed when the history starts; its age runs from there.
      state = startVersion(state, 'file', start, fresh, null, start);
    } else {
      const arrived = rows.filter((r) => r.label !== null && arrivalOf(r) < referenceEnd);
      const trained = trainVersion(trainer, arrived, numeric, categorical, seed, validationShare, settings);
      if ('error' in trained)
        throw new BacktestInputError(
          `cannot train the first model on the reference period (${rows.length} rows): ${trained.error}`,
        );
      serving = { version: 'v1', model: trained.model };
      versions.push({
        version: 'v1',
        trainedAt: referenceEnd,
        freshQuality: trained.freshQuality,
        source: 'trainer',
        trainingRows: trained.trainingRows,
        validationRows: trained.validationRows,
      });
      state = startVersion(state, 'v1', referenceEnd, trained.freshQuality, null, referenceEnd);
    }
    reference = buildReference(
      `${serving.version}@${start}`,
      serving.version,
      rows,
      rows.map((r, i) => score(r, i)),
      numeric,
      categorical,
      (r) => r.label !== null && arrivalOf(r) < referenceEnd,
      threshold,
      settings.qualityMetric,
    );
    monitoring = true;
    windowStart = referenceEnd;
  };

  const closeWindow = (end: number, endIndex: number): void => {
    const rows = history.slice(windowFirstIndex, endIndex);
    const current = serving as Serving;
    const scores = rows.map((r, i) => score(r, windowFirstIndex + i));
    // Labels that arrived before the window closed count now; the rest travel on, and those of
    // earlier windows that arrived since the last close fill those windows in.
    const late = inFlight.takeBefore(end);
    const arrived: boolean[] = rows.map((r) => r.label !== null && arrivalOf(r) < end);
    rows.forEach((r, i) => {
      if (r.label !== null && !arrived[i])
        inFlight.push({ arrival: arrivalOf(r), windowStart, score: scores[i] as number, label: r.label });
    });
    const observation = buildObservation(
      windowStart,
      end,
      rows,
      scores,
      arrived,
      late,
      reference,
      current.version,
      state.versionTrainedAt,
    );
    if (policy.guards.approval.required)
      state = { ...state, approval: { status: 'approved', by: 'backtest', at: end } };
    // A probe in flight scores this window beside the champion before the tick reads its result.
    const scoredProbe = probes.scoreWindow(state, rows, scores, arrivalOf, end);
    state = scoredProbe.state;
    let probeRecord = scoredProbe.record;
    const tick = monitorTick(state, reference?.profiles ?? null, observation, policy, end, settings);
    state = tick.state;
    const realised = tick.evaluation.quality.realised?.value ?? null;
    const fresh = state.freshQuality;
    const drift = tick.evaluation.drift;
    const hindsight = qualityOf(
      scores,
      rows.map((r) => r.label),
      settings,
    );
    const dq = tick.evaluation.dataQuality;
    const estimated = tick.evaluation.quality.estimated;
    windows.push({
      start: windowStart,
      end,
      events: rows.length,
      labelled: rows.filter((r) => r.label !== null).length,
      labelledAtClose: observation.labelled?.events ?? 0,
      version: current.version,
      quality: realised,
      hindsightQuality: hindsight,
      estimatedQuality: estimated?.value ?? null,
      estimate: windowEstimate(estimated, scores, rows, settings, slo, reference?.estimateOnReference ?? null),
      qualityUsed: tick.evaluation.quality.used,
      ...(tick.evaluation.quality.reason === undefined ? {} : { qualityReason: tick.evaluation.quality.reason }),
      drift: drift
        ? { detected: drift.dataset_drift, driftedShare: drift.share_drifted, driftedFeatures: drift.drifted_features }
        : null,
      dataQuality: {
        broken: dq.broken,
        checks: dq.checks.map((c) => ({ check: c.check, kind: c.kind, feature: c.feature, detail: c.detail })),
      },
      // Unlabelled windows cost nothing measurable; a version without a fresh quality is not priced.
      stalenessCost:
        costModel && realised !== null && fresh !== null
          ? costModel.valuePerQualityUnit * rows.length * Math.max(0, fresh - realised)
          : null,
      trueCost: costModel && hindsight !== null ? costModel.valuePerQualityUnit * rows.length * (1 - hindsight) : null,
    });
    const windowRecord = windows.at(-1) as BacktestWindow;

    const decision: BacktestDecision = {
      time: end,
      kind: tick.decision.kind,
      reason: reasonWithoutVerdict(tick.decision.reason),
      version: current.version,
    };
    if (tick.decision.kind === 'retrain') {
      const w = tick.decision.trainingWindow;
      const from = w.start === null ? 0 : lowerBound(history, w.start);
      const to = lowerBound(history, w.end);
      const windowRows = history.slice(from, Math.min(to, endIndex));
      // As in production: only labels that had arrived by the decision can be trained on.
      const trainingRows = windowRows.filter((r) => r.label !== null && arrivalOf(r) < end);
      // The seed depends on nothing but the options, so one training window always gives one model.
      const trained = trainVersion(trainer, trainingRows, numeric, categorical, seed, validationShare, settings);
      if ('error' in trained) {
        failedRetrains += 1;
        decision.kind = 'retrain-failed';
        decision.reason = `${decision.reason}; training failed: ${trained.error}`;
        decision.retrain = {
          newVersion: null,
          trainingStart: w.start,
          trainingEnd: w.end,
          trainingRows: 0,
          validationRows: 0,
          windowRows: windowRows.length,
          freshQuality: null,
          error: trained.error,
        };
        // As the workflow does after a failed Retrain: the attempt starts the cooldown and uses budget.
        state = { ...state, lastRetrainAt: end, recentRetrains: [...state.recentRetrains, end].slice(-50) };
      } else {
        retrains += 1;
        const version = `v${versions.filter((v) => v.source === 'trainer').length + 1}`;
        serving = { version, model: trained.model };
        versions.push({
          version,
          trainedAt: end,
          freshQuality: trained.freshQuality,
          source: 'trainer',
          trainingRows: trained.trainingRows,
          validationRows: trained.validationRows,
        });
        state = startVersion(state, version, end, trained.freshQuality, end, end);
        state = { ...state, approval: { status: 'none' } };
        probes.drop();
        // The new version's reference is the data of its training window, scored by itself.
        reference = buildReference(
          `${version}@${end}`,
          version,
          windowRows,
          windowRows.map((r) => clampProbability(trained.model.predict(r.features))),
          numeric,
          categorical,
          (r) => r.label !== null && arrivalOf(r) < end,
          threshold,
          settings.qualityMetric,
        );
        decision.retrain = {
          newVersion: version,
          trainingStart: w.start,
          trainingEnd: w.end,
          trainingRows: trained.trainingRows,
          validationRows: trained.validationRows,
          windowRows: windowRows.length,
          freshQuality: trained.freshQuality,
        };
      }
    }
    if (tick.decision.kind !== 'retrain' && tick.decision.probe !== undefined) {
      // The challenger trains on what a retrain would: the decision's window, labels arrived by now.
      const w = tick.decision.trainingWindow;
      const from = w.start === null ? 0 : lowerBound(history, w.start);
      const to = Math.min(lowerBound(history, w.end), endIndex);
      const trainingRows = history.slice(from, to).filter((r) => r.label !== null && arrivalOf(r) < end);
      const started = probes.start(
        state,
        tick.decision,
        trainingRows,
        (rows) => trainVersion(trainer, rows, numeric, categorical, seed, validationShare, settings),
        end,
      );
      state = started.state;
      if (started.record !== null)
        probeRecord = probeRecord === null ? started.record : { ...probeRecord, ...started.record, id: probeRecord.id };
    }
    if (probeRecord !== null) windowRecord.probe = probeRecord;
    decisions.push(decision);
    options.onWindow?.({ windows: windows.length, rows: endIndex, retrains, time: end });
    windowStart = end;
    windowFirstIndex = endIndex;
  };

  /** Close every window that ends at or before `time` (rows at `time` belong to a later window). */
  const advanceTo = (time: number, index: number): void => {
    let empty = 0;
    for (let end = windowEndByTime(windowing, windowStart); end !== null && time >= end;) {
      closeWindow(end, index);
      end = windowEndByTime(windowing, windowStart);
      if (++empty > MAX_EMPTY_WINDOWS)
        throw new BacktestInputError(
          `row ${index + 1}: more than ${MAX_EMPTY_WINDOWS} empty windows before it; is the timestamp in the unit you think (seconds vs milliseconds)?`,
        );
    }
  };

  let previousTime = Number.NEGATIVE_INFINITY;
  for await (const row of options.rows) {
    const index = history.length;
    if (!Number.isFinite(row.time)) throw new BacktestInputError(`row ${index + 1}: timestamp is not a finite instant`);
    if (row.time < previousTime)
      throw new BacktestInputError(
        `row ${index + 1}: rows must be in time order (${new Date(row.time).toISOString()} comes after ${new Date(previousTime).toISOString()})`,
      );
    const previousRowTime = previousTime;
    previousTime = row.time;
    if (origin === null) {
      origin = windowingOrigin(windowing, row.time);
    }
    const referenceEnd = origin + referenceWindowMs;
    if (!monitoring && row.time >= referenceEnd) {
      windowFirstIndex = index;
      startMonitoring(referenceEnd);
    }
    if (monitoring) advanceTo(row.time, index);
    // By row count: a full window closes when the next row arrives, at that row's instant.
    if (monitoring && windowing.kind === 'rows' && index - windowFirstIndex >= windowing.rows)
      closeWindow(Math.max(row.time, previousRowTime + 1), index);
    history.push(row);
    if (row.label !== null) labelledRows += 1;
  }
  if (origin === null) throw new BacktestInputError('no rows to backtest');
  if (!monitoring)
    throw new BacktestInputError(
      `all ${history.length} rows fall in the reference period (the first ${formatHours(referenceWindowMs)}); nothing is left to backtest: shorten the reference or give more data`,
    );
  if (history.length > windowFirstIndex)
    closeWindow(windowEndByTime(windowing, windowStart) ?? previousTime + 1, history.length);

  const stalenessCost = costModel ? windows.reduce((s, w) => s + (w.stalenessCost ?? 0), 0) : null;
  const retrainCost = costModel ? retrains * (costModel.retrainCost + costModel.riskCost) : null;
  // A retrain decided as the last window closed serves nothing: flagged, and not charged in true cost.
  const lastEnd = windows.at(-1)?.end ?? null;
  let servingNothing = 0;
  for (const d of decisions)
    if (d.kind === 'retrain' && d.time === lastEnd && d.retrain) {
      d.retrain.servesNothing = true;
      servingNothing += 1;
    }
  const trueParts = costModel
    ? {
        staleness: windows.reduce((s, w) => s + (w.trueCost ?? 0), 0),
        retrains: (retrains - servingNothing) * (costModel.retrainCost + costModel.riskCost),
        retrainsServingNothing: servingNothing,
        unlabelledWindows: windows.filter((w) => w.hindsightQuality === null).length,
        probes: probes.started,
        probeCost: probes.started * probes.probeCost,
      }
    : null;
  return {
    model: policy.model,
    policy: { name: policy.name, version: policy.version, trigger: policy.trigger.kind },
    trainer: trainer.name,
    cadenceMs,
    reference: referenceInfo,
    rows: history.length,
    labelledRows,
    decisions,
    retrains,
    failedRetrains,
    windows,
    versions,
    costModel,
    stalenessCost,
    retrainCost,
    totalCost: stalenessCost !== null && retrainCost !== null ? stalenessCost + retrainCost : null,
    trueCost: trueParts === null ? null : trueParts.staleness + trueParts.retrains + trueParts.probeCost,
    trueCostParts: trueParts,
    labelDelayMs,
    probes: probes.started,
  };
}

/**
 * Train on the labelled rows of a training window: every k-th row (k = 1/validationShare) is held
 * out to measure the fresh version's quality, the rest train the model.
 */
export function trainVersion(
  trainer: BacktestTrainer,
  rows: readonly BacktestRow[],
  numeric: readonly string[],
  categorical: readonly string[],
  seed: number,
  validationShare: number,
  settings: Pick<MonitorSettings, 'qualityMetric'>,
):
  | { model: BacktestModel; freshQuality: number | null; trainingRows: number; validationRows: number }
  | { error: string } {
  const labelled = rows.filter((r) => r.label !== null);
  if (labelled.length < MIN_TRAINING_ROWS)
    return { error: `only ${labelled.length} labelled rows in the training window (need ${MIN_TRAINING_ROWS})` };
  const every = validationShare > 0 ? Math.max(2, Math.round(1 / validationShare)) : 0;
  const train: BacktestRow[] = [];
  const holdout: BacktestRow[] = [];
  labelled.forEach((r, i) => (every > 0 && i % every === every - 1 ? holdout : train).push(r));
  const positives = train.reduce((s, r) => s + (r.label === 1 ? 1 : 0), 0);
  if (positives === 0 || positives === train.length)
    return {
      error: `the training window has a single class (${train.length} rows, all labelled ${positives === 0 ? 0 : 1})`,
    };
  let model: BacktestModel;
  try {
    model = trainer.train({ rows: train, numeric, categorical }, seed);
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
  const check = holdout.length > 0 ? holdout : train;
  const freshQuality = qualityOf(
    check.map((r) => clampProbability(model.predict(r.features))),
    check.map((r) => r.label),
    settings,
  );
  return { model, freshQuality, trainingRows: train.length, validationRows: holdout.length };
}

/** Realised quality (the monitor's metric, from the same histogram form) of scored rows; null without labels. */
export function qualityOf(
  scores: readonly number[],
  labels: readonly (0 | 1 | null)[],
  settings: Pick<MonitorSettings, 'qualityMetric'>,
): number | null {
  const s: number[] = [];
  const y: number[] = [];
  labels.forEach((label, i) => {
    if (label === null) return;
    y.push(label);
    s.push(scores[i] as number);
  });
  if (y.length === 0) return null;
  const q = qualityFromScoreHistogram(buildScoreHistogram(y, s));
  return settings.qualityMetric === 'auc' ? q.rocAuc.value : q.threshold.accuracy.value;
}

/** Labels of the labelled rows (those `use` keeps) and the scores given to those same rows. */
function labelledPairs(
  rows: readonly BacktestRow[],
  scores: readonly number[],
  use: (row: BacktestRow, index: number) => boolean = () => true,
): { labels: number[]; labelledScores: number[] } {
  const labels: number[] = [];
  const labelledScores: number[] = [];
  rows.forEach((r, i) => {
    if (r.label === null || !use(r, i)) return;
    labels.push(r.label);
    labelledScores.push(scores[i] as number);
  });
  return { labels, labelledScores };
}

/** The reference of a version: profiles of its features and scores, and CBPE when enough labels (those `known`). */
function buildReference(
  referenceId: string,
  version: string,
  rows: readonly BacktestRow[],
  scores: readonly number[],
  numeric: readonly string[],
  categorical: readonly string[],
  known: (row: BacktestRow) => boolean,
  /** The version's decision threshold; null: none recorded (0.5). */
  threshold: number | null,
  metric: MonitorSettings['qualityMetric'],
): Reference {
  const features: MonitorReference['features'] = {};
  for (const name of numeric) features[name] = numericReferenceProfile(numericColumn(rows, name));
  for (const name of categorical) features[name] = categoricalProfile(rows.map((r) => r.features[name] ?? null));
  const { labels, labelledScores } = labelledPairs(rows, scores, known);
  let cbpe: MonitorReference['cbpe'] = null;
  if (labels.length >= MIN_CBPE_REFERENCE) {
    try {
      cbpe = fitCbpe(labels, labelledScores, { threshold: threshold ?? DEFAULT_DECISION_THRESHOLD });
    } catch {
      cbpe = null; // e.g. a single class: the monitor then has realised quality only
    }
  }
  return {
    profiles: {
      referenceId,
      modelVersion: version,
      features,
      prediction: scores.length > 0 ? numericReferenceProfile(scores) : null,
      cbpe,
      decisionThreshold:
        threshold === null
          ? { value: DEFAULT_DECISION_THRESHOLD, source: 'default' }
          : { value: threshold, source: 'version' },
    },
    rows: rows.length,
    estimateOnReference: estimateOnReference(cbpe, scores, metric),
  };
}

/** The estimator's estimate of `metric` over the reference's scores; null without an estimator. */
function estimateOnReference(
  cbpe: MonitorReference['cbpe'],
  scores: readonly number[],
  metric: MonitorSettings['qualityMetric'],
): number | null {
  if (!cbpe || scores.length === 0) return null;
  const estimate = estimateCbpe(cbpe, scores);
  return metric === 'auc' ? estimate.rocAuc : estimate.accuracy;
}

/** The window's aggregates, as `collectWindow` computes them in ClickHouse (the labels: those that had `arrived`). */
function buildObservation(
  start: number,
  end: number,
  rows: readonly BacktestRow[],
  scores: readonly number[],
  arrived: readonly boolean[],
  late: readonly PendingLabel[],
  withReference: Reference | null,
  version: string,
  trainedAt: number | null,
): WindowObservation {
  const reference = withReference?.profiles ?? null;
  const features: Record<string, NumericCounts | CategoricalProfile> = {};
  const topValues: Record<string, { value: number; share: number } | null> = {};
  if (reference) {
    for (const [name, profile] of Object.entries(reference.features)) {
      if (profile.kind === 'numeric') {
        const column = numericColumn(rows, name);
        features[name] = numericWindowCounts(column, profile.cuts);
        // Counted for every feature here (in process it is cheap); SQL counts it for candidates only.
        topValues[name] = topValueOf(column.map((v) => (v === null ? Number.NaN : v)));
      } else features[name] = categoricalProfile(rows.map((r) => r.features[name] ?? null));
    }
  }
  const bins = DEFAULT_SCORE_HISTOGRAM_BINS;
  const scoreHistogram = new Array<number>(bins).fill(0);
  for (const p of scores) {
    const b = equalWidthBin(p, bins);
    scoreHistogram[b] = (scoreHistogram[b] as number) + 1;
  }
  const { labels, labelledScores } = labelledPairs(rows, scores, (_r, i) => arrived[i] === true);
  const predictionProfile: NumericReferenceProfile | null = reference?.prediction ?? null;
  const prediction = predictionProfile ? numericWindowCounts(scores, predictionProfile.cuts) : null;
  const quality =
    reference && withReference
      ? windowQualityCounts(
          {
            features: reference.features,
            prediction: reference.prediction,
            predictionClass: null,
            predictionValue: null,
            cappedCategorical: [],
            rowCount: withReference.rows,
          },
          { rows: rows.length, features, prediction, predictionClass: null, predictionValue: null, typeViolations: {} },
          topValues,
        )
      : null;
  return {
    start,
    end,
    events: rows.length,
    versions: rows.length > 0 ? [{ version, events: rows.length, trainedAt }] : [],
    deadLettered: 0,
    features,
    prediction,
    scoreHistogram: rows.length > 0 ? scoreHistogram : null,
    quality,
    labelled:
      labels.length > 0
        ? { events: labels.length, histogram: buildScoreHistogram(labels, labelledScores), labelDelayHoursP50: null }
        : null,
    labelsArrivedBy: end,
    lateLabelled: lateLabelsByWindow(late),
    estimationGroups: estimationGroupsOf(reference, scores),
  };
}

/** The window's scores grouped as the window query groups them for the reference's estimator. */
function estimationGroupsOf(
  reference: MonitorReference | null,
  scores: readonly number[],
): WindowObservation['estimationGroups'] {
  const grouping = windowEstimationGrouping(reference);
  if (!grouping || !reference?.cbpe || scores.length === 0) return null;
  const [low, high] = reference.cbpe.referenceScoreRange;
  return {
    grouping,
    groups: groupScores(grouping, scores),
    outside: scores.filter((s) => s < low || s > high).length,
  };
}

/** Late labels grouped into one labelled histogram per window start, oldest first. */
function lateLabelsByWindow(late: readonly PendingLabel[]): NonNullable<WindowObservation['lateLabelled']> {
  const byWindow = new Map<number, { labels: number[]; scores: number[] }>();
  for (const l of late) {
    const entry = byWindow.get(l.windowStart) ?? { labels: [], scores: [] };
    entry.labels.push(l.label);
    entry.scores.push(l.score);
    byWindow.set(l.windowStart, entry);
  }
  return [...byWindow]
    .sort(([a], [b]) => a - b)
    .map(([start, e]) => {
      const h = buildScoreHistogram(e.labels, e.scores);
      return { start, events: e.labels.length, histogram: { positives: h.positives, negatives: h.negatives } };
    });
}

function numericColumn(rows: readonly BacktestRow[], name: string): (number | null)[] {
  return rows.map((r) => {
    const v = r.features[name];
    return typeof v === 'number' ? v : v === null || v === undefined || v === '' ? null : Number(v);
  });
}

/** First index whose time is ≥ `time` (history is sorted by time). */
function lowerBound(rows: readonly BacktestRow[], time: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((rows[mid] as BacktestRow).time < time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function clampProbability(p: number): number {
  return Number.isFinite(p) ? Math.min(1, Math.max(0, p)) : 0.5;
}

function formatHours(ms: number): string {
  const h = ms / 3_600_000;
  return h >= 48 && h % 24 === 0 ? `${h / 24} d` : `${h} h`;
}
