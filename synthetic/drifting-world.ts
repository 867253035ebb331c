/**
 * A production stream whose concept drifts continuously in time, for the demo and for end-to-end
 * tests of the monitor: SEA-style features f1, f2 ∈ [0, 10] (f3 is noise), label 1 when
 * f1 + f2 ≤ θ(t), with θ drifting linearly from `thetaStart` by `thetaPerDay`, and a share of
 * labels flipped. A model trained at one time loses accuracy as θ moves away from what it
 * learned: decay a monitor can see, and a retrain on recent data repairs.
 *
 * Windows are deterministic: the rows of [start, end) depend only on the seed and the window,
 * so a replayed or retried window produces the same events.
 */
import { Random } from '../detectors/random.ts';

export interface DriftingWorldOptions {
  seed: number;
  /** Concept at `epoch`. @default 8 */
  thetaStart: number;
  /** How far the concept moves per day. @default 0.15 */
  thetaPerDay: number;
  /** When θ = thetaStart (epoch ms). */
  epoch: number;
  /** Share of labels flipped. @default 0.05 */
  labelNoise: number;
  /**
   * Seed each window from its start relative to `epoch` instead of its absolute start, so a run
   * whose windows keep their place relative to the epoch sees the same rows whenever it runs.
   * @default false
   */
  seedFromEpoch?: boolean;
}

export interface WorldRow {
  eventId: string;
  ts: number;
  features: { f1: number; f2: number; f3: number };
  label: 0 | 1;
}

const DAY = 86_400_000;

export function worldTheta(
  options: Pick<DriftingWorldOptions, 'thetaStart' | 'thetaPerDay' | 'epoch'>,
  ts: number,
): number {
  return options.thetaStart + (options.thetaPerDay * (ts - options.epoch)) / DAY;
}

/** The rows of one window, `count` events spread evenly over [start, end). */
export function worldWindow(
  options: DriftingWorldOptions,
  start: number,
  end: number,
  count: number,
  prefix = 'w',
): WorldRow[] {
  // One generator per window, seeded from the window start: windows are independent and repeatable.
  const at = options.seedFromEpoch ? start - options.epoch : start;
  const rng = new Random((options.seed * 1_000_003 + Math.floor(at / 1000)) >>> 0);
  const rows: WorldRow[] = [];
  for (let i = 0; i < count; i++) {
    const ts = start + Math.floor(((end - start) * i) / count);
    const f1 = 10 * rng.next();
    const f2 = 10 * rng.next();
    const f3 = 10 * rng.next();
    let label: 0 | 1 = f1 + f2 <= worldTheta(options, ts) ? 1 : 0;
    if (rng.next() < options.labelNoise) label = label === 1 ? 0 : 1;
    rows.push({ eventId: `${prefix}-${start}-${i}`, ts, features: { f1, f2, f3 }, label });
  }
  return rows;
}

/** The score a model that learned the concept θ* gives a row (what the initial, hand-made version does). */
export function conceptScore(thetaLearned: number, features: { f1: number; f2: number }, sharpness = 1.5): number {
  return 1 / (1 + Math.exp(-sharpness * (thetaLearned - (features.f1 + features.f2))));
}
