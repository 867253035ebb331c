/**
 * Labelled scoring histories for the decision scenarios the backtest must get right: a stable
 * world, a covariate-only shift, a concept change, a feature incident (stuck at 0, missing, stuck
 * at an in-range value), seasonal values outside the reference's range, and low-volume batch
 * scoring. SEA-style: three features uniform on [0, 10], label 1 when x1 + x2 ≤ θ, with label noise.
 * Seeded and deterministic.
 */
import { Random } from '../../detectors/random.ts';
import type { BacktestRow } from '../../detectors/backtest/types.ts';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const T0 = Date.UTC(2026, 0, 5);

export interface Incident {
  feature: 'x1' | 'x2' | 'x3';
  kind: 'stuck-at-zero' | 'missing' | 'stuck-in-range';
  /** Epoch ms. */
  start: number;
  end: number;
}

export interface ScenarioOptions {
  seed: number;
  days: number;
  /** Events per hour (spread evenly). */
  perHour: number;
  /** One event every this many ms instead (e.g. one a day for a daily history). @default undefined */
  intervalMs?: number;
  /** θ at a time. @default 9 throughout */
  theta?: (t: number) => number;
  /** Label noise. @default 0.1 */
  noise?: number;
  /** Covariate shift: the features' distribution at a time (P(y | x) unchanged). @default uniform [0, 10] */
  features?: (t: number, random: Random) => { x1: number; x2: number; x3: number };
  incidents?: Incident[];
  /** Only events at these hours of the day (batch scoring), e.g. [2] for a nightly batch. @default every hour */
  batchHours?: number[];
}

export function scenario(options: ScenarioOptions): BacktestRow[] {
  const random = new Random(options.seed);
  const theta = options.theta ?? (() => 9);
  const noise = options.noise ?? 0.1;
  const draw =
    options.features ??
    ((_t: number, r: Random) => ({ x1: r.uniform(0, 10), x2: r.uniform(0, 10), x3: r.uniform(0, 10) }));
  const rows: BacktestRow[] = [];
  const hours = options.days * 24;
  const times: number[] = [];
  if (options.intervalMs !== undefined)
    for (let t = T0; t < T0 + options.days * DAY; t += options.intervalMs) times.push(t);
  else
    for (let h = 0; h < hours; h++) {
      if (options.batchHours && !options.batchHours.includes(h % 24)) continue;
      for (let i = 0; i < options.perHour; i++) times.push(T0 + h * HOUR + Math.floor((i * HOUR) / options.perHour));
    }
  {
    for (const time of times) {
      const x = draw(time, random);
      let label: 0 | 1 = x.x1 + x.x2 <= theta(time) ? 1 : 0;
      if (random.next() < noise) label = label === 1 ? 0 : 1;
      const features: Record<string, number | null> = { ...x };
      for (const incident of options.incidents ?? []) {
        if (time < incident.start || time >= incident.end) continue;
        features[incident.feature] = incident.kind === 'missing' ? null : incident.kind === 'stuck-at-zero' ? 0 : 4.2;
      }
      rows.push({ time, features, prediction: null, label });
    }
  }
  return rows;
}

/** Share of a training window [start, end) that lies inside incidents. */
export function brokenShare(window: { start: number | null; end: number }, incidents: readonly Incident[]): number {
  const start = window.start ?? T0;
  const span = window.end - start;
  if (span <= 0) return 0;
  let inside = 0;
  for (const i of incidents) inside += Math.max(0, Math.min(window.end, i.end) - Math.max(start, i.start));
  return inside / span;
}
