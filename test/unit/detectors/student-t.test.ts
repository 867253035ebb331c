import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  profileCutoff,
  regularizedIncompleteBeta,
  studentTCdf,
  studentTQuantile,
} from '../../../detectors/decay/stats.ts';

/** scipy vectors from test/fixtures/decay/generate_student_t.py. */
const fixture = JSON.parse(readFileSync(new URL('../../fixtures/decay/student_t.json', import.meta.url), 'utf8')) as {
  quantiles: { p: number; dof: number; t: number }[];
  cdf: { t: number; dof: number; p: number }[];
  incomplete_beta: { x: number; a: number; b: number; value: number }[];
  profile_cutoffs: { level: number; n: number; parameters: number; cutoff: number }[];
};

const relativeError = (actual: number, expected: number): number =>
  expected === 0 ? Math.abs(actual) : Math.abs(actual - expected) / Math.abs(expected);

describe('Student-t quantile against scipy.stats.t.ppf', () => {
  it('covers the degrees of freedom the decay fit and the benchmarks use (1, 2, 5, 10, 30)', () => {
    const dofs = new Set(fixture.quantiles.map((q) => q.dof));
    for (const dof of [1, 2, 5, 10, 30]) expect(dofs.has(dof)).toBe(true);
  });

  it.each(fixture.quantiles.map((q) => [q.dof, q.p, q.t] as const))(
    'dof %s, p %s → %s (relative error < 1e-10)',
    (dof, p, t) => {
      const actual = studentTQuantile(p, dof);
      if (Math.abs(t) < 1e-12)
        expect(Math.abs(actual - t)).toBeLessThan(1e-15); // p = 0.5: scipy rounds to ±1e-16
      else expect(relativeError(actual, t)).toBeLessThan(1e-10);
    },
  );

  it('is the inverse of its distribution function', () => {
    for (const dof of [1, 2.5, 4, 17])
      for (const p of [0.0001, 0.05, 0.3, 0.7, 0.95, 0.9999])
        expect(Math.abs(studentTCdf(studentTQuantile(p, dof), dof) - p)).toBeLessThan(1e-13);
  });

  it('rejects probabilities outside (0, 1) and non-positive degrees of freedom with a message', () => {
    expect(() => studentTQuantile(1, 3)).toThrow(/p must be in \(0, 1\)/);
    expect(() => studentTQuantile(0.9, 0)).toThrow(/degrees of freedom must be > 0/);
  });

  it('tends to the normal quantile for very many degrees of freedom', () => {
    expect(studentTQuantile(0.975, 1e9)).toBeCloseTo(1.959963985, 8);
  });
});

describe('Student-t distribution function against scipy.stats.t.cdf', () => {
  it.each(fixture.cdf.map((c) => [c.dof, c.t, c.p] as const))('dof %s, t %s → %s', (dof, t, p) => {
    const actual = studentTCdf(t, dof);
    // Relative in the lower tail (small p), absolute near 1.
    expect(p < 0.5 ? relativeError(actual, p) : Math.abs(actual - p)).toBeLessThan(1e-12);
  });
});

describe('regularized incomplete beta against scipy.special.betainc', () => {
  it.each(fixture.incomplete_beta.map((c) => [c.x, c.a, c.b, c.value] as const))(
    'I_%s(%s, %s) = %s',
    (x, a, b, value) => {
      const actual = regularizedIncompleteBeta(x, a, b);
      expect(value < 0.5 ? relativeError(actual, value) : Math.abs(actual - value)).toBeLessThan(1e-12);
    },
  );
});

describe('profile-deviance cut-off against n·ln(1 + F(level; 1, ν)/ν) from scipy.stats.f.ppf', () => {
  it.each(fixture.profile_cutoffs.map((c) => [c.level, c.n, c.parameters, c.cutoff] as const))(
    'level %s, n %s, %s parameters → %s',
    (level, n, parameters, cutoff) => {
      expect(relativeError(profileCutoff(level, n, parameters), cutoff)).toBeLessThan(1e-10);
    },
  );
});
