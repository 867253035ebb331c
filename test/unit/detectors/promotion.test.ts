import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { latencySamplesByRun } from '../../../detectors/promotion/guardrails.ts';
import {
  evaluateGuardrails,
  mcnemarTest,
  pairedAucImprovement,
  pairedBootstrapImprovement,
  promotionVerdict,
} from '../../../detectors/promotion/index.ts';
import { Random } from '../../../detectors/random.ts';

const readJson = <T>(path: string): T => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as T;
const mcnemarFixture = readJson<{
  cases: { b: number; c: number; exact_p: number; exact_p_statsmodels_formula: number; chi2_corrected_p: number }[];
}>('../../fixtures/quality/mcnemar.json');
const misc = readJson<{
  paired_auc: {
    y_true: number[];
    champion: number[];
    challenger: number[];
    auc_champion: number;
    auc_challenger: number;
    difference_variance: number;
  };
}>('../../fixtures/quality/reference_misc.json');

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Labels plus two models' probabilities; `challengerSignal` vs `championSignal` sets who is better. */
function pairedStream(
  n: number,
  seed: number,
  championSignal: number,
  challengerSignal: number,
  sharedNoise = 1.0,
  ownNoise = 0.5,
) {
  const random = new Random(seed);
  const labels: number[] = [];
  const champion: number[] = [];
  const challenger: number[] = [];
  for (let i = 0; i < n; i++) {
    const y = random.bernoulli(0.4) ? 1 : 0;
    const shared = random.normal(0, sharedNoise);
    const sign = 2 * y - 1;
    labels.push(y);
    champion.push(sigmoid(championSignal * sign + shared + random.normal(0, ownNoise)));
    challenger.push(sigmoid(challengerSignal * sign + shared + random.normal(0, ownNoise)));
  }
  return { labels, champion, challenger };
}

const fastLatencies = (seed: number, scale: number) => {
  const random = new Random(seed);
  return Array.from({ length: 1000 }, () => scale * Math.exp(random.normal(0, 0.3)));
};

describe('McNemar vs scipy (statsmodels formulas)', () => {
  for (const row of mcnemarFixture.cases) {
    it(`b=${row.b}, c=${row.c}: exact and corrected chi-square p-values, tolerance 1e-12`, () => {
      const exact = mcnemarTest(row.b, row.c, Number.POSITIVE_INFINITY);
      expect(exact.method).toBe('exact-binomial');
      expect(Math.abs(exact.pValue - row.exact_p)).toBeLessThan(1e-12);
      expect(Math.abs(exact.pValue - row.exact_p_statsmodels_formula)).toBeLessThan(1e-12);
      if (row.b + row.c > 0) {
        const chi = mcnemarTest(row.b, row.c, 0);
        expect(chi.method).toBe('chi-square-corrected');
        expect(Math.abs(chi.pValue - row.chi2_corrected_p)).toBeLessThan(1e-12);
      }
    });
  }

  it('switches from exact to chi-square at 25 discordant pairs by default', () => {
    expect(mcnemarTest(10, 14).method).toBe('exact-binomial');
    expect(mcnemarTest(10, 15).method).toBe('chi-square-corrected');
  });
});

describe('paired differences', () => {
  it('paired DeLong variance of the AUC difference = O(n²) pairwise reference: tolerance 1e-12', () => {
    const f = misc.paired_auc;
    const result = pairedAucImprovement(f.y_true, f.champion, f.challenger) as NonNullable<
      ReturnType<typeof pairedAucImprovement>
    >;
    expect(Math.abs(result.champion - f.auc_champion)).toBeLessThan(1e-12);
    expect(Math.abs(result.challenger - f.auc_challenger)).toBeLessThan(1e-12);
    const half = (result.upper - result.lower) / 2;
    expect(Math.abs(half / 1.959963984540054 - Math.sqrt(f.difference_variance))).toBeLessThan(1e-12);
  });

  it('paired bootstrap of log loss agrees with the normal approximation (tolerance 15% of the width)', () => {
    const s = pairedStream(2000, 5, 1.0, 1.2);
    const boot = pairedBootstrapImprovement('logLoss', s.labels, s.champion, s.challenger);
    const d = s.labels.map((y, i) => {
      const loss = (p: number) => -(y === 1 ? Math.log(p) : Math.log(1 - p));
      return loss(s.champion[i] as number) - loss(s.challenger[i] as number);
    });
    const mean = d.reduce((a, b) => a + b, 0) / d.length;
    const sd = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / (d.length - 1));
    const half = (1.959963984540054 * sd) / Math.sqrt(d.length);
    expect(Math.abs(boot.improvement - mean)).toBeLessThan(1e-12);
    expect(Math.abs(boot.lower - (mean - half))).toBeLessThan(0.15 * half);
    expect(Math.abs(boot.upper - (mean + half))).toBeLessThan(0.15 * half);
    // Seeded: the same call gives the same interval.
    expect(pairedBootstrapImprovement('logLoss', s.labels, s.champion, s.challenger)).toEqual(boot);
  });
});

describe('paired bootstrap of accuracy by value counts', () => {
  // The per-event differences of accuracy are −1, 0 or 1, so each resample draws the three
  // counts. Same bootstrap distribution as resampling events, different draws: the intervals
  // must agree within Monte Carlo error. With B replicates the 2.5% and 97.5% quantiles of a
  // near-normal bootstrap distribution have a standard error ≈ 0.06·σ* each (σ* the bootstrap
  // standard deviation); two independent runs differ by ≈ 0.085·σ*; the tolerance is 5 of those.
  const tolerance = (sd: number, n: number, replicates: number) =>
    5 * Math.SQRT2 * (Math.sqrt((0.025 * 0.975) / replicates) / 0.05844) * (sd / Math.sqrt(n));

  it.each([
    ['better challenger', 20_000, 31, 1.0, 1.3],
    ['equal models', 20_000, 32, 1.0, 1.0],
    ['small n', 600, 33, 1.0, 1.2],
  ] as const)('%s: interval agrees with resampling events', (_name, n, seed, championSignal, challengerSignal) => {
    const s = pairedStream(n, seed, championSignal, challengerSignal);
    const counts = pairedBootstrapImprovement('accuracy', s.labels, s.champion, s.challenger);
    const events = pairedBootstrapImprovement('accuracy', s.labels, s.champion, s.challenger, {
      valueCountsUpTo: 0,
      seed: 99,
    });
    expect(counts.resampling).toBe('value-counts');
    expect(events.resampling).toBe('events');
    expect(counts.improvement).toBe(events.improvement);
    expect(counts.champion).toBe(events.champion);
    expect(counts.challenger).toBe(events.challenger);
    const d = s.labels.map((y, i) => {
      const correct = (p: number) => ((p >= 0.5 ? 1 : 0) === y ? 1 : 0);
      return correct(s.challenger[i] as number) - correct(s.champion[i] as number);
    });
    const mean = d.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    const tol = tolerance(sd, n, 2000);
    expect(Math.abs(counts.lower - events.lower)).toBeLessThan(tol);
    expect(Math.abs(counts.upper - events.upper)).toBeLessThan(tol);
    // Both are the bootstrap of a mean: close to the normal interval at this n.
    const half = (1.959963984540054 * sd) / Math.sqrt(n);
    expect(Math.abs(counts.lower - (mean - half))).toBeLessThan(tol + 0.1 * half);
    expect(Math.abs(counts.upper - (mean + half))).toBeLessThan(tol + 0.1 * half);
    // The verdicts agree.
    const verdict = (valueCountsUpTo: number) =>
      pairedBootstrapImprovement('accuracy', s.labels, s.champion, s.challenger, { valueCountsUpTo }).lower > 0;
    expect(verdict(16)).toBe(verdict(0));
  });

  it('the replicate distribution matches resampling events: mean and spread within Monte Carlo error', () => {
    // Quantiles at several levels, 20,000 replicates each way: their standard errors shrink by √10.
    const s = pairedStream(2000, 41, 1.0, 1.15);
    const replicates = 20_000;
    const d = s.labels.map((y, i) => {
      const correct = (p: number) => ((p >= 0.5 ? 1 : 0) === y ? 1 : 0);
      return correct(s.challenger[i] as number) - correct(s.champion[i] as number);
    });
    const mean = d.reduce((a, b) => a + b, 0) / d.length;
    const sd = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length);
    for (const level of [0.5, 0.8, 0.95]) {
      const counts = pairedBootstrapImprovement('accuracy', s.labels, s.champion, s.challenger, {
        replicates,
        level,
      });
      const events = pairedBootstrapImprovement('accuracy', s.labels, s.champion, s.challenger, {
        replicates,
        level,
        valueCountsUpTo: 0,
      });
      const tol = tolerance(sd, d.length, replicates) * 1.5;
      expect(Math.abs(counts.lower - events.lower)).toBeLessThan(tol);
      expect(Math.abs(counts.upper - events.upper)).toBeLessThan(tol);
    }
  });

  it('continuous differences (log loss) still resample events, with the same draws as before', () => {
    const s = pairedStream(1000, 5, 1.0, 1.2);
    const boot = pairedBootstrapImprovement('logLoss', s.labels, s.champion, s.challenger);
    expect(boot.resampling).toBe('events');
    expect(pairedBootstrapImprovement('logLoss', s.labels, s.champion, s.challenger, { valueCountsUpTo: 0 })).toEqual(
      boot,
    );
  });
});

describe('promotion verdict', () => {
  const guardrailsOk = { championLatenciesMs: fastLatencies(1, 10), challengerLatenciesMs: fastLatencies(2, 10.2) };

  it('promotes a clearly better challenger (log loss, superiority)', () => {
    const s = pairedStream(3000, 11, 0.8, 1.4);
    const verdict = promotionVerdict(s, guardrailsOk);
    expect(verdict.decision).toBe('promote');
    expect(verdict.statistics.improvement?.lower).toBeGreaterThan(0);
    expect(verdict.reasons.join(' ')).toMatch(/whole interval is above/);
  });

  it('one better number is not enough: a noisily better challenger is inconclusive', () => {
    // Same signal; the challenger's point estimate happens to be better but the CI spans 0.
    let checked = 0;
    for (const seed of [21, 22, 23, 24, 25, 26]) {
      const s = pairedStream(800, seed, 1.0, 1.0);
      const bootstrap = pairedBootstrapImprovement('logLoss', s.labels, s.champion, s.challenger);
      if (bootstrap.improvement <= 0) continue;
      checked += 1;
      const verdict = promotionVerdict(s, guardrailsOk);
      expect(verdict.decision).toBe('inconclusive');
      expect(verdict.reasons.join(' ')).toMatch(/within noise/);
      // The same holds for accuracy, where McNemar must also agree.
      expect(promotionVerdict(s, guardrailsOk, { metric: 'accuracy' }).decision).not.toBe('promote');
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('rejects a clearly worse challenger, on every metric', () => {
    const s = pairedStream(3000, 31, 1.4, 0.7);
    for (const metric of ['logLoss', 'brier', 'accuracy', 'rocAuc'] as const) {
      expect(promotionVerdict(s, guardrailsOk, { metric }).decision).toBe('reject');
    }
  });

  it('non-inferiority promotes an equivalent challenger that superiority would not', () => {
    const s = pairedStream(5000, 41, 1.0, 1.0, 1.0, 0.05);
    expect(promotionVerdict(s, guardrailsOk, { metric: 'brier' }).decision).toBe('inconclusive');
    const ni = promotionVerdict(s, guardrailsOk, { metric: 'brier', test: 'non-inferiority', margin: 0.005 });
    expect(ni.decision).toBe('promote');
    expect(ni.statistics.bar).toBe(-0.005);
  });

  it('rejects when better but not by the minimum improvement worth deploying', () => {
    const s = pairedStream(20000, 51, 1.0, 1.08, 1.0, 0.05);
    const verdict = promotionVerdict(s, guardrailsOk, { metric: 'rocAuc', minimumImprovement: 0.05 });
    expect(verdict.statistics.improvement?.lower).toBeGreaterThan(0);
    expect(verdict.decision).toBe('reject');
  });

  it('guardrails: a better but slower or error-prone challenger is rejected', () => {
    const s = pairedStream(3000, 11, 0.8, 1.4);
    const slow = promotionVerdict(s, {
      championLatenciesMs: fastLatencies(1, 10),
      challengerLatenciesMs: fastLatencies(2, 15),
    });
    expect(slow.decision).toBe('reject');
    expect(slow.reasons[0]).toMatch(/latency p99/);
    const failing = promotionVerdict(s, {
      championServing: { requests: 10000, errors: 5 },
      challengerServing: { requests: 10000, errors: 40 },
    });
    expect(failing.decision).toBe('reject');
    expect(failing.reasons[0]).toMatch(/error rate/);
    const unknown = evaluateGuardrails({});
    expect(unknown.violations).toEqual([]);
    expect(unknown.notEvaluated).toHaveLength(2);
  });

  it("a live shadow's latencies count once per scorer run, not once per event of its batch", () => {
    // Three runs of 50, 30 and 1 events (their per-row times), two events from a serving without run ids.
    const latencies = [...Array(50).fill(0.02), ...Array(30).fill(0.05), 0.9, 0.03, 0.04, Number.NaN];
    const runs = [...Array(50).fill('s/1'), ...Array(30).fill('s/2'), 's/3', '', '', 's/4'];
    const samples = latencySamplesByRun(latencies, runs);
    expect(samples).toEqual([0.02, 0.05, 0.9, 0.03, 0.04]);
    // Counted per event, five measurements would pass a minimum of 80 samples; per run they are five.
    const perEvent = evaluateGuardrails(
      { championLatenciesMs: latencies.slice(0, 83), challengerLatenciesMs: latencies.slice(0, 83) },
      { minLatencySamples: 80 },
    );
    expect(perEvent.notEvaluated).toEqual([expect.stringContaining('error rate')]);
    const perRun = evaluateGuardrails(
      { championLatenciesMs: samples, challengerLatenciesMs: samples },
      { minLatencySamples: 80 },
    );
    expect(perRun.notEvaluated).toContainEqual(expect.stringContaining('latency p99'));
  });

  it('too few events is inconclusive even when the challenger looks much better', () => {
    const s = pairedStream(100, 61, 0.5, 2.0);
    const verdict = promotionVerdict(s, guardrailsOk);
    expect(verdict.decision).toBe('inconclusive');
    expect(verdict.reasons[0]).toMatch(/only 100 paired events/);
  });
});
