/**
 * The decision benchmark's seeded synthetic streams and its stated cost model, shared by
 * bench/decisions.ts (the report), bench/tune-decisions.ts (tuning) and bench/decision-bounds.ts.
 */
import type { BacktestRow } from '../../detectors/backtest/types.ts';
import { hyperplaneStream, recurringSchedule, seaStream, take } from '../../synthetic/index.ts';
import type { ConceptChange } from '../../synthetic/index.ts';
import { Random } from '../../detectors/random.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5);

/** The stated cost model: money per event per 1.0 of accuracy lost, and per retrain. */
export const COSTS = { valuePerQualityUnit: 1, retrainCost: 150 } as const;

export type ScenarioKind = 'gradual' | 'abrupt' | 'recurring';

/** The stream kinds, in the report's order. */
export const STREAM_KINDS: readonly ScenarioKind[] = ['gradual', 'abrupt', 'recurring'];

/** The `parseArgs` options every decision benchmark takes: which streams to run, and `--help`. */
export const STREAM_OPTIONS = {
  seeds: { type: 'string' },
  days: { type: 'string' },
  kinds: { type: 'string' },
  help: { type: 'boolean' },
} as const;

/**
 * Stream kinds from a `--kinds` value like "gradual,abrupt" (@default every kind); an unknown one
 * is an error that names the known ones, followed by `usage`.
 */
export function parseStreamKinds(text: string | undefined, usage = ''): ScenarioKind[] {
  const kinds = (text ?? STREAM_KINDS.join(',')).split(',') as ScenarioKind[];
  for (const kind of kinds)
    if (!STREAM_KINDS.includes(kind))
      throw new Error(`--kinds: unknown stream "${kind}"; use ${STREAM_KINDS.join(', ')}${usage ? `\n${usage}` : ''}`);
  return kinds;
}

export interface ScenarioSpec {
  kind: ScenarioKind;
  seed: number;
  days: number;
  eventsPerHour: number;
  referenceHours: number;
  trainingWindow: string;
  /**
   * Seed of the events (features, label noise), drawn on the concept path that `seed` fixes
   * (rotation and its reversals, change times and concepts). Another value gives a twin of the
   * stream: same concept path, trained models and windows with independent luck. (The gradual
   * stream therefore draws its events from their own generator, even at the default.) @default `seed`
   */
  sampleSeed?: number;
}

export interface Scenario extends ScenarioSpec {
  rows: BacktestRow[];
  numeric: string[];
  description: string;
}

export function buildScenario(spec: ScenarioSpec): Scenario {
  const n = Math.round((spec.days * 24 + spec.referenceHours) * spec.eventsPerHour);
  const random = new Random(spec.seed ^ 0x5bd1e995);
  let events: { features: number[]; label: 0 | 1 }[];
  let description: string;
  if (spec.kind === 'gradual') {
    // Two of five weights rotate steadily (rare reversals): a frozen model loses accuracy smoothly.
    events = take(
      hyperplaneStream({
        seed: spec.seed,
        sampleSeed: spec.sampleSeed ?? spec.seed,
        dimensions: 5,
        driftingFeatures: 2,
        magnitude: 0.4 / (24 * spec.eventsPerHour),
        reversalProbability: 1 / (3 * 24 * spec.eventsPerHour),
        noise: 0.05,
      }),
      n,
    );
    description = 'rotating hyperplane, 5 features, 2 rotating ~0.4 weight units a day, noise 5%';
  } else if (spec.kind === 'abrupt') {
    // Concept changes at seeded times, 1–3 days apart, cycling through SEA's thresholds.
    const changes: ConceptChange[] = [];
    let position = Math.round(
      spec.referenceHours * spec.eventsPerHour + random.uniform(0.5, 2) * 24 * spec.eventsPerHour,
    );
    let concept = 0;
    while (position < n) {
      concept = (concept + 1 + random.integer(0, 2)) % 4;
      changes.push({ position, concept });
      position += Math.round(random.uniform(1, 3) * 24 * spec.eventsPerHour);
    }
    events = take(seaStream({ seed: spec.sampleSeed ?? spec.seed, schedule: { initial: 0, changes }, noise: 0.1 }), n);
    description = `SEA, abrupt concept changes every 1–3 days (${changes.length} changes), noise 10%`;
  } else {
    // Two concepts alternate every 2 days: a stale model is right again when its concept returns.
    const period = 2 * 24 * spec.eventsPerHour;
    events = take(
      seaStream({
        seed: spec.sampleSeed ?? spec.seed,
        schedule: recurringSchedule({
          concepts: [2, 3],
          period,
          start: Math.round(spec.referenceHours * spec.eventsPerHour + period / 2),
          length: n,
        }),
        noise: 0.1,
      }),
      n,
    );
    description = 'SEA, concepts θ=7 and θ=9.5 alternating every 2 days, noise 10%';
  }
  const numeric = (events[0]?.features ?? []).map((_, j) => `x${j + 1}`);
  const rows: BacktestRow[] = events.map((e, i) => ({
    time: T0 + Math.floor((i * HOUR) / spec.eventsPerHour),
    features: Object.fromEntries(e.features.map((v, j) => [`x${j + 1}`, v])),
    prediction: null,
    label: e.label,
  }));
  return { ...spec, rows, numeric, description };
}
