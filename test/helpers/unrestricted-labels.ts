/**
 * The unrestricted form of the repositories' label reads, for the test that holds them equal to
 * the restricted ones (test/integration/label-reads-restricted.test.ts) and the benchmark that
 * times both (`npm run bench -- window-reads --alone`): production never runs it.
 */
import type { ClickHouseClient } from '@clickhouse/client';

/**
 * The unrestricted form of a query: each `PREWHERE event_id IN (…)` of a read of `labels` taken
 * out (the restriction labels-of-events.ts writes). Returns the text and how many it took out.
 */
export function withoutLabelRestriction(sql: string): { sql: string; removed: number } {
  const opening = /FROM labels( FINAL)? PREWHERE event_id IN \(/g;
  let out = '';
  let from = 0;
  let removed = 0;
  for (let m = opening.exec(sql); m !== null; m = opening.exec(sql)) {
    const clauseStart = m.index + m[0].indexOf('PREWHERE');
    let depth = 1;
    let i = m.index + m[0].length;
    for (; i < sql.length && depth > 0; i++) depth += sql[i] === '(' ? 1 : sql[i] === ')' ? -1 : 0;
    out += sql.slice(from, clauseStart);
    from = i;
    opening.lastIndex = i;
    removed += 1;
  }
  return { sql: out + sql.slice(from), removed };
}

/** A client whose queries run without their label restrictions; `removed` counts what it took out. */
export function unrestricted(client: ClickHouseClient): { client: ClickHouseClient; removed: () => number } {
  let removed = 0;
  const proxy = new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop !== 'query' || typeof value !== 'function') return value;
      return (params: { query: string }) => {
        const stripped = withoutLabelRestriction(params.query);
        removed += stripped.removed;
        return (value as (p: unknown) => unknown).call(target, { ...params, query: stripped.sql });
      };
    },
  });
  return { client: proxy, removed: () => removed };
}
