/**
 * The backtest's one replay: a labelled history through the monitor's own tick, for every model
 * kind (what differs by kind — predictions, quality, references, the window's observation,
 * probes — comes from a `BacktestKind`: binary-kind.ts, outcome-kind.ts).
 *
 * The history is cut into windows (windowing.ts; by default cadence-long, aligned to the epoch as
 * the ModelMonitor workflow aligns its windows). The first `referenceWindowMs` is the reference
 * period: it is profiled into the reference the windows are compared with, and — when the file
 * has no predictions — the first model is trained on it. Every later window becomes the
 * `WindowObservation` the workflow's statistics activity returns from ClickHouse, goes through
 * `monitorTick`, and the policy's decision is acted on at once: a retrain trains the trainer on
 * the decision's training window, the new model predicts every following row, its reference is
 * rebuilt from its training data (as the workflow does from the training lineage) and
 * `startVersion` restarts its age.
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
import { initialMonitorState, monitorTick, startVersion } from '../monitor/tick.ts';
import { DEFAULT_MONITOR_SETTINGS } from '../monitor/types.ts';
import type { MonitorSettings, MonitorState } from '../monitor/types.ts';
import { lowerBound, type HistoryRow } from './history-row.ts';
import { BacktestInputError } from './input-error.ts';
import type { BacktestKind, ClosingWindow, KindContext, KindReference } from './kind.ts';
import { backtestReport } from './replay-report.ts';
import type {
  BacktestDecision,
  BacktestProbeRecord,
  BacktestReport,
  BacktestVersion,
  BacktestWindow,
  ReplayOptions,
} from './types.ts';
import { windowEndByTime, windowingOrigin, type BacktestWindowing } from './windowing.ts';

/** Most consecutive empty windows tolerated between two rows (guards against a mis-scaled timestamp). */
const MAX_EMPTY_WINDOWS = 100_000;

/** The model serving: a trained one, or the file's own predictions. */
interface Serving<Model> {
  version: string;
  model: Model | null;
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

export async function replayHistory<
  Row extends HistoryRow<Prediction, unknown>,
  Prediction,
  Model,
  Reference extends KindReference,
>(
  options: ReplayOptions<Row>,
  kindFor: (context: KindContext<Row>) => BacktestKind<Row, Prediction, Model, Reference>,
): Promise<BacktestReport> {
  const { policy, cadenceMs, referenceWindowMs, hasPrediction } = options;
  const windowing: BacktestWindowing = options.windowing ?? { kind: 'duration', ms: cadenceMs };
  if (windowing.kind === 'duration' && !(windowing.ms > 0))
    throw new BacktestInputError(`cadence must be longer than zero, got ${windowing.ms} ms`);
  if (windowing.kind === 'rows' && !(Number.isInteger(windowing.rows) && windowing.rows >= 1))
    throw new BacktestInputError(`rows per window must be a whole number of at least 1, got ${windowing.rows}`);
  if (!(referenceWindowMs > 0))
    throw new BacktestInputError(`reference window must be longer than zero, got ${referenceWindowMs} ms`);
  const settings: MonitorSettings = { ...DEFAULT_MONITOR_SETTINGS, ...options.settings };
  const costModel = options.costModel ? { ...options.costModel, riskCost: options.costModel.riskCost ?? 0 } : null;
  const labelDelayMs = options.labelDelayMs ?? 0;
  if (!(labelDelayMs >= 0)) throw new BacktestInputError(`label delay must be zero or more, got ${labelDelayMs} ms`);
  const arrivalOf = (row: Row): number => row.labelTime ?? row.time + labelDelayMs;
  const kind = kindFor({
    settings,
    numeric: [...options.numeric],
    categorical: [...(options.categorical ?? [])],
    seed: options.seed ?? 1,
    validationShare: options.validationShare ?? 0.2,
    arrivalOf,
  });
  const probes = kind.probes;

  const history: Row[] = [];
  let labelledRows = 0;
  let state: MonitorState = initialMonitorState(policy.model);
  let reference: Reference | null = null;
  let serving: Serving<Model> | null = null;
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

  const predict = (row: Row, index: number): Prediction => {
    if (serving?.model) return kind.predict(serving.model, row);
    if (row.prediction === null)
      throw new BacktestInputError(
        `row ${index + 1}: ${kind.missingPrediction}, and the file's model is the one serving`,
      );
    return row.prediction;
  };

  const startMonitoring = (referenceEnd: number): void => {
    const rows = history.slice(0, windowFirstIndex);
    const start = origin as number;
    referenceInfo = { start, end: referenceEnd, rows: rows.length };
    const known = (r: Row): boolean => r.label !== null && arrivalOf(r) < referenceEnd;
    if (hasPrediction) {
      serving = { version: 'file', model: null };
      const fresh = kind.quality(
        rows.map((r, i) => predict(r, i)),
        rows.map((r) => (known(r) ? r.label : null)),
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
      const trained = kind.train(rows.filter(known));
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
    reference = kind.reference(
      `${serving.version}@${start}`,
      serving.version,
      rows,
      rows.map((r, i) => predict(r, i)),
      known,
    );
    monitoring = true;
    windowStart = referenceEnd;
  };

  /** The rows of a decision's training window whose labels had arrived by `end` (the window's rows too). */
  const trainingRowsOf = (window: { start: number | null; end: number }, end: number, endIndex: number) => {
    const from = window.start === null ? 0 : lowerBound(history, window.start);
    const windowRows = history.slice(from, Math.min(lowerBound(history, window.end), endIndex));
    // As in production: only labels that had arrived by the decision can be trained on.
    return { windowRows, trainingRows: windowRows.filter((r) => r.label !== null && arrivalOf(r) < end) };
  };

  const closeWindow = (end: number, endIndex: number): void => {
    const rows = history.slice(windowFirstIndex, endIndex);
    const current = serving as Serving<Model>;
    const window: ClosingWindow<Row, Prediction> = {
      start: windowStart,
      end,
      rows,
      predictions: rows.map((r, i) => predict(r, windowFirstIndex + i)),
      version: current.version,
      versionTrainedAt: state.versionTrainedAt,
    };
    const { observation, labelledAtClose } = kind.observe(window, reference);
    if (policy.guards.approval.required)
      state = { ...state, approval: { status: 'approved', by: 'backtest', at: end } };
    let probeRecord: BacktestProbeRecord | null = null;
    if (probes) {
      // A probe in flight scores this window beside the champion before the tick reads its result.
      const scored = probes.scoreWindow(state, rows, window.predictions, arrivalOf, end);
      state = scored.state;
      probeRecord = scored.record;
    }
    const tick = monitorTick(state, reference?.profiles ?? null, observation, policy, end, settings);
    state = tick.state;
    const realised = tick.evaluation.quality.realised?.value ?? null;
    const fresh = state.freshQuality;
    const drift = tick.evaluation.drift;
    const hindsight = kind.quality(
      window.predictions,
      rows.map((r) => r.label),
    );
    const dq = tick.evaluation.dataQuality;
    const estimated = tick.evaluation.quality.estimated;
    const windowRecord: BacktestWindow = {
      start: windowStart,
      end,
      events: rows.length,
      labelled: rows.filter((r) => r.label !== null).length,
      labelledAtClose,
      version: current.version,
      quality: realised,
      hindsightQuality: hindsight,
      estimatedQuality: estimated?.value ?? null,
      estimate: kind.estimateCheck(estimated, window, reference),
      qualityUsed: tick.evaluation.quality.used,
      ...(tick.evaluation.quality.reason === undefined ? {} : { qualityReason: tick.evaluation.quality.reason }),
      qualityUsedValue: tick.evaluation.window.quality?.value ?? null,
      ...(tick.evaluation.quality.pooledWindows === undefined
        ? {}
        : { qualityPooledWindows: tick.evaluation.quality.pooledWindows }),
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
    };
    windows.push(windowRecord);

    const decision: BacktestDecision = {
      time: end,
      kind: tick.decision.kind,
      reason: reasonWithoutVerdict(tick.decision.reason),
      version: current.version,
    };
    if (tick.decision.kind === 'retrain') {
      const w = tick.decision.trainingWindow;
      const { windowRows, trainingRows } = trainingRowsOf(w, end, endIndex);
      const trained = kind.train(trainingRows);
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
        probes?.drop();
        // The new version's reference is the data of its training window, predicted by itself.
        reference = kind.reference(
          `${version}@${end}`,
          version,
          windowRows,
          windowRows.map((r) => kind.predict(trained.model, r)),
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
    if (probes && tick.decision.kind !== 'retrain' && tick.decision.probe !== undefined) {
      // The challenger trains on what a retrain would: the decision's window, labels arrived by now.
      const { trainingRows } = trainingRowsOf(tick.decision.trainingWindow, end, endIndex);
      const started = probes.start(state, tick.decision, trainingRows, (rows) => kind.train(rows), end);
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
    if (origin === null) origin = windowingOrigin(windowing, row.time);
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

  return backtestReport({
    policy,
    trainer: options.trainer.name,
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
    labelDelayMs,
    probes: probes === null ? null : { started: probes.started, probeCost: probes.probeCost },
  });
}

function formatHours(ms: number): string {
  const h = ms / 3_600_000;
  return h >= 48 && h % 24 === 0 ? `${h / 24} d` : `${h} h`;
}
