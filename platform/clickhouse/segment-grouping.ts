/**
 * Segments in the window queries: each segment key becomes one inner column (the event's value
 * for the key, `__missing__` when it has none, `__other__` outside the key's kept values), and
 * the query groups by `GROUPING SETS ((), (s0), (s1), …)`: the whole window and every key's
 * segments come from one read of the rows, the whole window's row with exactly the aggregates
 * the ungrouped query computes. A query without segment keys is left as it was.
 *
 * Every value (key names, kept values, the two reserved labels) travels as a query parameter;
 * what is spliced into SQL text are parameter placeholders named by position.
 */
import { MISSING_SEGMENT, OTHER_SEGMENT, type SegmentKey } from '../../detectors/segments/types.ts';

export { MISSING_SEGMENT, OTHER_SEGMENT };

/** A segment key and the values it keeps (the reference's top K); every other value is `__other__`. */
export interface SegmentsToCount {
  key: SegmentKey;
  values: readonly string[];
}

/** The grouped query's pieces and the reader telling which grouping set a result row belongs to. */
export interface SegmentGrouping {
  inner: string[];
  /** Columns the outer SELECT adds: each key's value and its GROUPING() flag. */
  select: string[];
  /** `GROUP BY GROUPING SETS (…)` (with `extra` columns in every set), or '' without keys. */
  groupBy: (extra?: readonly string[]) => string;
  params: Record<string, unknown>;
  /** Null for the whole window's row; otherwise the key's index and the segment's value. */
  segmentOf: (row: Record<string, unknown>) => { key: number; value: string } | null;
}

/** The value of `key` in a row of `scoring_events`, as a Nullable(String) expression over a named parameter. */
export function segmentValueSql(key: SegmentKey, param: string, prefix = ''): string {
  const map = 'feature' in key ? 'cat_features' : 'metadata';
  return `arrayElementOrNull(${prefix}${map}, {${param}:String})`;
}

/**
 * Plan the segment columns of a window query. `prefix` qualifies the maps (`e.` in a join).
 * Throws RangeError on a key without kept values and no `__other__` to fall into (never: every
 * value outside the kept ones is `__other__`).
 */
export function segmentGrouping(segments: readonly SegmentsToCount[], prefix = ''): SegmentGrouping {
  const params: Record<string, unknown> = {};
  const inner: string[] = [];
  const select: string[] = [];
  if (segments.length > 0) {
    params.seg_missing = MISSING_SEGMENT;
    params.seg_other = OTHER_SEGMENT;
  }
  segments.forEach((s, i) => {
    params[`sk${i}`] = 'feature' in s.key ? s.key.feature : s.key.metadata;
    params[`sv${i}`] = [...s.values];
    inner.push(
      `ifNull(${segmentValueSql(s.key, `sk${i}`, prefix)}, {seg_missing:String}) AS sr${i}`,
      `if(has({sv${i}:Array(String)}, sr${i}), sr${i}, {seg_other:String}) AS s${i}`,
    );
    select.push(`s${i}`, `grouping(s${i}) AS g${i}`);
  });
  return {
    inner,
    select,
    params,
    groupBy: (extra = []) => {
      if (segments.length === 0) return extra.length > 0 ? `GROUP BY ${extra.join(', ')}` : '';
      const sets = [extra, ...segments.map((_, i) => [`s${i}`, ...extra])].map((cols) => `(${cols.join(', ')})`);
      return `GROUP BY GROUPING SETS (${sets.join(', ')})`;
    },
    // GROUPING(s) is 0 in the set that groups by s (standard SQL, ClickHouse's default).
    segmentOf: (row) => {
      for (let i = 0; i < segments.length; i++)
        if (Number(row[`g${i}`]) === 0) return { key: i, value: String(row[`s${i}`]) };
      return null;
    },
  };
}
