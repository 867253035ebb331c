/** Values across the SQL boundary of the statistics queries: parameters the binder accepts, numbers and maps read back. */

/**
 * An Array(Float64) parameter as text: the chDB binder refuses integer-valued numbers
 * beyond 2^53 (e.g. a cut at 1e20), and String(x) is the shortest round-trip decimal,
 * which ClickHouse parses back to the same double (and '-Infinity' to −∞).
 */
export const floatArrayParam = (values: readonly number[]): string => `[${values.map((v) => String(v)).join(',')}]`;

/** A number from a JSON row (64-bit integers arrive as strings); NaN when absent. */
export const num = (v: unknown): number => (v === null || v === undefined ? Number.NaN : Number(v));

/** A Map(String, UInt64) column from a JSON row as counts per key. */
export function countsFromMap(value: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = Number(v);
  return out;
}

/** A finite-or-NULL Float64 expression (NaN and ±Inf are missing, like the in-process side). */
export const finiteOrNull = (raw: string): string => `if(isFinite(${raw}), ${raw}, NULL)`;
