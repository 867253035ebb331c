import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CBPE_DEFAULTS, estimateCbpe, expectedRocAuc, fitCbpe, rocAuc } from '../../../detectors/quality/index.ts';
import type { CbpeModel } from '../../../detectors/quality/index.ts';
import { Random } from '../../../detectors/random.ts';

interface AucCase {
  name: string;
  threshold: number;
  scores: number[];
  draws: number;
  expected_roc_auc: number;
  realised_roc_auc_mean: number;
  realised_roc_auc_std: number;
  realised_accuracy_mean: number;
  realised_accuracy_std: number;
}

const fixture = JSON.parse(
  readFileSync(
    path.join(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/quality/cbpe_roc_auc.json'),
    'utf8',
  ),
) as { cases: AucCase[] };

/** An estimator that takes the scores as calibrated probabilities, as the fixture's draws do. */
const calibratedModel = (threshold = 0.5): CbpeModel => ({
  options: { ...CBPE_DEFAULTS, threshold },
  calibrator: { kind: 'identity' },
  check: {
    trustworthy: true,
    reasons: [],
    n: 0,
    ece: null,
    hosmerLemeshow: null,
    recalibration: 'none',
    evaluatedOn: 'raw',
    rawEce: null,
  },
  referenceScoreRange: [0, 1],
});

const Z95 = 1.959963984540054;

describe('CBPE ROC AUC against the expected ROC curve and sklearn roc_auc_score on drawn labels (generate_estimation_fixtures.py)', () => {
  for (const c of fixture.cases) {
    const estimate = estimateCbpe(calibratedModel(), c.scores, { threshold: c.threshold });
    const auc = expectedRocAuc(c.scores, c.scores)!;

    it(`${c.name}: equals the area under the expected TPR/FPR curve`, () => {
      expect(estimate.rocAuc).toBeCloseTo(c.expected_roc_auc, 9);
      expect(auc.value).toBeCloseTo(c.expected_roc_auc, 9);
    });

    it(`${c.name}: matches the mean realised AUC and accuracy of ${c.draws} label draws within their sampling error`, () => {
      const aucMeanError = c.realised_roc_auc_std / Math.sqrt(c.draws);
      // A ratio of expectations vs the expectation of a ratio: they differ by O(1/n), added to the allowance.
      expect(Math.abs(auc.value - c.realised_roc_auc_mean)).toBeLessThan(4 * aucMeanError + 1 / c.scores.length);
      const accuracyMeanError = c.realised_accuracy_std / Math.sqrt(c.draws);
      expect(Math.abs(estimate.accuracy! - c.realised_accuracy_mean)).toBeLessThan(4 * accuracyMeanError);
    });

    it(`${c.name}: the intervals' widths match the spread of the realised metrics (within 10%)`, () => {
      expect(auc.standardError / c.realised_roc_auc_std).toBeGreaterThan(0.9);
      expect(auc.standardError / c.realised_roc_auc_std).toBeLessThan(1.1);
      const interval = estimate.rocAucInterval!;
      expect((interval.upper - interval.lower) / (2 * Z95)).toBeCloseTo(auc.standardError, 12);
      const accuracySe = (estimate.accuracyInterval!.upper - estimate.accuracyInterval!.lower) / (2 * Z95);
      expect(accuracySe / c.realised_accuracy_std).toBeGreaterThan(0.9);
      expect(accuracySe / c.realised_accuracy_std).toBeLessThan(1.1);
    });
  }
});

describe('CBPE ROC AUC on perfectly calibrated data with covariate shift', () => {
  const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
  const events = (random: Random, n: number, center: number, spread: number) => {
    const scores: number[] = [];
    const labels: number[] = [];
    for (let i = 0; i < n; i++) {
      const p = sigmoid(random.normal(center, spread));
      scores.push(p);
      labels.push(random.bernoulli(p) ? 1 : 0);
    }
    return { scores, labels };
  };
  const random = new Random(11);
  const reference = events(random, 5000, -0.5, 1.5);
  const model = fitCbpe(reference.labels, reference.scores, { recalibration: 'none' });

  it('the 95% interval covers the realised AUC in 91–99% of 300 shifted windows of 1,000 events', () => {
    let covered = 0;
    const windows = 300;
    for (let w = 0; w < windows; w++) {
      const analysis = events(random, 1000, 0.3, 2.0);
      const estimate = estimateCbpe(model, analysis.scores);
      const realised = rocAuc(analysis.labels, analysis.scores) as number;
      if (estimate.rocAucInterval!.lower <= realised && realised <= estimate.rocAucInterval!.upper) covered += 1;
    }
    expect(covered / windows).toBeGreaterThan(0.91);
    expect(covered / windows).toBeLessThan(0.99);
  });
});

describe("CBPE at the model's own decision threshold", () => {
  const scores = [0.1, 0.3, 0.55, 0.6, 0.7, 0.9];

  it('a threshold passed at estimate time is the one a model fitted with it uses', () => {
    const atFit = estimateCbpe(calibratedModel(0.65), scores);
    const atEstimate = estimateCbpe(calibratedModel(), scores, { threshold: 0.65 });
    expect(atEstimate).toEqual(atFit);
    expect(atEstimate.threshold).toBe(0.65);
    // 0.55 and 0.6 become negatives: expected accuracy is (0.9 + 0.7 + 0.45 + 0.4 + 0.7 + 0.9) / 6.
    expect(atEstimate.accuracy).toBeCloseTo((0.9 + 0.7 + 0.45 + 0.4 + 0.7 + 0.9) / 6, 12);
    expect(estimateCbpe(calibratedModel(), scores).accuracy).toBeCloseTo((0.9 + 0.7 + 0.55 + 0.6 + 0.7 + 0.9) / 6, 12);
  });

  it('a threshold outside [0, 1] is refused with what it means', () => {
    expect(() => estimateCbpe(calibratedModel(), scores, { threshold: 65 })).toThrow(/between 0 and 1/);
    expect(() => fitCbpe([0, 1], [0.2, 0.8], { threshold: Number.NaN })).toThrow(/decision threshold NaN/);
  });

  it('no expected positives or no expected negatives: no AUC and no interval', () => {
    const none = estimateCbpe(calibratedModel(), [0, 0, 0]);
    expect(none.rocAuc).toBeNull();
    expect(none.rocAucInterval).toBeNull();
  });
});
