import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { calibrate, fitIsotonic } from '../../../detectors/quality/index.ts';

interface IsotonicCase {
  name: string;
  probes: number[];
  orders: { labels: number[]; scores: number[]; weights: number[] | null; predicted: number[] }[];
}

const fixture = JSON.parse(
  readFileSync(
    path.join(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/quality/sklearn_isotonic.json'),
    'utf8',
  ),
) as { cases: IsotonicCase[] };

describe('fitIsotonic against scikit-learn IsotonicRegression (test/fixtures/generate_estimation_fixtures.py)', () => {
  for (const c of fixture.cases) {
    it(`${c.name}: the same map at every fitted score, between them (interpolated) and outside the range, whatever the row order`, () => {
      const fitted = c.orders.map((o) => fitIsotonic(o.labels, o.scores, o.weights ?? undefined));
      for (const [k, o] of c.orders.entries()) {
        const calibrator = fitted[k]!;
        c.probes.forEach((x, j) => expect(calibrate(calibrator, x)).toBeCloseTo(o.predicted[j]!, 9));
        expect(calibrator.upperScores).toEqual(fitted[0]!.upperScores);
      }
    });
  }

  it('tied scores merge before pooling: the two orders of the same rows give the same two steps', () => {
    const forward = fitIsotonic([0, 1, 0, 1, 1], [0.1, 0.1, 0.2, 0.2, 0.2]);
    const reversed = fitIsotonic([1, 1, 0, 1, 0], [0.2, 0.2, 0.2, 0.1, 0.1]);
    expect(forward.upperScores).toEqual([0.1, 0.2]);
    expect(forward.values[0]).toBeCloseTo(0.5, 12);
    expect(forward.values[1]).toBeCloseTo(2 / 3, 12);
    expect(reversed).toEqual(forward);
  });

  it('a score grid keeps one step per distinct score when the labels rise with it', () => {
    const scores: number[] = [];
    const labels: number[] = [];
    for (let g = 1; g <= 49; g++) {
      // g positives among 50 events at score g/50: strictly increasing rates, so no pooling at all.
      for (let k = 0; k < 50; k++) {
        scores.push(g / 50);
        labels.push(k < g ? 1 : 0);
      }
    }
    // Interleave so that every tie group's negatives come first for one half and last for the other.
    const order = scores.map((_, i) => i).sort((a, b) => (a % 7) - (b % 7) || a - b);
    const calibrator = fitIsotonic(
      order.map((i) => labels[i]!),
      order.map((i) => scores[i]!),
    );
    expect(calibrator.upperScores).toHaveLength(49);
  });

  it('a calibrator stored without lowerScores (fitted before interpolation) stays a step function', () => {
    // Steps: [0.1] → 0, [0.2, 0.6] → 0.5 (pooled), [0.8] → 1.
    const fitted = fitIsotonic([0, 1, 0, 1], [0.1, 0.2, 0.6, 0.8]);
    expect(fitted.lowerScores).toEqual([0.1, 0.2, 0.8]);
    expect(fitted.upperScores).toEqual([0.1, 0.6, 0.8]);
    expect(calibrate(fitted, 0.4)).toBeCloseTo(0.5, 12);
    expect(calibrate(fitted, 0.7)).toBeCloseTo(0.75, 12);
    const { lowerScores: _lower, ...stored } = fitted;
    expect(calibrate(stored, 0.7)).toBe(1);
    expect(calibrate(stored, 0.15)).toBe(0.5);
  });

  it('weights: a zero weight drops the event, and bad weights are named', () => {
    expect(fitIsotonic([1, 0, 1], [0.2, 0.5, 0.8], [1, 0, 1])).toEqual(fitIsotonic([1, 1], [0.2, 0.8]));
    expect(() => fitIsotonic([1, 0], [0.2, 0.5], [1, -1])).toThrow(/weight -1 at index 1/);
    expect(() => fitIsotonic([1, 0], [0.2, 0.5], [1])).toThrow(RangeError);
    expect(() => fitIsotonic([1, 0], [0.2, 0.5], [0, 0])).toThrow(/positive weight/);
  });
});
