import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import {
  binaryQuality,
  brierScore,
  buildScoreHistogram,
  chiSquareSurvival,
  confusionCounts,
  delongComponents,
  delongVariance,
  expectedCalibrationError,
  hosmerLemeshow,
  logLoss,
  multiclassAccuracy,
  normalCdf,
  normalQuantile,
  qualityFromScoreHistogram,
  regressionFromSums,
  regressionQuality,
  reliabilityDiagram,
  rocAuc,
  rocAucEstimate,
  thresholdMetricsFromConfusion,
  wilsonInterval,
} from '../../../detectors/quality/index.ts';
import { Random } from '../../../detectors/random.ts';

interface BinaryCase {
  name: string;
  threshold: number;
  y_true: number[];
  y_score: number[];
  expected: {
    accuracy: number;
    precision: number | null;
    recall: number | null;
    f1: number | null;
    roc_auc: number | null;
    log_loss: number;
    brier: number;
    ece10: number;
    ece15: number;
    delong_variance: number | null;
    confusion: { tp: number; fp: number; tn: number; fn: number };
    roc_auc_100_bins: number | null;
  };
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as T;
const binary = readJson<{ versions: Record<string, string>; cases: BinaryCase[] }>(
  '../../fixtures/quality/sklearn_binary.json',
);
const misc = readJson<{
  wilson: { successes: number; n: number; level: number; lower: number; upper: number }[];
  regression: {
    name: string;
    y_true: number[];
    y_pred: number[];
    expected: { rmse: number; mae: number; r2: number };
  }[];
  multiclass: { y_true: number[]; y_pred: number[]; accuracy: number };
  chi2_sf: { x: number; df: number; sf: number }[];
  normal_quantiles: { p: number; z: number }[];
}>('../../fixtures/quality/reference_misc.json');

/** Expect equal within an absolute tolerance, or both null. */
function expectClose(actual: number | null, expected: number | null, tolerance: number): void {
  if (expected === null) {
    expect(actual).toBeNull();
    return;
  }
  expect(actual).not.toBeNull();
  expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(tolerance);
}

describe('binary metrics vs scikit-learn 1.7.2 (test/fixtures/quality/sklearn_binary.json)', () => {
  it('fixtures come from scikit-learn 1.7.2', () => {
    expect(binary.versions['scikit-learn']).toBe('1.7.2');
  });

  for (const c of binary.cases) {
    describe(c.name, () => {
      const report = binaryQuality(c.y_true, c.y_score, { threshold: c.threshold });

      it('confusion matrix: exact', () => {
        expect(confusionCounts(c.y_true, c.y_score, c.threshold)).toEqual({
          truePositives: c.expected.confusion.tp,
          falsePositives: c.expected.confusion.fp,
          trueNegatives: c.expected.confusion.tn,
          falseNegatives: c.expected.confusion.fn,
        });
      });

      it('accuracy, precision, recall, F1 (zero_division=nan → null): tolerance 1e-12', () => {
        expectClose(report.accuracy.value, c.expected.accuracy, 1e-12);
        expectClose(report.precision.value, c.expected.precision, 1e-12);
        expectClose(report.recall.value, c.expected.recall, 1e-12);
        expectClose(report.f1.value, c.expected.f1, 1e-12);
      });

      it('ROC AUC (ranks, ties half) = roc_auc_score: tolerance 1e-12; DeLong variance vs O(n²) pairwise: 1e-12', () => {
        expectClose(rocAuc(c.y_true, c.y_score), c.expected.roc_auc, 1e-12);
        const components = delongComponents(c.y_true, c.y_score);
        expectClose(components === null ? null : delongVariance(components), c.expected.delong_variance, 1e-12);
      });

      it('log loss (clipped at 2^-52) and Brier: tolerance 1e-12 (relative for log loss)', () => {
        expectClose(logLoss(c.y_true, c.y_score), c.expected.log_loss, 1e-12 * Math.max(1, c.expected.log_loss));
        expectClose(brierScore(c.y_true, c.y_score), c.expected.brier, 1e-12);
        expectClose(report.logLoss.value, c.expected.log_loss, 1e-12 * Math.max(1, c.expected.log_loss));
      });

      it('ECE with 10 and 15 equal-width bins vs the numpy definition: tolerance 1e-12', () => {
        expectClose(expectedCalibrationError(c.y_true, c.y_score, 10), c.expected.ece10, 1e-12);
        expectClose(expectedCalibrationError(c.y_true, c.y_score, 15), c.expected.ece15, 1e-12);
      });

      it('aggregated form: histogram (100 bins) AUC = sklearn AUC of binned scores (1e-12), within the binning bound of the raw AUC', () => {
        const histogram = buildScoreHistogram(c.y_true, c.y_score, 100);
        const fromBins = qualityFromScoreHistogram(histogram, { threshold: c.threshold });
        expectClose(fromBins.rocAuc.value, c.expected.roc_auc_100_bins, 1e-12);
        if (c.expected.roc_auc !== null) {
          expect(Math.abs((fromBins.rocAuc.value as number) - c.expected.roc_auc)).toBeLessThanOrEqual(
            (fromBins.aucBinningBound as number) + 1e-12,
          );
        }
        // Exact parts of the aggregated form (threshold on a bin edge, sums supplied): tolerance 1e-12.
        expect(fromBins.threshold.thresholdIsBinEdge).toBe(true);
        expectClose(fromBins.threshold.accuracy.value, c.expected.accuracy, 1e-12);
        expectClose(fromBins.threshold.precision.value, c.expected.precision, 1e-12);
        expectClose(fromBins.expectedCalibrationError.value, c.expected.ece10, 1e-12);
        expectClose(fromBins.brier.value, c.expected.brier, 1e-12);
      });
    });
  }

  it('intervals: Wilson for proportions, DeLong for AUC, bootstrap for the rest; null with a reason when n is too small', () => {
    const c = binary.cases.find((x) => x.name === 'random_400') as BinaryCase;
    const report = binaryQuality(c.y_true, c.y_score);
    expect(report.accuracy.interval?.method).toBe('wilson');
    expect(report.rocAuc.interval?.method).toBe('delong');
    for (const m of [report.f1, report.logLoss, report.brier, report.expectedCalibrationError]) {
      expect(m.interval?.method).toBe('bootstrap-percentile');
      expect(m.interval?.lower).toBeLessThanOrEqual(m.value as number);
      expect(m.interval?.upper).toBeGreaterThanOrEqual(m.value as number);
    }
    // DeLong half-width = 1.96·sqrt(var) with the fixture's brute-force variance (tolerance 1e-9).
    const half = ((report.rocAuc.interval?.upper as number) - (report.rocAuc.interval?.lower as number)) / 2;
    expect(Math.abs(half - 1.959963984540054 * Math.sqrt(c.expected.delong_variance as number))).toBeLessThan(1e-9);
    // Deterministic for a seed.
    expect(binaryQuality(c.y_true, c.y_score).logLoss.interval).toEqual(report.logLoss.interval);

    const tiny = binary.cases.find((x) => x.name === 'tiny_with_extremes_5') as BinaryCase;
    const small = binaryQuality(tiny.y_true, tiny.y_score);
    expect(small.brier.interval).toBeNull();
    expect(small.brier.note).toMatch(/too small/);
    const onlyPositives = binary.cases.find((x) => x.name === 'all_positive_60') as BinaryCase;
    const one = rocAucEstimate(onlyPositives.y_true, onlyPositives.y_score);
    expect(one.value).toBeNull();
    expect(one.note).toMatch(/one class/);
    const separated = binary.cases.find((x) => x.name === 'perfect_separation_40') as BinaryCase;
    expect(rocAucEstimate(separated.y_true, separated.y_score).interval).toBeNull();
  });

  it('bootstrap log-loss interval covers the truth about 95% of the time (seeded simulation)', () => {
    const random = new Random(3);
    let covered = 0;
    const trials = 60;
    // True scores are calibrated Beta-ish draws; the expected log loss is estimated from 200k events.
    const draw = () => {
      const p = random.next();
      return { p, y: random.bernoulli(p) ? 1 : 0 };
    };
    const big = Array.from({ length: 200_000 }, draw);
    const truth = logLoss(
      big.map((e) => e.y),
      big.map((e) => e.p),
    ) as number;
    for (let t = 0; t < trials; t++) {
      const sample = Array.from({ length: 300 }, draw);
      const report = binaryQuality(
        sample.map((e) => e.y),
        sample.map((e) => e.p),
        { bootstrapReplicates: 300, seed: t },
      );
      const interval = report.logLoss.interval;
      if (interval && interval.lower <= truth && truth <= interval.upper) covered += 1;
    }
    // Nominal 95%; with 60 trials anything in [80%, 100%] is consistent (binomial sd ≈ 2.8%).
    expect(covered / trials).toBeGreaterThan(0.8);
  });
});

describe('Wilson, distributions', () => {
  it('Wilson interval = scipy binomtest(...).proportion_ci(method="wilson"): tolerance 1e-12', () => {
    for (const w of misc.wilson) {
      const interval = wilsonInterval(w.successes, w.n, w.level);
      expectClose(interval?.lower ?? null, w.lower, 1e-12);
      expectClose(interval?.upper ?? null, w.upper, 1e-12);
    }
    expect(wilsonInterval(0, 0)).toBeNull();
  });

  it('chi-square survival = scipy.stats.chi2.sf: relative tolerance 1e-10', () => {
    for (const row of misc.chi2_sf) {
      const actual = chiSquareSurvival(row.x, row.df);
      expect(Math.abs(actual - row.sf)).toBeLessThanOrEqual(1e-10 * Math.max(row.sf, 1e-300) + 1e-15);
    }
  });

  it('normal quantile = scipy.stats.norm.ppf: tolerance 1e-12; Φ(Φ⁻¹(p)) = p', () => {
    for (const row of misc.normal_quantiles) {
      expectClose(normalQuantile(row.p), row.z, 1e-12 * Math.max(1, Math.abs(row.z)));
      expect(Math.abs(normalCdf(row.z) - row.p)).toBeLessThan(1e-14);
    }
  });
});

describe('calibration', () => {
  it('Hosmer–Lemeshow accepts calibrated scores and rejects miscalibrated ones', () => {
    const random = new Random(17);
    const p = Array.from({ length: 2000 }, () => random.next());
    const y = p.map((pi) => (random.bernoulli(pi) ? 1 : 0));
    const calibrated = hosmerLemeshow(y, p);
    expect(calibrated?.degreesOfFreedom).toBe(10);
    expect(calibrated?.pValue).toBeGreaterThan(0.01);
    const overconfident = p.map((pi) => (pi > 0.5 ? Math.min(1, pi + 0.2) : Math.max(0, pi - 0.2)));
    expect(hosmerLemeshow(y, overconfident)?.pValue).toBeLessThan(1e-6);
    expect(expectedCalibrationError(y, overconfident)).toBeGreaterThan(0.1);
    expect(hosmerLemeshow([1, 0], [0.5, 0.5])).toBeNull();
  });

  it('reliability diagram rows add up to n and follow the ECE bins', () => {
    const rows = reliabilityDiagram([1, 0, 1, 1], [0.05, 0.05, 0.95, 1]);
    expect(rows).toHaveLength(10);
    expect(rows[0]).toMatchObject({ count: 2, observedRate: 0.5 });
    expect(rows[9]).toMatchObject({ count: 2, observedRate: 1, meanScore: 0.975 });
  });
});

describe('aggregated forms', () => {
  it('from a confusion matrix: Wilson intervals, null precision without positive predictions', () => {
    const m = thresholdMetricsFromConfusion({
      truePositives: 0,
      falsePositives: 0,
      trueNegatives: 40,
      falseNegatives: 10,
    });
    expect(m.accuracy.value).toBe(0.8);
    expect(m.accuracy.interval?.method).toBe('wilson');
    expect(m.precision.value).toBeNull();
    expect(m.precision.note).toMatch(/no positive predictions/);
    expect(m.recall.value).toBe(0);
    expect(() =>
      thresholdMetricsFromConfusion({ truePositives: -1, falsePositives: 0, trueNegatives: 0, falseNegatives: 0 }),
    ).toThrow(RangeError);
  });

  it('histogram without sums: approximations stay within their documented bounds', () => {
    const c = binary.cases.find((x) => x.name === 'random_400') as BinaryCase;
    const full = buildScoreHistogram(c.y_true, c.y_score, 100);
    const countsOnly = qualityFromScoreHistogram({ positives: full.positives, negatives: full.negatives });
    // Midpoints are at most half a bin (0.005) from each score: ECE moves by at most 0.005, Brier by ≤ 2·0.005.
    expect(Math.abs((countsOnly.expectedCalibrationError.value as number) - c.expected.ece10)).toBeLessThanOrEqual(
      0.005,
    );
    expect(Math.abs((countsOnly.brier.value as number) - c.expected.brier)).toBeLessThanOrEqual(0.01);
    expect(Math.abs((countsOnly.logLoss.value as number) - c.expected.log_loss)).toBeLessThan(0.02);
    expect(countsOnly.expectedCalibrationError.note).toMatch(/approximate/);
    // A threshold off the bin edges is flagged.
    expect(qualityFromScoreHistogram(full, { threshold: 0.555 }).threshold.thresholdIsBinEdge).toBe(false);
  });
});

describe('regression and multiclass vs scikit-learn', () => {
  for (const r of misc.regression) {
    it(`${r.name}: RMSE, MAE tolerance 1e-12; R² 1e-12 or null for constant truth`, () => {
      const q = regressionQuality(r.y_true, r.y_pred);
      expectClose(q.rmse.value, r.expected.rmse, 1e-12);
      expectClose(q.mae.value, r.expected.mae, 1e-12);
      const constant = new Set(r.y_true).size === 1;
      if (constant) {
        // sklearn's force_finite reports 0.0 or 1.0 here; halflife reports "undefined".
        expect(q.r2.value).toBeNull();
        expect(q.r2.note).toMatch(/constant truth/);
      } else expectClose(q.r2.value, r.expected.r2, 1e-12);
      const sums = regressionFromSums({
        n: r.y_true.length,
        sumTruth: r.y_true.reduce((a, b) => a + b, 0),
        sumSquaredTruth: r.y_true.reduce((a, b) => a + b * b, 0),
        sumSquaredError: r.y_true.reduce((a, y, i) => a + (y - (r.y_pred[i] as number)) ** 2, 0),
        sumAbsoluteError: r.y_true.reduce((a, y, i) => a + Math.abs(y - (r.y_pred[i] as number)), 0),
      });
      // From sums (SQL form): Σy² − (Σy)²/n loses digits, tolerance 1e-9.
      if (!constant) expectClose(sums.r2, r.expected.r2, 1e-9);
      else expect(sums.r2).toBeNull();
    });
  }

  it('regression bootstrap interval brackets the estimate; small n gives null with a reason', () => {
    const r = misc.regression[0] as (typeof misc.regression)[number];
    const q = regressionQuality(r.y_true, r.y_pred);
    expect(q.rmse.interval?.lower).toBeLessThan(q.rmse.value as number);
    expect(q.rmse.interval?.upper).toBeGreaterThan(q.rmse.value as number);
    const small = regressionQuality([1, 2, 3], [1, 2, 4]);
    expect(small.mae.interval).toBeNull();
    expect(small.mae.note).toMatch(/too small/);
  });

  it('multiclass accuracy = accuracy_score: tolerance 1e-12', () => {
    const m = multiclassAccuracy(misc.multiclass.y_true, misc.multiclass.y_pred);
    expectClose(m.value, misc.multiclass.accuracy, 1e-12);
    expect(m.interval?.method).toBe('wilson');
  });
});

describe('histogram log loss with bin sums', () => {
  it('is a lower bound of the raw-score log loss (Jensen), within 0.01 on smooth scores', () => {
    for (const c of binary.cases) {
      const fromBins = qualityFromScoreHistogram(buildScoreHistogram(c.y_true, c.y_score, 100));
      expect(fromBins.logLoss.value as number).toBeLessThanOrEqual(c.expected.log_loss + 1e-12);
      if (c.name === 'random_400') expect(c.expected.log_loss - (fromBins.logLoss.value as number)).toBeLessThan(0.01);
    }
  });
});
