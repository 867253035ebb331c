import type { z } from 'zod';
import {
  boolean,
  field,
  finiteNumber,
  integerBetween,
  isoDateTime,
  literal,
  nullValue,
  number,
  numberBetween,
  object,
  oneOf,
  optional,
  record,
  remembered,
  text,
  vector,
} from './contract-fields.ts';
import type { ValidationIssue } from './errors.ts';

/**
 * The data contracts of what halflife ingests (docs/contracts.md explains them for users).
 * Versioned: a record may carry `contract_version`; absent means the current version.
 * Validation is strict: unknown top-level fields are errors, and every error names its field.
 *
 * Each record is one table of fields (contract-fields.ts) from which both its zod schema (the
 * API, OpenAPI, every rejection's reason) and ingest's fast check derive, so adding or changing
 * a field changes both.
 */
export const CONTRACT_VERSION = 1;

/** Limits of one record (docs/contracts.md "Limits"). */
export const CONTRACT_LIMITS = {
  features: 1000,
  metadataKeys: 64,
  metadataKeyChars: 128,
  metadataValueChars: 4096,
  eventIdChars: 128,
  modelVersionChars: 64,
  subjectIdChars: 256,
  labelChars: 256,
  categoryChars: 1024,
  /** Classes in one class-probability vector. */
  classes: 1000,
  /** Numbers in one vector feature (an embedding); the model declares each vector's exact length. */
  vectorDimension: 4096,
} as const;

const contractVersion = optional(literal(CONTRACT_VERSION));

/**
 * Free-text ids (event, version, subject): any text but control characters, and not U+FFFD,
 * which is what invalid UTF-8 turns into when decoded. An id is copied into logs, URLs and
 * audit answers; a NUL or an escape sequence in one breaks them.
 */
const ID_TEXT = {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what ids may not hold
  regex: /^[^\u0000-\u001f\u007f-\u009f\ufffd]*$/,
  message: 'no control characters (U+0000–U+001F, U+007F–U+009F) and no U+FFFD (the mark of invalid UTF-8)',
};
const idText = (max: number) => text({ min: 1, max, pattern: ID_TEXT });

const identifier = text({
  min: 1,
  max: 128,
  pattern: {
    regex: /^[A-Za-z0-9][A-Za-z0-9._:-]*$/,
    message: 'use letters, digits and . _ : - (starting with a letter or digit)',
  },
});

/** Epoch milliseconds or an ISO-8601 string with a time zone. */
const timestamp = oneOf(
  integerBetween(
    { value: 0, message: 'epoch milliseconds must be ≥ 0' },
    { value: 253402300799999, message: 'epoch milliseconds beyond year 9999' },
  ),
  isoDateTime('an ISO-8601 date-time with a time zone (e.g. 2026-01-31T12:00:00Z) or epoch milliseconds'),
);

const featureName = remembered(
  text({
    pattern: {
      regex: /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/,
      message: 'feature names start with a letter or _ and use letters, digits, _ . -',
    },
  }),
);

/** A fixed-length numeric array (an embedding); its exact length is the model's declaration (ingest checks it). */
const vectorValue = vector(CONTRACT_LIMITS.vectorDimension);

const featureValue = oneOf(
  finiteNumber(),
  text({ max: CONTRACT_LIMITS.categoryChars }),
  boolean(),
  nullValue(),
  vectorValue,
);

/** How far a class-probability vector's sum may stray from 1 (= detectors/quality PROBABILITY_SUM_TOLERANCE). */
export const PROBABILITY_SUM_TOLERANCE = 1e-6;

/** Whether a record of probabilities sums to 1 within the tolerance. */
function sumsToOne(probabilities: Record<string, number>): boolean {
  let sum = 0;
  for (const name in probabilities) sum += probabilities[name] as number;
  return Math.abs(sum - 1) <= PROBABILITY_SUM_TOLERANCE;
}

/** A multiclass model's class probabilities, keyed by class: each in [0, 1], summing to 1. */
const classProbabilities = (() => {
  const entries = record(text({ min: 1, max: CONTRACT_LIMITS.labelChars }), numberBetween(0, 1), {
    min: { count: 2, message: 'at least two classes' },
    max: { count: CONTRACT_LIMITS.classes, message: `at most ${CONTRACT_LIMITS.classes} classes` },
  });
  return field(
    entries.schema.refine(
      sumsToOne,
      `must sum to 1 (within ${PROBABILITY_SUM_TOLERANCE}): send the model's softmax output, one entry per class`,
    ),
    (v) => entries.accepts(v) && sumsToOne(v),
  );
})();

const prediction = object(
  {
    /** Probability of the positive class, for binary classifiers. */
    score: optional(numberBetween(0, 1)),
    /** Probability of each class, keyed by class, for multiclass classifiers. */
    probabilities: optional(classProbabilities),
    /** Predicted class, for classifiers. */
    class: optional(oneOf(text({ min: 1, max: CONTRACT_LIMITS.labelChars }), number(), boolean())),
    /** Predicted value, for regressors. */
    value: optional(finiteNumber()),
  },
  {
    holds: (p) =>
      p.score !== undefined || p.class !== undefined || p.value !== undefined || p.probabilities !== undefined,
    message: 'needs at least one of score, class, value, probabilities',
  },
);

/** A scoring event, as a client sends it. */
export const scoringEventContract = object({
  contract_version: contractVersion,
  event_id: idText(CONTRACT_LIMITS.eventIdChars),
  model_id: identifier,
  model_version: idText(CONTRACT_LIMITS.modelVersionChars),
  timestamp,
  features: record(featureName, featureValue, {
    min: { count: 1, message: 'at least one feature is required' },
    max: { count: CONTRACT_LIMITS.features, message: `at most ${CONTRACT_LIMITS.features} features` },
  }),
  prediction,
  subject_id: optional(idText(CONTRACT_LIMITS.subjectIdChars)),
  metadata: optional(
    record(remembered(idText(CONTRACT_LIMITS.metadataKeyChars)), text({ max: CONTRACT_LIMITS.metadataValueChars }), {
      max: {
        count: CONTRACT_LIMITS.metadataKeys,
        message: `at most ${CONTRACT_LIMITS.metadataKeys} metadata keys`,
      },
    }),
  ),
});

export const scoringEventSchema = scoringEventContract.schema;
export type ScoringEvent = z.infer<typeof scoringEventSchema>;

/**
 * A label (the observed outcome of a scoring event), as a client sends it. `model_id` is
 * optional: a label joins its event by `event_id`; naming the model lets ingest check the label
 * against the model's declared kind (a multiclass model's classes, a regression model's number),
 * which it cannot do for a label alone (its event may not have arrived yet).
 */
export const labelContract = object({
  contract_version: contractVersion,
  event_id: idText(CONTRACT_LIMITS.eventIdChars),
  model_id: optional(identifier),
  label: oneOf(text({ min: 1, max: CONTRACT_LIMITS.labelChars }), finiteNumber(), boolean()),
  timestamp,
});

export const labelSchema = labelContract.schema;
export type Label = z.infer<typeof labelSchema>;

/** A scoring event as a row of the `scoring_events` table. */
export interface ScoringEventRow {
  event_id: string;
  model_id: string;
  model_version: string;
  ts: number;
  subject_id: string;
  num_features: Record<string, number>;
  cat_features: Record<string, string>;
  /** Vector features (embeddings), stored as Float32 arrays. @default {} */
  vec_features?: Record<string, number[]>;
  missing_features: string[];
  prediction_score: number | null;
  prediction_class: string | null;
  prediction_value: number | null;
  /** A multiclass prediction's class probabilities. @default {} */
  prediction_probabilities?: Record<string, number>;
  metadata: Record<string, string>;
  contract_version: number;
  source: string;
  source_ref: string;
}

/** A label as a row of the `labels` table. */
export interface LabelRow {
  event_id: string;
  label: string;
  label_numeric: number | null;
  label_ts: number;
  contract_version: number;
  source: string;
  source_ref: string;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; reason: string; issues: ValidationIssue[] };

/** Where a record came from, kept on its row for provenance. */
export interface RecordSource {
  source: 'kafka' | 'http';
  ref: string;
}

/**
 * Validate a scoring event: the fast check when it is sure, zod otherwise (which decides, and
 * words the reason of a rejection).
 */
export function validateScoringEvent(input: unknown, from: RecordSource): Validated<ScoringEventRow> {
  if (scoringEventContract.accepts(input)) return { ok: true, value: scoringEventRow(input, from) };
  const parsed = scoringEventSchema.safeParse(input);
  return parsed.success ? { ok: true, value: scoringEventRow(parsed.data, from) } : invalid(parsed.error, input);
}

/** Validate a label, as {@link validateScoringEvent} does an event. */
export function validateLabel(input: unknown, from: RecordSource): Validated<LabelRow> {
  if (labelContract.accepts(input)) return { ok: true, value: labelRow(input, from) };
  const parsed = labelSchema.safeParse(input);
  return parsed.success ? { ok: true, value: labelRow(parsed.data, from) } : invalid(parsed.error, input);
}

/** A valid scoring event as its row: features split into numeric, categorical and missing. */
export function scoringEventRow(e: ScoringEvent, from: RecordSource): ScoringEventRow {
  // Null-prototype maps: they take many keys one by one faster than `{}` (about 0.4 µs a
  // realistic event), and JSON.stringify encodes them alike.
  const num = Object.create(null) as Record<string, number>;
  const cat = Object.create(null) as Record<string, string>;
  let vec: Record<string, number[]> | undefined;
  const missing: string[] = [];
  const features = e.features;
  for (const name in features) {
    const value = features[name];
    if (value === null) missing.push(name);
    else if (typeof value === 'number') num[name] = value;
    else if (Array.isArray(value)) (vec ??= Object.create(null) as Record<string, number[]>)[name] = value;
    else cat[name] = String(value);
  }
  return {
    event_id: e.event_id,
    model_id: e.model_id,
    model_version: e.model_version,
    ts: toEpochMs(e.timestamp),
    subject_id: e.subject_id ?? '',
    num_features: num,
    cat_features: cat,
    ...(vec ? { vec_features: vec } : {}),
    missing_features: missing,
    prediction_score: e.prediction.score ?? null,
    prediction_class: e.prediction.class === undefined ? null : String(e.prediction.class),
    prediction_value: e.prediction.value ?? null,
    ...(e.prediction.probabilities ? { prediction_probabilities: e.prediction.probabilities } : {}),
    metadata: e.metadata ?? {},
    contract_version: CONTRACT_VERSION,
    source: from.source,
    source_ref: from.ref,
  };
}

/** A valid label as its row: booleans and numbers are also kept numerically. */
export function labelRow(l: Label, from: RecordSource): LabelRow {
  const numeric = typeof l.label === 'number' ? l.label : typeof l.label === 'boolean' ? Number(l.label) : null;
  return {
    event_id: l.event_id,
    label: String(l.label),
    label_numeric: numeric,
    label_ts: toEpochMs(l.timestamp),
    contract_version: CONTRACT_VERSION,
    source: from.source,
    source_ref: from.ref,
  };
}

/** Parse raw bytes as JSON, turning a syntax error into a dead-letter reason. */
export function parseJsonRecord(
  raw: string,
): { ok: true; value: unknown } | { ok: false; reason: string; issues: ValidationIssue[] } {
  if (raw.length === 0)
    return { ok: false, reason: 'empty message: expected a JSON object', issues: [{ path: '', message: 'empty' }] };
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch (err) {
    return {
      ok: false,
      reason: `not valid JSON: ${(err as Error).message}`,
      issues: [{ path: '', message: 'not JSON' }],
    };
  }
}

function toEpochMs(ts: number | string): number {
  return typeof ts === 'number' ? ts : Date.parse(ts);
}

/**
 * The path and value of the first number that is not finite. JSON has no such numbers, but a
 * literal beyond ±1.8e308 (`1e309`) parses to ±Infinity: zod alone would call it "Invalid input".
 */
export function findNonFinite(value: unknown, path = ''): { path: string; value: number } | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { path: path || '(record)', value };
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, inner] of Object.entries(value)) {
    const hit = findNonFinite(inner, path ? `${path}.${key}` : key);
    if (hit) return hit;
  }
  return undefined;
}

/** The reason of a record that is not a finite number where one is required. */
export function nonFiniteMessage(value: number): string {
  return `${value} is not a finite number (a JSON number beyond ±1.8e308 overflows): clip it, or send it as a string`;
}

function invalid(error: z.ZodError, input: unknown): { ok: false; reason: string; issues: ValidationIssue[] } {
  let issues = error.issues.map((i) => ({
    path: i.path.length > 0 ? i.path.join('.') : '(record)',
    message: i.code === 'unrecognized_keys' ? `unknown field(s) ${i.keys.join(', ')}` : i.message,
  }));
  // Only on the way out (the record is rejected anyway): say what zod's union cannot.
  issues = issues.map((i) => {
    const problem = vectorIssueAt(input, i.path);
    return problem ? { path: problem.path, message: problem.message } : i;
  });
  const overflow = findNonFinite(input);
  if (overflow)
    issues = [
      { path: overflow.path, message: nonFiniteMessage(overflow.value) },
      ...issues.filter((i) => i.path !== overflow.path),
    ];
  return { ok: false, reason: issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues };
}

/**
 * What is wrong with an array sent as a feature value, when zod's union could only say "Invalid
 * input": the first element that is not a finite number, or its length beyond the limit.
 */
function vectorIssueAt(input: unknown, path: string): ValidationIssue | undefined {
  const match = /^features\.([^.]+)$/.exec(path);
  if (!match || input === null || typeof input !== 'object') return undefined;
  const features = (input as { features?: unknown }).features;
  if (features === null || typeof features !== 'object') return undefined;
  const name = match[1] as string;
  const value = (features as Record<string, unknown>)[name];
  if (!Array.isArray(value)) return undefined;
  return vectorProblem(name, value);
}

/** The problem of a vector feature's array as sent, or undefined when its shape is fine. */
export function vectorProblem(name: string, value: readonly unknown[]): ValidationIssue | undefined {
  const max = CONTRACT_LIMITS.vectorDimension;
  if (value.length === 0)
    return {
      path: `features.${name}`,
      message: `an empty array: a vector feature holds the model's declared number of numbers (send null when the vector is missing)`,
    };
  if (value.length > max)
    return {
      path: `features.${name}`,
      message: `a vector of ${value.length} numbers, more than the ${max} a vector feature may hold: reduce its dimension (e.g. PCA) before sending it`,
    };
  const at = value.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
  if (at < 0) return undefined;
  const bad = value[at];
  const found =
    typeof bad === 'number'
      ? String(bad)
      : bad === null
        ? 'null'
        : `a ${typeof bad} (${JSON.stringify(bad)?.slice(0, 40)})`;
  return {
    path: `features.${name}.${at}`,
    message: `element ${at} of vector feature ${name} is ${found}: every element must be a finite number (a missing vector is null as a whole; a JSON number beyond ±1.8e308 overflows)`,
  };
}
