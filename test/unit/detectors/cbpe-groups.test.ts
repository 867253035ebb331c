import { describe, expect, it } from 'vitest';
import {
  calibrate,
  estimateCbpe,
  estimateCbpeFromGroups,
  estimationGrouping,
  fitCbpe,
  groupScores,
  scoreGroupKey,
  type CbpeModel,
} from '../../../detectors/quality/index.ts';
import { Random } from '../../../detectors/random.ts';

/** A labelled reference whose scores are miscalibrated (so 'auto' fits an isotonic map), on a grid when `grid` is set. */
function reference(seed: number, n: number, grid: number | null) {
  const random = new Random(seed);
  const scores: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    let s = random.next();
    if (grid !== null) s = Math.round(s * grid) / grid;
    scores.push(s);
    labels.push(random.bernoulli(Math.min(1, Math.max(0, 0.15 + 0.7 * s * s))) ? 1 : 0);
  }
  return { scores, labels };
}

function windowScores(seed: number, n: number, grid: number | null, skew: number): number[] {
  const random = new Random(seed);
  return Array.from({ length: n }, () => {
    const s = random.next() ** skew;
    return grid === null ? s : Math.round(s * grid) / grid;
  });
}

describe('CBPE from score groups', () => {
  it('gives each score the probability calibrate() gives it: on a step, between steps, at the threshold', () => {
    for (const grid of [100, null]) {
      const ref = reference(1, 4000, grid);
      const model = fitCbpe(ref.labels, ref.scores, { recalibration: 'isotonic', threshold: 0.65 });
      const grouping = estimationGrouping(model);
      expect(model.calibrator.kind).toBe('isotonic');
      if (model.calibrator.kind !== 'isotonic') return;
      const { upperScores, lowerScores } = model.calibrator;
      const between = upperScores.slice(0, -1).map((u, k) => (u + lowerScores![k + 1]!) / 2);
      for (const s of [...model.calibrator.upperScores, ...between, 0, 0.005, 0.64, 0.65, 0.651, 1]) {
        const one = estimateCbpeFromGroups(model, groupScores(grouping, [s]), grouping);
        const c = one.expectedConfusion;
        expect(c.truePositives + c.falseNegatives).toBeCloseTo(calibrate(model.calibrator, s), 12);
        expect(scoreGroupKey(grouping, s).above).toBe(s >= 0.65);
        expect(scoreGroupKey(grouping, s).bin).toBe(Math.min(99, Math.floor(s * 100)));
      }
    }
  });

  it('gives the rows’ estimate under an isotonic map: accuracy exactly, ROC AUC exactly on a score grid and closely between steps', () => {
    for (const grid of [100, null]) {
      const ref = reference(2, 5000, grid);
      const model = fitCbpe(ref.labels, ref.scores, { recalibration: 'isotonic', threshold: 0.42 });
      const scores = windowScores(3, 3000, grid, 1.7);
      const grouping = estimationGrouping(model);
      const groups = groupScores(grouping, scores);
      const fromGroups = estimateCbpeFromGroups(model, groups, grouping);
      const fromRows = estimateCbpe(model, scores);
      expect(groups.length).toBeLessThan(scores.length / 5);
      expect(fromGroups.n).toBe(scores.length);
      expect(fromGroups.threshold).toBe(0.42);
      expect(fromGroups.accuracy).toBeCloseTo(fromRows.accuracy as number, 12);
      expect(fromGroups.accuracyInterval!.lower).toBeCloseTo(fromRows.accuracyInterval!.lower, 12);
      // ROC AUC: exact on a score grid (each group one probability); between steps p varies inside a group.
      if (grid === null)
        expect(Math.abs((fromGroups.rocAuc as number) - (fromRows.rocAuc as number))).toBeLessThan(1e-4);
      else expect(fromGroups.rocAuc).toBeCloseTo(fromRows.rocAuc as number, 12);
      expect(fromGroups.precision).toBeCloseTo(fromRows.precision as number, 12);
      expect(fromGroups.recall).toBeCloseTo(fromRows.recall as number, 12);
      // The interval's spread ranks events within a group together: close, not identical, without ties.
      expect(fromGroups.rocAucInterval!.upper).toBeCloseTo(fromRows.rocAucInterval!.upper, grid === null ? 3 : 5);
    }
  });

  it('gives exact accuracy and close ROC AUC under the identity map, where groups hold different probabilities', () => {
    const ref = reference(4, 2000, null);
    const fitted = fitCbpe(ref.labels, ref.scores, { recalibration: 'none', maxEce: 1 });
    const model: CbpeModel = { ...fitted, calibrator: { kind: 'identity' } };
    const scores = windowScores(5, 4000, null, 0.8);
    const grouping = estimationGrouping(model, 0.5);
    const fromGroups = estimateCbpeFromGroups(model, groupScores(grouping, scores), grouping);
    const fromRows = estimateCbpe(model, scores, { threshold: 0.5 });
    expect(fromGroups.accuracy).toBeCloseTo(fromRows.accuracy as number, 12);
    expect(fromGroups.accuracyInterval!.upper).toBeCloseTo(fromRows.accuracyInterval!.upper, 12);
    expect(Math.abs((fromGroups.rocAuc as number) - (fromRows.rocAuc as number))).toBeLessThan(2e-4);
  });

  it('warns when many scores fall outside the reference range, and has no estimate of an empty window', () => {
    const ref = reference(6, 1000, 100);
    const model = fitCbpe(ref.labels, ref.scores);
    const grouping = estimationGrouping(model);
    const warned = estimateCbpeFromGroups(model, groupScores(grouping, [0.2, 0.3]), grouping, 1);
    expect(warned.reasons.join(' ')).toMatch(/outside the reference score range/);
    const empty = estimateCbpeFromGroups(model, [], grouping);
    expect(empty.accuracy).toBeNull();
    expect(empty.rocAuc).toBeNull();
  });
});
