/**
 * Deep equality for query results that may differ only where the engine is free to differ: the
 * rounding of sums taken in another order and, when asked, the order of rows a GROUP BY returns.
 */
import { expect } from 'vitest';

export interface CloseOptions {
  /** Largest difference of two numbers relative to max(1, |expected|). @default 1e-9 */
  tolerance?: number;
  /** Compare arrays as sets of rows (sorted by their text and whole-number fields first). @default false */
  unordered?: boolean;
}

/** Every number of `actual` within `tolerance` of `expected`'s; everything else equal. */
export function expectClose(actual: unknown, expected: unknown, options: CloseOptions = {}, path = '$'): void {
  const tolerance = options.tolerance ?? 1e-9;
  if (typeof expected === 'number' && typeof actual === 'number') {
    if (Object.is(actual, expected)) return;
    const scale = Math.max(1, Math.abs(expected));
    if (!(Math.abs(actual - expected) / scale <= tolerance)) throw new Error(`${path}: ${actual} vs ${expected}`);
    return;
  }
  if (options.unordered && Array.isArray(expected)) {
    expect(Array.isArray(actual), path).toBe(true);
    const byKey = (x: unknown, y: unknown) => rowKey(x).localeCompare(rowKey(y));
    const a = [...(actual as unknown[])].sort(byKey);
    const e = [...expected].sort(byKey);
    expect(a.length, `${path}.length`).toBe(e.length);
    e.forEach((v, i) => expectClose(a[i], v, options, `${path}[${i}]`));
    return;
  }
  if (expected !== null && typeof expected === 'object') {
    expect(actual !== null && typeof actual === 'object', path).toBe(true);
    const a = actual as Record<string, unknown>;
    const e = expected as Record<string, unknown>;
    expect(Object.keys(a).sort(), path).toEqual(Object.keys(e).sort());
    for (const k of Object.keys(e)) expectClose(a[k], e[k], options, `${path}.${k}`);
    return;
  }
  expect(actual, path).toEqual(expected);
}

/** What orders rows that come back in no set order: their text and whole-number fields. */
function rowKey(row: unknown): string {
  if (row === null || typeof row !== 'object') return JSON.stringify(row);
  return JSON.stringify(
    Object.entries(row as Record<string, unknown>)
      .filter(([, v]) => typeof v !== 'number' || Number.isInteger(v))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, v !== null && typeof v === 'object' ? rowKey(v) : v]),
  );
}
