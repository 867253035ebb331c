/**
 * The backtest engine for multiclass and regression models: the binary engine's replay
 * (engine.ts: windows cut as the monitor cuts them, labels arriving when they would, the policy's
 * decisions acted on at once, every trained version promoted) with what these kinds need in place
 * of scores:
 *
 * - each window's labelled outcomes are summed as the monitor's window query sums them
 *   (outcome-rows.ts), so quality, pooling, late labels and decay fits run on the policy's metric
 *   (accuracy, macro-F1, log loss; MAE, RMSE, R²) turned into quality as in the monitor;
 * - the label-free estimate is the monitor's: multiclass CBPE from the window's calibrated
 *   probability sums, DLE on the window's rows, each fitted on the labelled reference of the
 *   version serving (DLE only for windows whose labels fall short of the policy's minimum: its
 *   fit is the costly part);
 * - retrains train the trainer given (the built-in multinomial logistic or ridge regression) on
 *   the training window's arrived labels, every fifth held out for the fresh version's quality.
 *
 * Challenger probes pair binary correctness and do not run here (as in the monitor, whose
 * policies naming a quality metric run none). The report has the binary engine's shape.
 */
import { categoricalProfile, numericReferenceProfile, numericWindowCounts, topValueOf } from '../drift/profiles.ts';
import type { CategoricalProfile, NumericCounts } from '../drift/profiles.ts';
import { windowQualityCounts } from '../drift/window-comparison.ts';
import { OTHER_CATEGORY } from '../drift/categories.ts';
import { initialMonitorState, monitorTick, startVersion, tickSettings } from '../monitor/tick.ts';
import { DEFAULT_MONITOR_SETTINGS } from '../monitor/types.ts';
import type { MonitorReference, MonitorSettings, MonitorState, WindowObservation } from '../monitor/types.ts';
import { resolveEvidence } from '../policy/evidence.ts';
import { fitMulticlassCbpe, type MulticlassCbpeModel } from '../quality/cbpe-multiclass.ts';
import { estimateMulticlassFromSums, multiclassEstimationSums } from '../quality/cbpe-multiclass-sums.ts';
import { estimateDle, fitDle, type DleModel } from '../quality/dle.ts';
import {
  multiclassOutcomeEstimate,
  regressionOutcomeEstimate,
  unavailableOutcomeEstimate,
  type OutcomeEstimate,
} from '../quality/outcome-estimate.ts';
import { outcomeEvents, realisedFromSums, type OutcomeSums } from '../quality/outcome-sums.ts';
import { metricProblem, qualityOfMetric } from '../quality/quality-metric.ts';
import { BacktestInputError, reasonWithoutVerdict } from './engine.ts';
import {
  addOutcome,
  emptyOutcomeSums,
  outcomeSumsOf,
  type OutcomeKind,
  type OutcomePrediction,
} from './outcome-rows.ts';
import type { BacktestCostModel, BacktestDecision, BacktestReport, BacktestVersion, BacktestWindow } from './types.ts';
import { windowEndByTime, windowingOrigin, type BacktestWindowing } from './windowing.ts';

/** One event of a multiclass or regression history. */
export interface OutcomeBacktestRow {
  /** Epoch milliseconds; rows in non-decreasing time order. */
  time: number;
  features: Readonly<Record<string, number | string | null>>;
  /** The serving model's prediction from the file (probabilities in class order, or a value); null without. */
  prediction: OutcomePrediction | null;
  /** The true class's index (multiclass) or the true value (regression); null when never labelled. */
  label: number | null;
  /** When the label arrived (epoch ms). @default undefined (`time` + `labelDelayMs`) */
  labelTime?: number | null;
}

export interface OutcomeModel {
  predict(features: OutcomeBacktestRow['features']): OutcomePrediction;
}

/** Trains a model in process, deterministically for a training set and seed. */
export interface OutcomeTrainer {
  readonly name: string;
  train(
    data: { rows: readonly OutcomeBacktestRow[]; numeric: readonly string[]; categorical: readonly string[] },
    seed: number,
  ): OutcomeModel;
}

export interface OutcomeBacktestOptions {
  kind: OutcomeKind;
  rows: Iterable<OutcomeBacktestRow> | AsyncIterable<OutcomeBacktestRow>;
  numeric: readonly string[];
  /** @default [] */
  categorical?: readonly string[];
  /** Whether rows carry the serving model's prediction; if not, the first model is trained on the reference period. */
  hasPrediction: boolean;
  /** Must name a `quality.metric` of the model's kind (and `worthlessError` for MAE and RMSE). */
  policy: Parameters<typeof monitorTick>[3];
  cadenceMs: number;
  /** @default { kind: 'duration', ms: cadenceMs } */
  windowing?: BacktestWindowing;
  referenceWindowMs: number;
  trainer: OutcomeTrainer;
  /** @default null */
  costModel?: BacktestCostModel | null;
  /** @default DEFAULT_MONITOR_SETTINGS */
  settings?: Partial<MonitorSettings>;
  /** @default 1 */
  seed?: number;
  /** @default 0.2 */
  validationShare?: number;
  /** @default 0 */
  labelDelayMs?: number;
  onWindow?: (done: { windows: number; rows: number; retrains: number; time: number }) => void;
}

/** Fewest labelled rows a training window needs. */
const MIN_TRAINING_ROWS = 20;
const MAX_EMPTY_WINDOWS = 100_000;

interface Serving {
  version: string;
  model: OutcomeModel | null;
}

/** A version's reference: profiles, its labelled rows, and the estimator fitted on them when first needed. */
interface Reference {
  profiles: MonitorReference;
  rows: number;
  labelled: { features: OutcomeBacktestRow['features'][]; predictions: OutcomePrediction[]; labels: number[] };
  estimator?: { multiclass: MulticlassCbpeModel } | { regression: DleModel } | { reasons: string[] };
}

interface PendingOutcome {
  arrival: number;
  windowStart: number;
  prediction: OutcomePrediction;
  label: number;
}

export async function runOutcomeBacktest(options: OutcomeBacktestOptions): Promise<BacktestReport> {
  const { policy, cadenceMs, referenceWindowMs, trainer, hasPrediction, kind } = options;
  const windowing: BacktestWindowing = options.windowing ?? { kind: 'duration', ms: cadenceMs };
  if (windowing.kind === 'duration' && !(windowing.ms > 0))
    throw new BacktestInputError(`cadence must be longer than zero, got ${windowing.ms} ms`);
  if (!(referenceWindowMs > 0))
    throw new BacktestInputError(`reference window must be longer than zero, got ${referenceWindowMs} ms`);
  const numeric = [...options.numeric];
  const categorical = [...(options.categorical ?? [])];
  const base: MonitorSettings = { ...DEFAULT_MONITOR_SETTINGS, ...options.settings };
  // The policy's metric, as the tick will read it (a model of these kinds has no other).
  const settings = tickSettings(base, policy, { outcomes: emptyOutcomeSums(kind) });
  const metric = settings.qualityMetric;
  const worthless = settings.worthlessError ?? null;
  const problem = metricProblem(kind.kind, metric, worthless);
  if (problem !== null) throw new BacktestInputError(`policy ${policy.name}: ${problem}`);
  const qualityOfSums = (sums: OutcomeSums): number | null => {
    const figure = realisedFromSums(metric, sums);
    return figure?.value === null || figure?.value === undefined || figure.n === 0
      ? null
      : qualityOfMetric(metric, figure.value, worthless);
  };
  const minLabelled = resolveEvidence(policy.evidence, numeric.length + categorical.length).minLabelledEvents;
  const costModel = options.costModel ? { ...options.costModel, riskCost: options.costModel.riskCost ?? 0 } : null;
  const validationShare = options.validationShare ?? 0.2;
  const seed = options.seed ?? 1;
  const labelDelayMs = options.labelDelayMs ?? 0;
  if (!(labelDelayMs >= 0)) throw new BacktestInputError(`label delay must be zero or more, got ${labelDelayMs} ms`);
  const arrivalOf = (row: OutcomeBacktestRow): number => row.labelTime ?? row.time + labelDelayMs;
  let inFlight: PendingOutcome[] = [];

  const history: OutcomeBacktestRow[] = [];
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
  let windowStart = 0;
  let windowFirstIndex = 0;
  let monitoring = false;

  const predict = (row: OutcomeBacktestRow, index: number): OutcomePrediction => {
    if (serving?.model) return serving.model.predict(row.features);
    if (row.prediction === null)
      throw new BacktestInputError(`row ${index + 1}: no prediction, and the file's model is the one serving`);
    return row.prediction;
  };

  /** Train on the labelled rows given: every k-th held out for the fresh quality. */
  const trainVersion = (
    rows: readonly OutcomeBacktestRow[],
  ):
    | { model: OutcomeModel; freshQuality: number | null; trainingRows: number; validationRows: number }
    | { error: string } => {
    const labelled = rows.filter((r) => r.label !== null);
    if (labelled.length < MIN_TRAINING_ROWS)
      return { error: `only ${labelled.length} labelled rows in the training window (need ${MIN_TRAINING_ROWS})` };
    const every = validationShare > 0 ? Math.max(2, Math.round(1 / validationShare)) : 0;
    const train: OutcomeBacktestRow[] = [];
    const holdout: OutcomeBacktestRow[] = [];
    labelled.forEach((r, i) => (every > 0 && i % every === every - 1 ? holdout : train).push(r));
    if (kind.kind === 'multiclass' && new Set(train.map((r) => r.label)).size < 2)
      return { error: `the training window has a single class (${train.length} rows)` };
    let model: OutcomeModel;
    try {
      model = trainer.train({ rows: train, numeric, categorical }, seed);
    } catch (err) {
      return { error: err instanceof Error ? err.message : String(err) };
    }
    const check = holdout.length > 0 ? holdout : train;
    const fresh = qualityOfSums(
      outcomeSumsOf(
        kind,
        check.map((r) => ({ prediction: model.predict(r.features), label: r.label as number })),
      ),
    );
    return { model, freshQuality: fresh, trainingRows: train.length, validationRows: holdout.length };
  };

  const buildReference = (
    id: string,
    version: string,
    rows: readonly OutcomeBacktestRow[],
    predictions: readonly OutcomePrediction[],
    known: (row: OutcomeBacktestRow) => boolean,
  ): Reference => {
    const features: MonitorReference['features'] = {};
    for (const name of numeric) features[name] = numericReferenceProfile(numericColumn(rows, name));
    for (const name of categorical) features[name] = categoricalProfile(rows.map((r) => r.features[name] ?? null));
    const labelled: Reference['labelled'] = { features: [], predictions: [], labels: [] };
    rows.forEach((r, i) => {
      if (r.label === null || !known(r)) return;
      labelled.features.push(r.features);
      labelled.predictions.push(predictions[i] as OutcomePrediction);
      labelled.labels.push(r.label);
    });
    return {
      profiles: { referenceId: id, modelVersion: version, features, prediction: null, cbpe: null },
      rows: rows.length,
      labelled,
    };
  };

  /** The window's label-free estimate with the reference's estimator (fitted on first use). */
  const estimateWindow = (
    ref: Reference,
    rows: readonly OutcomeBacktestRow[],
    predictions: readonly OutcomePrediction[],
  ): OutcomeEstimate => {
    if (!ref.estimator) {
      const { labels, predictions: p, features } = ref.labelled;
      try {
        if (labels.length === 0) ref.estimator = { reasons: ['no estimator: the reference has no labelled rows'] };
        else if (kind.kind === 'multiclass') ref.estimator = { multiclass: fitMulticlassCbpe(labels, p as number[][]) };
        else
          ref.estimator = {
            regression: fitDle(
              { features: features.map((f) => encodeFeatures(f, ref.profiles)), predictions: p as number[] },
              labels,
              { categoricalFeatures: categorical.map((_, j) => numeric.length + j) },
            ),
          };
      } catch (err) {
        ref.estimator = { reasons: [`no estimator: ${err instanceof Error ? err.message : String(err)}`] };
      }
    }
    const estimator = ref.estimator;
    if ('reasons' in estimator) return unavailableOutcomeEstimate(kind.kind, rows.length, estimator.reasons);
    if ('multiclass' in estimator)
      return multiclassOutcomeEstimate(
        estimateMulticlassFromSums(
          estimator.multiclass,
          multiclassEstimationSums(estimator.multiclass, predictions as number[][]),
        ),
        rows.length,
      );
    return regressionOutcomeEstimate(
      estimateDle(estimator.regression, {
        features: rows.map((r) => encodeFeatures(r.features, ref.profiles)),
        predictions: predictions as number[],
      }),
      rows.length,
    );
  };

  const startMonitoring = (referenceEnd: number): void => {
    const rows = history.slice(0, windowFirstIndex);
    const start = origin as number;
    referenceInfo = { start, end: referenceEnd, rows: rows.length };
    const known = (r: OutcomeBacktestRow) => r.label !== null && arrivalOf(r) < referenceEnd;
    if (hasPrediction) {
      serving = { version: 'file', model: null };
      const predictions = rows.map((r, i) => predict(r, i));
      const fresh = qualityOfSums(
        outcomeSumsOf(
          kind,
          rows.flatMap((r, i) => (known(r) ? [{ prediction: predictions[i]!, label: r.label as number }] : [])),
        ),
      );
      versions.push({
        version: 'file',
        trainedAt: start,
        freshQuality: fresh,
        source: 'file',
        trainingRows: 0,
        validationRows: 0,
      });
      state = startVersion(state, 'file', start, fresh, null, start);
    } else {
      const trained = trainVersion(rows.filter(known));
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
      rows.map((r, i) => predict(r, i)),
      known,
    );
    monitoring = true;
    windowStart = referenceEnd;
  };

  const closeWindow = (end: number, endIndex: number): void => {
    const rows = history.slice(windowFirstIndex, endIndex);
    const current = serving as Serving;
    const predictions = rows.map((r, i) => predict(r, windowFirstIndex + i));
    // Labels arrived by the close count now; the rest arrive later at an earlier window.
    const late = inFlight.filter((l) => l.arrival < end);
    inFlight = inFlight.filter((l) => l.arrival >= end);
    const sums = emptyOutcomeSums(kind);
    const all = emptyOutcomeSums(kind);
    rows.forEach((r, i) => {
      if (r.label === null) return;
      const outcome = { prediction: predictions[i]!, label: r.label };
      addOutcome(all, outcome);
      if (arrivalOf(r) < end) addOutcome(sums, outcome);
      else inFlight.push({ arrival: arrivalOf(r), windowStart, ...outcome });
    });
    const lateByWindow = new Map<number, OutcomeSums>();
    for (const l of late) {
      const s = lateByWindow.get(l.windowStart) ?? emptyOutcomeSums(kind);
      addOutcome(s, l);
      lateByWindow.set(l.windowStart, s);
    }
    const ref = reference as Reference | null;
    // DLE is fitted only for windows whose own labels fall short (the multiclass estimate costs a pass).
    const needsEstimate = kind.kind === 'multiclass' || outcomeEvents(sums) < minLabelled;
    const observation: WindowObservation = {
      ...featureObservation(windowStart, end, rows, ref, current.version, state.versionTrainedAt),
      outcomes: sums,
      lateOutcomes: [...lateByWindow].sort(([a], [b]) => a - b).map(([start, s]) => ({ start, sums: s })),
      outcomeEstimate:
        ref === null
          ? null
          : needsEstimate
            ? estimateWindow(ref, rows, predictions)
            : unavailableOutcomeEstimate(kind.kind, rows.length, ["not estimated: the window's labels suffice"]),
    };
    if (policy.guards.approval.required)
      state = { ...state, approval: { status: 'approved', by: 'backtest', at: end } };
    const tick = monitorTick(state, ref?.profiles ?? null, observation, policy, end, base);
    state = tick.state;
    const realised = tick.evaluation.quality.realised?.value ?? null;
    const fresh = state.freshQuality;
    const drift = tick.evaluation.drift;
    const hindsight = qualityOfSums(all);
    const dq = tick.evaluation.dataQuality;
    windows.push({
      start: windowStart,
      end,
      events: rows.length,
      labelled: rows.filter((r) => r.label !== null).length,
      labelledAtClose: outcomeEvents(sums),
      version: current.version,
      quality: realised,
      hindsightQuality: hindsight,
      estimatedQuality: tick.evaluation.quality.estimated?.value ?? null,
      estimate: null,
      qualityUsed: tick.evaluation.quality.used,
      ...(tick.evaluation.quality.reason === undefined ? {} : { qualityReason: tick.evaluation.quality.reason }),
      drift: drift
        ? { detected: drift.dataset_drift, driftedShare: drift.share_drifted, driftedFeatures: drift.drifted_features }
        : null,
      dataQuality: {
        broken: dq.broken,
        checks: dq.checks.map((c) => ({ check: c.check, kind: c.kind, feature: c.feature, detail: c.detail })),
      },
      stalenessCost:
        costModel && realised !== null && fresh !== null
          ? costModel.valuePerQualityUnit * rows.length * Math.max(0, fresh - realised)
          : null,
      trueCost: costModel && hindsight !== null ? costModel.valuePerQualityUnit * rows.length * (1 - hindsight) : null,
    });

    const decision: BacktestDecision = {
      time: end,
      kind: tick.decision.kind,
      reason: reasonWithoutVerdict(tick.decision.reason),
      version: current.version,
    };
    if (tick.decision.kind === 'retrain') {
      const w = tick.decision.trainingWindow;
      const from = w.start === null ? 0 : lowerBound(history, w.start);
      const windowRows = history.slice(from, Math.min(lowerBound(history, w.end), endIndex));
      const trained = trainVersion(windowRows.filter((r) => r.label !== null && arrivalOf(r) < end));
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
        // The new version's reference: its training window, predicted by itself.
        reference = buildReference(
          `${version}@${end}`,
          version,
          windowRows,
          windowRows.map((r) => trained.model.predict(r.features)),
          (r) => r.label !== null && arrivalOf(r) < end,
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
    decisions.push(decision);
    options.onWindow?.({ windows: windows.length, rows: endIndex, retrains, time: end });
    windowStart = end;
    windowFirstIndex = endIndex;
  };

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
    if (origin === null) origin = windowingOrigin(windowing, row.time);
    const referenceEnd = origin + referenceWindowMs;
    if (!monitoring && row.time >= referenceEnd) {
      windowFirstIndex = index;
      startMonitoring(referenceEnd);
    }
    if (monitoring) advanceTo(row.time, index);
    if (monitoring && windowing.kind === 'rows' && index - windowFirstIndex >= windowing.rows)
      closeWindow(Math.max(row.time, previousRowTime + 1), index);
    history.push(row);
    if (row.label !== null) labelledRows += 1;
  }
  if (origin === null) throw new BacktestInputError('no rows to backtest');
  if (!monitoring)
    throw new BacktestInputError(
      `all ${history.length} rows fall in the reference period; nothing is left to backtest: shorten the reference or give more data`,
    );
  if (history.length > windowFirstIndex)
    closeWindow(windowEndByTime(windowing, windowStart) ?? previousTime + 1, history.length);

  const stalenessCost = costModel ? windows.reduce((s, w) => s + (w.stalenessCost ?? 0), 0) : null;
  const retrainCost = costModel ? retrains * (costModel.retrainCost + costModel.riskCost) : null;
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
        probes: 0,
        probeCost: 0,
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
    trueCost: trueParts === null ? null : trueParts.staleness + trueParts.retrains,
    trueCostParts: trueParts,
    labelDelayMs,
    probes: 0,
  };
}

/** The window's feature counts over the reference's bins, as the monitor's window query returns them. */
function featureObservation(
  start: number,
  end: number,
  rows: readonly OutcomeBacktestRow[],
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
        topValues[name] = topValueOf(column.map((v) => (v === null ? Number.NaN : v)));
      } else features[name] = categoricalProfile(rows.map((r) => r.features[name] ?? null));
    }
  }
  const quality =
    reference && withReference
      ? windowQualityCounts(
          {
            features: reference.features,
            prediction: null,
            predictionClass: null,
            predictionValue: null,
            cappedCategorical: [],
            rowCount: withReference.rows,
          },
          {
            rows: rows.length,
            features,
            prediction: null,
            predictionClass: null,
            predictionValue: null,
            typeViolations: {},
          },
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
    prediction: null,
    scoreHistogram: null,
    quality,
    labelled: null,
    labelsArrivedBy: end,
    lateLabelled: null,
  };
}

/** A row as DLE's loss models read it: numeric features (NaN missing), then category codes of the reference's categories. */
function encodeFeatures(features: OutcomeBacktestRow['features'], reference: MonitorReference): number[] {
  const numeric: number[] = [];
  const codes: number[] = [];
  for (const [name, profile] of Object.entries(reference.features)) {
    const v = features[name];
    if (profile.kind === 'numeric') {
      const x = typeof v === 'number' ? v : v === null || v === undefined || v === '' ? Number.NaN : Number(v);
      numeric.push(Number.isFinite(x) ? x : Number.NaN);
      continue;
    }
    const known = Object.keys(profile.counts).sort();
    const index = v === null || v === undefined ? -1 : known.indexOf(String(v));
    const other = known.indexOf(OTHER_CATEGORY);
    codes.push(index >= 0 ? index : v !== null && v !== undefined && other >= 0 ? other : Number.NaN);
  }
  return [...numeric, ...codes];
}

function numericColumn(rows: readonly OutcomeBacktestRow[], name: string): (number | null)[] {
  return rows.map((r) => {
    const v = r.features[name];
    return typeof v === 'number' ? v : v === null || v === undefined || v === '' ? null : Number(v);
  });
}

function lowerBound(rows: readonly OutcomeBacktestRow[], time: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((rows[mid] as OutcomeBacktestRow).time < time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
