/**
 * The decision benchmark's cost model: every step's model (trained on the training window that
 * ends where the step starts) measured on every later hourly window. Training is deterministic, so
 * this matrix is exactly what any schedule's serving models score; the oracle is a DP over it.
 *
 * `trainingRows` / `windowEvents` keep a subset of each training window's rows / each monitored
 * window's events (by position in that window): the bounds benchmark builds two independent
 * halves of one stream with them.
 */
import { builtInTrainer } from '../../training/backtest-trainer.ts';
import { qualityOf } from '../../detectors/backtest/binary-quality.ts';
import { trainVersion } from '../../detectors/backtest/binary-training.ts';
import { runBacktest } from '../../detectors/backtest/engine.ts';
import type { BacktestModel, BacktestReport, BacktestRow, BacktestTrainer } from '../../detectors/backtest/types.ts';
import type { RetrainPolicy } from '../../detectors/policy/types.ts';
import type { MonitorSettings } from '../../detectors/monitor/types.ts';
import { type CostModel, stalenessPerEvent } from './oracle.ts';
import { parseDuration } from '../../detectors/policy/duration.ts';
import { buildScenario, COSTS, type Scenario, type ScenarioSpec } from './decision-streams.ts';

/** Hourly windows: the benchmark's monitoring cadence. */
export const CADENCE_MS = 3_600_000;

export interface QualityMatrix {
  scenario: Scenario;
  steps: number;
  /** Start of the first (hour-aligned) reference window. */
  origin: number;
  /** Start of monitored window 0 (= end of the reference period). */
  monitoredStart: number;
  windowRows: BacktestRow[][];
  /** quality[k][t]: accuracy in window t of the model retrained at step k (0: trained on the reference period); 0 for t < k. */
  quality: Float64Array[];
  costModel: CostModel;
}

export interface QualityMatrixOptions {
  /** @default the built-in trainer */
  trainer?: BacktestTrainer;
  /** Which rows of a training window (by position in it) train the model. @default all */
  trainingRows?: (index: number) => boolean;
  /** Which events of a monitored window (by position in it) are scored and priced. @default all */
  windowEvents?: (index: number) => boolean;
  /** An already built scenario of `spec` (saves regenerating the stream). */
  scenario?: Scenario;
  /** Progress lines (the matrix takes seconds per stream). */
  onProgress?: (line: string) => void;
}

export function buildQualityMatrix(spec: ScenarioSpec, options: QualityMatrixOptions = {}): QualityMatrix {
  const scenario = options.scenario ?? buildScenario(spec);
  const trainer = options.trainer ?? builtInTrainer();
  const keepTraining = options.trainingRows ?? (() => true);
  const keepEvent = options.windowEvents ?? (() => true);
  const origin = Math.floor((scenario.rows[0] as BacktestRow).time / CADENCE_MS) * CADENCE_MS;
  const monitoredStart = origin + spec.referenceHours * CADENCE_MS;
  const steps = Math.ceil(((scenario.rows.at(-1) as BacktestRow).time + 1 - monitoredStart) / CADENCE_MS);
  const allWindowRows: BacktestRow[][] = Array.from({ length: steps }, () => []);
  for (const r of scenario.rows) {
    const t = Math.floor((r.time - monitoredStart) / CADENCE_MS);
    if (t >= 0 && t < steps) (allWindowRows[t] as BacktestRow[]).push(r);
  }
  const windowRows = allWindowRows.map((rows) => rows.filter((_, i) => keepEvent(i)));
  const between = (from: number, to: number) => scenario.rows.filter((r) => r.time >= from && r.time < to);
  const settings = { qualityMetric: 'accuracy' as const };
  const windowMs = parseDuration(spec.trainingWindow);
  const modelAt = (k: number): BacktestModel => {
    const end = monitoredStart + k * CADENCE_MS;
    const rows = (k === 0 ? between(origin, monitoredStart) : between(end - windowMs, end)).filter((_, i) =>
      keepTraining(i),
    );
    const trained = trainVersion(trainer, rows, scenario.numeric, [], 1, 0.2, settings);
    if ('error' in trained) throw new Error(`${spec.kind} seed ${spec.seed}, step ${k}: ${trained.error}`);
    return trained.model;
  };
  options.onProgress?.(
    `  ${spec.kind} seed ${spec.seed}: ${scenario.rows.length} events, ${steps} windows; quality matrix…`,
  );
  const quality: Float64Array[] = [];
  for (let k = 0; k < steps; k++) {
    const model = modelAt(k);
    const row = new Float64Array(steps);
    for (let t = k; t < steps; t++) {
      const rows = windowRows[t] as BacktestRow[];
      row[t] =
        qualityOf(
          rows.map((r) => model.predict(r.features)),
          rows.map((r) => r.label),
          settings,
        ) ?? 0;
    }
    quality.push(row);
  }
  const costModel: CostModel = {
    steps,
    qualityAt: (k, t) => (quality[k] as Float64Array)[t] as number,
    eventsAt: (t) => (windowRows[t] as BacktestRow[]).length,
    valuePerQualityUnit: COSTS.valuePerQualityUnit,
    retrainCost: COSTS.retrainCost,
  };
  return { scenario, steps, origin, monitoredStart, windowRows, quality, costModel };
}

/** Twins' sample seeds are spaced by this from the stream's seed. */
const TWIN_SEED_STRIDE = 7919;

/**
 * Backtest `policy` on the matrix's stream at the benchmark's cadence, with its retrains as the
 * matrix's steps (those after the last monitored window left out), ready to price on the matrix.
 */
export async function backtestOnMatrix(
  matrix: Pick<QualityMatrix, 'scenario' | 'steps' | 'monitoredStart'>,
  policy: RetrainPolicy,
  trainer: BacktestTrainer,
  settings?: Partial<MonitorSettings>,
): Promise<{ report: BacktestReport; retrainSteps: number[] }> {
  const { scenario, steps, monitoredStart } = matrix;
  const report = await runBacktest({
    ...(settings === undefined ? {} : { settings }),
    rows: scenario.rows,
    numeric: scenario.numeric,
    hasPrediction: false,
    policy,
    cadenceMs: CADENCE_MS,
    referenceWindowMs: scenario.referenceHours * CADENCE_MS,
    trainer,
    costModel: COSTS,
  });
  const retrainSteps = report.decisions
    .filter((d) => d.kind === 'retrain')
    .map((d) => Math.round((d.time - monitoredStart) / CADENCE_MS))
    .filter((s) => s < steps);
  return { report, retrainSteps };
}
/**
 * What `backtestOnMatrix` needs of a matrix, without training and scoring every step's model: a
 * policy's schedule costs one backtest, so comparing two policies' schedules is cheap, and only
 * schedules that differ need the matrix to be priced.
 */
export function matrixFrame(
  spec: ScenarioSpec,
  scenario: Scenario = buildScenario(spec),
): Pick<QualityMatrix, 'scenario' | 'steps' | 'monitoredStart'> {
  const origin = Math.floor((scenario.rows[0] as BacktestRow).time / CADENCE_MS) * CADENCE_MS;
  const monitoredStart = origin + spec.referenceHours * CADENCE_MS;
  const steps = Math.ceil(((scenario.rows.at(-1) as BacktestRow).time + 1 - monitoredStart) / CADENCE_MS);
  return { scenario, steps, monitoredStart };
}

/**
 * The cost models of `count` twins of a stream: the same concept path, events drawn from other
 * sample seeds, so their trained models and windows have luck independent of the stream's.
 */
export function twinCostModels(
  spec: ScenarioSpec,
  count: number,
  options: Pick<QualityMatrixOptions, 'trainer' | 'onProgress'> = {},
): CostModel[] {
  const models: CostModel[] = [];
  for (let i = 1; i <= count; i++) {
    options.onProgress?.(`  ${spec.kind} seed ${spec.seed}: twin ${i} of ${count}…`);
    models.push(
      buildQualityMatrix(
        { ...spec, sampleSeed: (spec.sampleSeed ?? spec.seed) + i * TWIN_SEED_STRIDE },
        { trainer: options.trainer },
      ).costModel,
    );
  }
  return models;
}

/**
 * A cost model whose staleness is the mean of several models' — the oracle planned on it is the
 * expected-cost oracle: it knows how the concept will move (the twins share it), not how the dice
 * fall. The oracle's DP reads only staleness, max(0, reference − quality): a reference of 1 and a
 * quality of 1 − mean staleness per event give exactly the mean. Events per window are the first model's.
 */
export function meanStaleness(models: readonly CostModel[]): CostModel {
  const first = models[0];
  if (first === undefined) throw new Error('meanStaleness needs at least one cost model');
  if (models.some((m) => m.steps !== first.steps))
    throw new Error(
      `meanStaleness: the cost models have different numbers of windows (${models.map((m) => m.steps).join(', ')})`,
    );
  return {
    ...first,
    qualityAt: (k, t) => 1 - models.reduce((sum, m) => sum + stalenessPerEvent(m, k, t), 0) / models.length,
    referenceQuality: () => 1,
  };
}
