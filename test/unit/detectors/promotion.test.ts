import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
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

  it('too few events is inconclusive even when the challenger looks much better', () => {
    const s = pairedStream(100, 61, 0.5, 2.0);
    const verdict = promotionVerdict(s, guardrailsOk);
    expect(verdict.decision).toBe('inconclusive');
    expect(verdict.reasons[0]).toMatch(/only 100 paired events/);
  });
});
