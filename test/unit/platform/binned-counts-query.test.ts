// The count query's planning and reading without an engine; its counts are checked against the
// in-process twins in test/integration/statistics-pushdown.
import { describe, expect, it } from 'vitest';
import {
  LINEAR_BIN_BUDGET,
  LINEAR_BIN_MAX_CUTS,
  countQuery,
  linearBinning,
  type ColumnsToCount,
} from '../../../platform/clickhouse/binned-counts-query.ts';

const columns: ColumnsToCount = {
  features: {
    "amount'; DROP TABLE x": {
      kind: 'numeric',
      cuts: [0, 1, 2],
      counts: [0, 1, 1, 0],
      missing: 0,
      min: 0,
      max: 2,
      mean: 1,
      std: 1,
    },
    city: { kind: 'categorical', counts: { paris: 3, rome: 2, __other__: 4 }, missing: 0 },
  },
  prediction: { kind: 'numeric', cuts: [0.5], counts: [1, 1], missing: 0, min: 0, max: 1, mean: 0.5, std: 0.5 },
  predictionClass: { kind: 'categorical', counts: { yes: 1 }, missing: 0 },
  predictionValue: null,
  cappedCategorical: ['city'],
  otherCategory: '__other__',
};

describe('the count query', () => {
  it('spells out comparisons for few cuts within a budget per query, roundDown beyond', () => {
    const linear = linearBinning();
    expect(linear(new Array<number>(LINEAR_BIN_MAX_CUTS).fill(0))).toBe(true);
    expect(linear(new Array<number>(LINEAR_BIN_MAX_CUTS + 1).fill(0))).toBe(false);
    const budgeted = linearBinning(LINEAR_BIN_MAX_CUTS, LINEAR_BIN_BUDGET);
    let spelled = 0;
    for (let i = 0; i < 100; i++) if (budgeted(new Array<number>(30).fill(0))) spelled++;
    expect(spelled).toBe(Math.floor(LINEAR_BIN_BUDGET / 30));
  });

  it('passes names, cuts and the capped vocabulary as parameters, never as SQL text', () => {
    const query = countQuery(columns);
    const sql = [...query.select, ...query.inner].join('\n');
    expect(sql).not.toContain('amount');
    expect(sql).not.toContain('paris');
    expect(query.params.n0).toBe("amount'; DROP TABLE x");
    expect(query.params.v1).toEqual(['paris', 'rome']);
    expect(query.params.other).toBe('__other__');
    expect([query.params.c0_0, query.params.c0_1, query.params.c0_2]).toEqual(['0', '1', '2']);
  });

  it('reads its one row into counts per column and type violations per feature', () => {
    const row = {
      rows: '10',
      f0_counts: ['1', '2', '3', '1'],
      f0_n: '7',
      f0_min: -1,
      f0_max: 3,
      f0_mean: 1,
      f0_std: 1.2,
      f0_type: '2',
      f1_labels: { paris: '4', __other__: '3' },
      f1_n: '7',
      f1_type: '1',
      p_score_counts: ['4', '6'],
      p_score_n: '10',
      p_score_min: 0.1,
      p_score_max: 0.9,
      p_score_mean: 0.5,
      p_score_std: 0.2,
      p_class_labels: { yes: '9' },
      p_class_n: '9',
    };
    expect(countQuery(columns).read(row)).toEqual({
      rows: 10,
      features: {
        "amount'; DROP TABLE x": { counts: [1, 2, 3, 1], missing: 3, min: -1, max: 3, mean: 1, std: 1.2 },
        city: { kind: 'categorical', counts: { paris: 4, __other__: 3 }, missing: 3 },
      },
      prediction: { counts: [4, 6], missing: 0, min: 0.1, max: 0.9, mean: 0.5, std: 0.2 },
      predictionClass: { kind: 'categorical', counts: { yes: 9 }, missing: 1 },
      predictionValue: null,
      typeViolations: { "amount'; DROP TABLE x": 2, city: 1 },
    });
  });
});
