/**
 * The gap a probe of a multiclass or regression model measures (detectors/probes/outcome-gap.ts):
 * paired t on the per-event loss difference, mapped into the policy's metric as quality. The
 * expected figures are worked by hand below (the t quantiles and the arithmetic checked with
 * scipy.stats.t.ppf and numpy).
 */
import { describe, expect, it } from 'vitest';
import { pairOutcomes } from '../../../detectors/promotion/outcome-pairs.ts';
import {
  addPairedOutcomeSums,
  emptyPairedOutcomeSums,
  outcomeProbeMetric,
  pairedOutcomeGap,
  pairedOutcomeSumsOf,
  pairedOutcomeSumsSince,
  probeLossOf,
  type OutcomeProbeMetric,
} from '../../../detectors/probes/outcome-gap.ts';
import { pairedCountsOf, pairedGap } from '../../../detectors/probes/paired-gap.ts';
import { recordProbeWindow, startProbe } from '../../../detectors/probes/progress.ts';

const repeat = <T>(xs: T[], times: number): T[] => Array.from({ length: times }, () => xs).flat();

/** Sums of events given as truth and each side's output (class probabilities or a predicted value). */
function sumsOf(
  kind: 'multiclass' | 'regression',
  metric: OutcomeProbeMetric,
  worthless: number | null,
  events: { truth: number; champion: number[]; challenger: number[] }[],
) {
  const pairs = pairOutcomes(kind, probeLossOf(metric), events);
  return pairedOutcomeSumsOf(metric, worthless, pairs.truth, pairs.championLosses, pairs.challengerLosses);
}

describe('pairedOutcomeGap: challenger − champion in the policy metric as quality, paired t on per-event losses', () => {
  it('regression RMSE (worthless error 10): squared errors, the interval of d mapped through 1 − √MSE / 10', () => {
    // Truth 0; champion predicts 1,2,1,2,2 and the challenger 1,1,1,1,2, ten times over (n = 50).
    // Squared errors 1,4,1,4,4 (MSE 2.8) and 1,1,1,1,4 (MSE 1.6): d = 0,3,0,3,0, mean 1.2, Σd² = 180,
    // s² = (180 − 50·1.44) / 49 = 2.204082, se = √(s²/50) = 0.209956, t(0.975, 49) = 2.009575,
    // d ∈ [0.778076, 1.621924]. Quality: champion 1 − √2.8/10 = 0.832668, challenger 1 − √1.6/10 = 0.873509;
    // challenger MSE 2.8 − 1.621924 = 1.178076 → 0.891461, 2.8 − 0.778076 = 2.021924 → 0.857806.
    const events = repeat(
      [
        [1, 1],
        [2, 1],
        [1, 1],
        [2, 1],
        [2, 2],
      ].map(([a, b]) => ({ truth: 0, champion: [a as number], challenger: [b as number] })),
      10,
    );
    const gap = pairedOutcomeGap(sumsOf('regression', 'rmse', 10, events))!;
    expect(gap.events).toBe(50);
    expect(gap.champion).toBeCloseTo(0.8326679946931849, 12);
    expect(gap.challenger).toBeCloseTo(0.8735088935932649, 12);
    expect(gap.gap).toBeCloseTo(0.040840898900080025, 12);
    expect(gap.lower).toBeCloseTo(0.0251376696831469, 9);
    expect(gap.upper).toBeCloseTo(0.058792745513210565, 9);
  });

  it('regression MAE (worthless error 4): absolute errors, linear in the mean, so the gap is d / 4', () => {
    // Truth 1,2,3,4; champion 2,2,5,4 (errors 1,0,2,0), challenger 1,3,3,5 (errors 0,1,0,1), ×10.
    // d = 1,−1,2,−1: mean 0.25, Σd² = 70, s² = (70 − 40·0.0625)/39 = 1.730769, se = 0.208013,
    // t(0.975, 39) = 2.022691, d ∈ [−0.170745, 0.670745]; quality gap = d / 4.
    const events = repeat(
      [
        [1, 2, 1],
        [2, 2, 3],
        [3, 5, 3],
        [4, 4, 5],
      ].map(([y, a, b]) => ({ truth: y as number, champion: [a as number], challenger: [b as number] })),
      10,
    );
    const gap = pairedOutcomeGap(sumsOf('regression', 'mae', 4, events))!;
    expect(gap.champion).toBeCloseTo(0.8125, 12);
    expect(gap.challenger).toBeCloseTo(0.875, 12);
    expect(gap.gap).toBeCloseTo(0.0625, 12);
    expect(gap.lower).toBeCloseTo(-0.042686285960691905, 9);
    expect(gap.upper).toBeCloseTo(0.1676862859606919, 9);
  });

  it('regression R²: squared errors over the truth’s variance on the same events', () => {
    // Truth 1..5 (variance 2), champion 1.5,2.5,2.5,4.5,4 (MSE 0.4, R² 0.8), challenger 1,2.5,3,4,5.5 (MSE 0.1, R² 0.95), ×6.
    const events = repeat(
      [
        [1, 1.5, 1],
        [2, 2.5, 2.5],
        [3, 2.5, 3],
        [4, 4.5, 4],
        [5, 4, 5.5],
      ].map(([y, a, b]) => ({ truth: y as number, champion: [a as number], challenger: [b as number] })),
      6,
    );
    const gap = pairedOutcomeGap(sumsOf('regression', 'r2', null, events))!;
    expect(gap.champion).toBeCloseTo(0.8, 12);
    expect(gap.challenger).toBeCloseTo(0.95, 12);
    expect(gap.gap).toBeCloseTo(0.15, 12);
    expect(gap.lower).toBeCloseTo(0.10348546228888844, 9);
    expect(gap.upper).toBeCloseTo(0.1965145377111115, 9);
  });

  it('multiclass log loss: per-event −ln p(true class), mapped through exp(−log loss)', () => {
    // Champion p(true) 0.5, 0.6, 0.4, 0.2 and challenger 0.7, 0.8, 0.6, 0.3, ×8 (n = 32).
    const champion = [
      [0.5, 0.3, 0.2],
      [0.2, 0.6, 0.2],
      [0.3, 0.3, 0.4],
      [0.6, 0.2, 0.2],
    ];
    const challenger = [
      [0.7, 0.2, 0.1],
      [0.1, 0.8, 0.1],
      [0.2, 0.2, 0.6],
      [0.5, 0.3, 0.2],
    ];
    const truth = [0, 1, 2, 1];
    const events = repeat(
      truth.map((y, i) => ({ truth: y, champion: champion[i]!, challenger: challenger[i]! })),
      8,
    );
    const gap = pairedOutcomeGap(sumsOf('multiclass', 'log_loss', null, events))!;
    // exp(−mean(−ln 0.5, −ln 0.6, −ln 0.4, −ln 0.2)) = (0.5·0.6·0.4·0.2)^(1/4) = 0.393598
    expect(gap.champion).toBeCloseTo(Math.pow(0.5 * 0.6 * 0.4 * 0.2, 0.25), 12);
    expect(gap.challenger).toBeCloseTo(Math.pow(0.7 * 0.8 * 0.6 * 0.3, 0.25), 12);
    expect(gap.gap).toBeCloseTo(0.1698647151991653, 12);
    expect(gap.lower).toBeCloseTo(0.15968353411211894, 9);
    expect(gap.upper).toBeCloseTo(0.18023324477744812, 9);
  });

  it('multiclass accuracy: the binary probe’s gap on the same correctness', () => {
    const championRight = [1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 1, 1];
    const challengerRight = [1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1];
    // Class 0 is the truth; a right side puts 0.8 on it, a wrong one 0.8 on class 1.
    const vector = (right: number) => (right ? [0.8, 0.1, 0.1] : [0.1, 0.8, 0.1]);
    const events = championRight.map((r, i) => ({
      truth: 0,
      champion: vector(r),
      challenger: vector(challengerRight[i]!),
    }));
    const outcome = pairedOutcomeGap(sumsOf('multiclass', 'accuracy', null, events))!;
    // As scores of a binary model whose label is 1: right ⇔ score ≥ 0.5.
    const binary = pairedGap(
      pairedCountsOf(
        championRight.map(() => 1),
        championRight.map((r) => (r ? 0.9 : 0.1)),
        challengerRight.map((r) => (r ? 0.9 : 0.1)),
      ),
    )!;
    for (const k of ['champion', 'challenger', 'gap', 'lower', 'upper', 'se'] as const)
      expect([k, outcome[k]]).toEqual([k, expect.closeTo(binary[k], 12)]);
  });

  it('needs two events; a constant truth has no R²', () => {
    expect(
      pairedOutcomeGap(sumsOf('regression', 'rmse', 10, [{ truth: 1, champion: [2], challenger: [1] }])),
    ).toBeNull();
    const flat = repeat([{ truth: 3, champion: [2], challenger: [3.5] }], 5);
    expect(pairedOutcomeGap(sumsOf('regression', 'r2', null, flat))).toBeNull();
  });

  it('sums add, and what a window added is the cumulative sums less those recorded', () => {
    const events = [0, 1, 2, 3, 4, 5].map((i) => ({ truth: i, champion: [i + 1], challenger: [i - 0.5] }));
    const whole = sumsOf('regression', 'mae', 5, events);
    const first = sumsOf('regression', 'mae', 5, events.slice(0, 2));
    const rest = sumsOf('regression', 'mae', 5, events.slice(2));
    const added = addPairedOutcomeSums(first, rest);
    for (const k of [
      'events',
      'championLoss',
      'challengerLoss',
      'sumSquaredDifference',
      'sumTruth',
      'sumSquaredTruth',
    ] as const) {
      expect(added[k]).toBeCloseTo(whole[k], 12);
      expect(pairedOutcomeSumsSince(whole, first)[k]).toBeCloseTo(rest[k], 12);
    }
    expect(pairedOutcomeSumsSince(whole, whole)).toEqual(emptyPairedOutcomeSums('mae', 5));
  });

  it('which policy metrics a multiclass or regression probe measures (macro-F1 is not a mean over events)', () => {
    expect(outcomeProbeMetric('multiclass', 'accuracy')).toBe('accuracy');
    expect(outcomeProbeMetric('multiclass', 'log_loss')).toBe('log_loss');
    expect(outcomeProbeMetric('multiclass', 'macro_f1')).toBeNull();
    expect(outcomeProbeMetric('regression', 'rmse')).toBe('rmse');
    expect(outcomeProbeMetric('regression', 'mae')).toBe('mae');
    expect(outcomeProbeMetric('regression', 'r2')).toBe('r2');
    expect(outcomeProbeMetric('binary', 'accuracy')).toBeNull();
  });
});

describe('a multiclass or regression probe’s life', () => {
  it('adds each window’s sums and reads its verdict from their gap, with the metric recorded', () => {
    const plan = { kind: 'explore' as const, value: 50, cost: 5, worthwhileGap: 0.01, reason: 'test' };
    let memory = startProbe(undefined, {
      version: 'v1',
      versionTrainedAt: 0,
      now: 1000,
      trainingStart: 0,
      trainingEnd: 1000,
      plan,
      outcomeMetric: { metric: 'rmse', worthlessError: 10 },
    });
    const window = repeat(
      [
        { truth: 0, champion: [2], challenger: [1] },
        { truth: 0, champion: [1], challenger: [1.2] },
      ],
      60,
    );
    const policy = { minPairedEvents: 200, maxWindows: 4 };
    const one = recordProbeWindow(memory, sumsOf('regression', 'rmse', 10, window), 2000, policy);
    expect(one.result).toBeNull();
    expect(one.memory.inFlight!.counts.events).toBe(120);
    memory = one.memory;
    const two = recordProbeWindow(memory, sumsOf('regression', 'rmse', 10, window), 3000, policy);
    const result = two.result!;
    expect(result.events).toBe(240);
    expect(result.metric).toBe('rmse');
    expect(result.verdict).toBe('challenger-better');
    // Champion MSE (4 + 1)/2 = 2.5, challenger (1 + 1.44)/2 = 1.22.
    expect(result.champion).toBeCloseTo(1 - Math.sqrt(2.5) / 10, 12);
    expect(result.challenger).toBeCloseTo(1 - Math.sqrt(1.22) / 10, 12);
    expect(result.lower!).toBeGreaterThan(0);
  });
});
