/**
 * The decision benchmark's cost model: every step's model (trained on the training window that
 * ends where the step starts) measured on every later hourly window. Training is deterministic, so
 * this matrix is exactly what any schedule's serving models score; the oracle is a DP over it.
 *
 * `trainingRows` / `windowEvents` keep a subset of each training window's rows / each monitored
 * window's events (by position in that window): the bounds benchmark builds two independent
 * halves of one stream with them.
 */
import { builtInTrainer } from '../../cli/commands/backtest.ts';
import { qualityOf, trainVersion } from '../../detectors/backtest/engine.ts';
import type { BacktestModel, BacktestRow, BacktestTrainer } from '../../detectors/backtest/types.ts';
import type { CostModel } from '../../detectors/economics/types.ts';
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
    const rows = (k === 0 ? between(origin, monitoredStart) : between(end - windowMs, end)).filter((_, i) => keepTraining(i));
    const trained = trainVersion(trainer, rows, scenario.numeric, [], 1, 0.2, settings);
    if ('error' in trained) throw new Error(`${spec.kind} seed ${spec.seed}, step ${k}: ${trained.error}`);
    return trained.model;
  };
  options.onProgress?.(`  ${spec.kind} seed ${spec.seed}: ${scenario.rows.length} events, ${steps} windows; quality matrix…`);
  const quality: Float64Array[] = [];
  for (let k = 0; k < steps; k++) {
    const model = modelAt(k);
    const row = new Float64Array(steps);
    for (let t = k; t < steps; t++) {
      const rows = windowRows[t] as BacktestRow[];
      row[t] = qualityOf(rows.map((r) => model.predict(r.features)), rows.map((r) => r.label), settings) ?? 0;
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
