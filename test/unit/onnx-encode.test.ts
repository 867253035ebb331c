import { describe, expect, it } from 'vitest';
import {
  categoricalValue,
  encodeBatch,
  numericValue,
  type FeatureNames,
  type RawFeatures,
} from '../../platform/onnx/features.ts';

/** The plain reading of the contract: each feature's value by its name, row by row. */
function reference(features: FeatureNames, rows: readonly RawFeatures[]) {
  const numeric: number[] = [];
  const categorical: string[] = [];
  for (const row of rows) {
    for (const name of features.numeric) numeric.push(numericValue(row[name]));
    for (const name of features.categorical) categorical.push(categoricalValue(row[name]));
  }
  return { rows: rows.length, numeric: Float32Array.from(numeric), categorical };
}

describe('encodeBatch (one compiled encoder per feature list)', () => {
  it('reads every feature name as that property, whatever characters it has', () => {
    const names = ['plain', 'with "quotes"', "it's", 'back\\slash', 'new\nline', '\u2028sep', 'ünï', '1', ''];
    const features = { numeric: [...names, 'toString', '__proto__'], categorical: [...names, 'constructor'] };
    const rows: RawFeatures[] = [0, 1, 2].map((i) => Object.fromEntries(names.map((n, j) => [n, i * 10 + j])));
    rows.push({ plain: '3.5', 'with "quotes"': true, "it's": null, 'back\\slash': 'x', 'new\nline': ' ' });
    rows.push({});
    expect(encodeBatch(features, rows)).toEqual(reference(features, rows));
  });

  it('matches the reference on mixed types, missing values and rows of different shapes', () => {
    const features = { numeric: ['a', 'b'], categorical: ['plan', 'flag'] };
    const rows: RawFeatures[] = [
      { a: 1, b: -2.5, plan: 'pro', flag: true },
      { b: Number.NaN, a: Number.POSITIVE_INFINITY, flag: false },
      { a: '7', plan: 3, extra: 'ignored' },
      { a: false, b: '', plan: null, flag: undefined },
    ];
    expect(encodeBatch(features, rows)).toEqual(reference(features, rows));
    expect(encodeBatch(features, [])).toEqual({ rows: 0, numeric: new Float32Array(0), categorical: [] });
  });

  it('follows a feature list changed in place', () => {
    const features = { numeric: ['a', 'b'], categorical: [] as string[] };
    const rows = [{ a: 1, b: 2, c: 3 }];
    expect([...encodeBatch(features, rows).numeric]).toEqual([1, 2]);
    features.numeric[1] = 'c';
    expect([...encodeBatch(features, rows).numeric]).toEqual([1, 3]);
    features.numeric.push('b');
    expect([...encodeBatch(features, rows).numeric]).toEqual([1, 3, 2]);
  });
});
