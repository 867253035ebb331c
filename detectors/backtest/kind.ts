/**
 * What the backtest's one replay (replay.ts) asks of a model's kind: how a model predicts a row,
 * how a version is trained, how a window's quality is read (binary: scores and their labelled
 * histogram; multiclass and regression: the outcome sums), how a reference is built and a window
 * observed, and whether challenger probes run. Everything else — windows, guards, label arrival,
 * retrain bookkeeping, costs — is the replay's, the same for every kind.
 */
import type {
  MonitorReference,
  MonitorSettings,
  MonitorState,
  WindowEvaluation,
  WindowObservation,
} from '../monitor/types.ts';
import type { PolicyDecision } from '../policy/state.ts';
import type { HistoryRow } from './history-row.ts';
import type { BacktestProbeRecord, BacktestWindow } from './types.ts';

/** A version trained on a training window's labels, with its quality on the held-out ones. */
export interface TrainedVersion<Model> {
  model: Model;
  freshQuality: number | null;
  trainingRows: number;
  validationRows: number;
}

/** A trained version, or why training could not run (too few labels, one class, the trainer threw). */
export type Training<Model> = TrainedVersion<Model> | { error: string };

/** A reference as the replay hands it to the tick: the profiles (a kind keeps more beside them). */
export interface KindReference {
  profiles: MonitorReference;
}

/** A window as it closes: its rows and what the serving version predicted for each. */
export interface ClosingWindow<Row, Prediction> {
  start: number;
  end: number;
  rows: readonly Row[];
  predictions: readonly Prediction[];
  version: string;
  versionTrainedAt: number | null;
}

/** What a run shares with its kind. */
export interface KindContext<Row> {
  settings: MonitorSettings;
  numeric: readonly string[];
  categorical: readonly string[];
  seed: number;
  validationShare: number;
  /** When a row's label arrives. */
  arrivalOf: (row: Row) => number;
}

export interface BacktestKind<
  Row extends HistoryRow<Prediction, unknown>,
  Prediction,
  Model,
  Reference extends KindReference,
> {
  /** What a row without the file's prediction lacks, as an error names it ("no prediction score"). */
  readonly missingPrediction: string;
  /** A trained version's prediction of a row. */
  predict(model: Model, row: Row): Prediction;
  /** Train a version on a training window's arrived labels. */
  train(rows: readonly Row[]): Training<Model>;
  /** Realised quality (the metric as a quality) of the labelled rows among `labels`; null without labels. */
  quality(predictions: readonly Prediction[], labels: readonly Row['label'][]): number | null;
  /** A version's reference from rows it predicted; `known`: the rows whose labels it may learn from. */
  reference(
    id: string,
    version: string,
    rows: readonly Row[],
    predictions: readonly Prediction[],
    known: (row: Row) => boolean,
  ): Reference;
  /**
   * The window as the monitor's window query returns it, with the labels that arrived by its
   * close and late labels of earlier windows; the kind keeps labels still on their way.
   */
  observe(
    window: ClosingWindow<Row, Prediction>,
    reference: Reference | null,
  ): { observation: WindowObservation; labelledAtClose: number };
  /** The window's label-free estimate beside the realised value (binary), or null. */
  estimateCheck(
    estimated: WindowEvaluation['quality']['estimated'],
    window: ClosingWindow<Row, Prediction>,
    reference: Reference | null,
  ): BacktestWindow['estimate'];
  /** Challenger probes, or null when the kind runs none. */
  readonly probes: KindProbes<Row, Prediction, Model> | null;
}

/** Challenger probes as the replay drives them (probe-runner.ts for binary models). */
export interface KindProbes<Row, Prediction, Model> {
  /** Probes started (each priced at `probeCost` in the true cost). */
  readonly started: number;
  readonly probeCost: number;
  scoreWindow(
    state: MonitorState,
    rows: readonly Row[],
    championPredictions: readonly Prediction[],
    arrivalOf: (row: Row) => number,
    now: number,
  ): { state: MonitorState; record: BacktestProbeRecord | null };
  start(
    state: MonitorState,
    decision: PolicyDecision,
    trainingRows: readonly Row[],
    train: (rows: readonly Row[]) => Training<Model>,
    now: number,
  ): { state: MonitorState; record: BacktestProbeRecord | null };
  drop(): void;
}
