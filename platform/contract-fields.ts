/**
 * Building blocks of the data contracts (contracts.ts). Each field is written once and yields two
 * things from the same bounds:
 *  - its zod schema: the contract itself, used by the API, the OpenAPI document and the wording
 *    of every dead letter's reason;
 *  - a fast check for ingest's hot path. The zod schema costs ~30 µs per realistic event, the
 *    largest single cost of ingest; the check costs a fraction. It answers only "surely valid":
 *    whatever it is unsure of (ISO timestamps, `__proto__` keys, any violation) goes through zod,
 *    which decides and words the reason. It may refuse what the schema accepts, never the
 *    reverse (test/unit/platform/contracts.test.ts compares both on valid and broken records).
 * The checks accept values as they are: none of these schemas transforms its input, so a value
 * the check accepts is what zod would have returned.
 */
import { z } from 'zod';

export interface Field<S extends z.ZodType = z.ZodType> {
  readonly schema: S;
  /** True only if `schema` surely accepts `value`. */
  readonly accepts: (value: unknown) => value is z.output<S>;
}

/** A field from a schema and its fast check, when no builder below fits. */
export function field<S extends z.ZodType>(schema: S, accepts: (value: unknown) => boolean): Field<S> {
  return { schema, accepts: accepts as Field<S>['accepts'] };
}

export interface TextBounds {
  /** Fewest UTF-16 code units. @default no minimum */
  min?: number;
  /** Most UTF-16 code units. @default no maximum */
  max?: number;
  /** A pattern the whole string must match, and the reason a mismatch is given. @default none */
  pattern?: { regex: RegExp; message: string };
}

/** A string within `bounds`. */
export function text(bounds: TextBounds): Field<z.ZodString> {
  const { min = 0, max = Infinity, pattern } = bounds;
  let schema = z.string();
  if (bounds.min !== undefined) schema = schema.min(bounds.min);
  if (bounds.max !== undefined) schema = schema.max(bounds.max);
  if (pattern) schema = schema.regex(pattern.regex, pattern.message);
  return field(
    schema,
    (v) => typeof v === 'string' && v.length >= min && v.length <= max && (!pattern || pattern.regex.test(v)),
  );
}

/**
 * The same string field, whose check remembers up to `max` values it accepted (then starts
 * over; @default 4096). For keys that repeat in every record, such as feature names: a set
 * look-up instead of a regular expression per key per record.
 */
export function remembered(inner: Field<z.ZodString>, max = 4096): Field<z.ZodString> {
  const accepted = new Set<string>();
  return field(inner.schema, (v) => {
    if (typeof v !== 'string') return false;
    if (accepted.has(v)) return true;
    if (!inner.accepts(v)) return false;
    if (accepted.size >= max) accepted.clear();
    accepted.add(v);
    return true;
  });
}

/** Any number; the check takes only finite ones (JSON has no others). */
export function number(): Field<z.ZodNumber> {
  return field(z.number(), (v) => typeof v === 'number' && Number.isFinite(v));
}

/** A finite number, refused with `must be a finite number` otherwise. */
export function finiteNumber(): Field<z.ZodNumber> {
  return field(
    z.number().refine(Number.isFinite, 'must be a finite number'),
    (v) => typeof v === 'number' && Number.isFinite(v),
  );
}

/**
 * A non-empty array of finite numbers, at most `max` long (a vector feature). The check walks the
 * array once; zod's reason for a broken one is reworded by contracts.ts (a union says only "Invalid input").
 */
export function vector(max: number): Field<z.ZodArray<z.ZodNumber>> {
  return field(z.array(z.number().refine(Number.isFinite, 'must be a finite number')).min(1).max(max), (v) => {
    if (!Array.isArray(v) || v.length === 0 || v.length > max) return false;
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x !== 'number' || !Number.isFinite(x)) return false;
    }
    return true;
  });
}

/** A number in [min, max]. */
export function numberBetween(min: number, max: number): Field<z.ZodNumber> {
  return field(z.number().min(min).max(max), (v) => typeof v === 'number' && v >= min && v <= max);
}

/** A safe integer in [min, max], with the messages the contract words its bounds in. */
export function integerBetween(
  min: { value: number; message: string },
  max: { value: number; message: string },
): Field<z.ZodNumber> {
  return field(
    z.number().int().min(min.value, min.message).max(max.value, max.message),
    (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= min.value && v <= max.value,
  );
}

/** An ISO-8601 date-time with a time zone. Parsing one is zod's job: the check always defers. */
export function isoDateTime(message: string): Field<z.ZodISODateTime> {
  return field(z.iso.datetime({ offset: true, message }), () => false);
}

export function boolean(): Field<z.ZodBoolean> {
  return field(z.boolean(), (v) => typeof v === 'boolean');
}

export function nullValue(): Field<z.ZodNull> {
  return field(z.null(), (v) => v === null);
}

export function literal<const T extends string | number | boolean>(value: T): Field<z.ZodLiteral<T>> {
  return field(z.literal(value), (v) => v === value);
}

export function optional<S extends z.ZodType>(inner: Field<S>): Field<z.ZodOptional<S>> {
  return field(inner.schema.optional(), (v) => v === undefined || inner.accepts(v));
}

type Schemas<T extends readonly Field[]> = { [K in keyof T]: T[K]['schema'] };

/** Any one of the fields, tried in order. */
export function oneOf<const T extends readonly [Field, Field, ...Field[]]>(
  ...fields: T
): Field<z.ZodUnion<Schemas<T>>> {
  const checks = fields.map((f) => f.accepts);
  // A union says only "Invalid input" when the value is missing; say what is wrong instead.
  const union = z.union(fields.map((f) => f.schema) as unknown as Schemas<T>, {
    error: (issue) => (issue.input === undefined ? 'required: the field is missing' : undefined),
  });
  return field(union, (v) => {
    for (let i = 0; i < checks.length; i++) if (checks[i]!(v)) return true;
    return false;
  });
}

/** A count of entries and the message that refuses any other count. */
export interface EntryBound {
  count: number;
  message: string;
}

/** An object used as a map: every key checked by `key`, every value by `value`; `entries` @default no bounds. */
export function record<K extends z.ZodString, V extends z.ZodType>(
  key: Field<K>,
  value: Field<V>,
  entries: { min?: EntryBound; max?: EntryBound } = {},
): Field<z.ZodRecord<K, V>> {
  const { min, max } = entries;
  let schema = z.record(key.schema, value.schema);
  if (min) schema = schema.refine((r) => Object.keys(r).length >= min.count, min.message);
  if (max) schema = schema.refine((r) => Object.keys(r).length <= max.count, max.message);
  const least = min?.count ?? 0;
  const most = max?.count ?? Infinity;
  return field(schema, (v) => {
    if (!isPlainObject(v)) return false;
    let count = 0;
    for (const name in v) {
      // A JSON `__proto__` key is an own property; whether zod keeps it is zod's to say.
      if (name === '__proto__' || !key.accepts(name) || !value.accepts(v[name])) return false;
      count++;
    }
    return count >= least && count <= most;
  });
}

type Shape<F extends Record<string, Field>> = { [K in keyof F]: F[K]['schema'] };

/**
 * An object with exactly these fields (unknown keys are errors: a typo must not silently drop a
 * field), and a rule across them that every value must hold (@default none).
 */
export function object<F extends Record<string, Field>>(
  fields: F,
  rule?: { holds: (value: z.output<z.ZodObject<Shape<F>>>) => boolean; message: string },
): Field<z.ZodObject<Shape<F>, z.core.$strict>> {
  const shape = Object.fromEntries(Object.entries(fields).map(([name, f]) => [name, f.schema])) as Shape<F>;
  const strict = z.object(shape).strict();
  const schema = rule ? strict.refine(rule.holds, rule.message) : strict;
  const names = Object.keys(fields);
  const known = new Set(names);
  const checks = names.map((name) => fields[name]!.accepts);
  return field(schema, (v) => {
    if (!isPlainObject(v)) return false;
    for (const name in v) if (!known.has(name)) return false;
    for (let i = 0; i < names.length; i++) if (!checks[i]!(v[names[i]!])) return false;
    return !rule || rule.holds(v as z.output<z.ZodObject<Shape<F>>>);
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
