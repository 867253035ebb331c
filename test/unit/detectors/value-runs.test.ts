// The runs test behind the stuck-value check, against statsmodels' z and an exact enumeration
// in Python (test/fixtures/drift/generate_value_runs.py → value_runs.json).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXACT_RUNS_LIMIT, runsTest, valueRuns } from '../../../detectors/drift/value-runs.ts';

interface Case {
  name: string;
  sequence: string;
  runs: number;
  matches: number;
  others: number;
  statsmodels_z: number;
  expected: number;
  exact_left_tail: number;
  minimum_p: number;
  normal_left_tail_corrected: number;
}

const fixture = JSON.parse(
  readFileSync(path.join(import.meta.dirname, '../../fixtures/drift/value_runs.json'), 'utf8'),
) as { cases: Case[] };

/** Relative closeness for probabilities spanning hundreds of orders of magnitude. */
function expectRelative(actual: number, expected: number, tolerance: number): void {
  if (expected === 0) expect(actual).toBeLessThan(1e-300);
  else expect(Math.abs(actual - expected) / expected).toBeLessThan(tolerance);
}

describe('runs test of a value indicator', () => {
  for (const c of fixture.cases) {
    it(`${c.name}: runs, z and left tail as statsmodels and the exact enumeration give them`, () => {
      const values = [...c.sequence].map((ch) => (ch === '1' ? 7 : Number(ch) + 0.5));
      const counted = valueRuns(values, 7);
      expect(counted).toEqual({ runs: c.runs, matches: c.matches, others: c.others });
      const test = runsTest(counted)!;
      expect(test.expected).toBeCloseTo(c.expected, 9);
      expect(test.z).toBeCloseTo(c.statsmodels_z, 9);
      expectRelative(test.minimumP, c.minimum_p, 1e-9);
      if (Math.min(c.matches, c.others) <= EXACT_RUNS_LIMIT) expectRelative(test.p, c.exact_left_tail, 1e-9);
      else expectRelative(test.p, c.normal_left_tail_corrected, 1e-6);
    });
  }

  it('a fill stretch is far in the left tail; interleaved repeats are not', () => {
    const byName = new Map(fixture.cases.map((c) => [c.name, c]));
    const p = (name: string) => runsTest(byName.get(name)!)!.p;
    expect(p('fill-stretch')).toBeLessThan(1e-50);
    expect(p('tiny-stretch')).toBeLessThan(1e-5);
    expect(p('ceiling-interleaved')).toBeGreaterThan(0.1);
    expect(p('tiny-interleaved')).toBeGreaterThan(0.1);
  });

  it('no test without another value, and none without the value', () => {
    expect(runsTest({ runs: 1, matches: 30, others: 0 })).toBeNull();
    expect(runsTest({ runs: 1, matches: 0, others: 30 })).toBeNull();
  });

  it('skips non-finite values as the window read does', () => {
    expect(valueRuns([1, Number.NaN, 1, 2, Number.POSITIVE_INFINITY, 1], 1)).toEqual({
      runs: 3,
      matches: 3,
      others: 1,
    });
  });
});
