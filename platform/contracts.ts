import type { z } from 'zod';
import {
  boolean,
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

const MAX_FEATURES = 1000;

const contractVersion = optional(literal(CONTRACT_VERSION));

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

const featureValue = oneOf(finiteNumber(), text({ max: 1024 }), boolean(), nullValue());

const prediction = object(
  {
    /** Probability of the positive class, for binary classifiers. */
    score: optional(numberBetween(0, 1)),
    /** Predicted class, for classifiers. */
    class: optional(oneOf(text({ min: 1, max: 256 }), number(), boolean())),
    /** Predicted value, for regressors. */
    value: optional(finiteNumber()),
  },
  {
    holds: (p) => p.score !== undefined || p.class !== undefined || p.value !== undefined,
    message: 'needs at least one of score, class, value',
  },
);

/** A scoring event, as a client sends it. */
export const scoringEventContract = object({
  contract_version: contractVersion,
  event_id: text({ min: 1, max: 128 }),
  model_id: identifier,
  model_version: text({ min: 1, max: 64 }),
  timestamp,
  features: record(featureName, featureValue, {
    min: { count: 1, message: 'at least one feature is required' },
    max: { count: MAX_FEATURES, message: `at most ${MAX_FEATURES} features` },
  }),
  prediction,
  subject_id: optional(text({ min: 1, max: 256 })),
  metadata: optional(record(text({}), text({ max: 4096 }))),
});

export const scoringEventSchema = scoringEventContract.schema;
export type ScoringEvent = z.infer<typeof scoringEventSchema>;

/** A label (the observed outcome of a scoring event), as a client sends it. */
export const labelContract = object({
  contract_version: contractVersion,
  event_id: text({ min: 1, max: 128 }),
  label: oneOf(text({ min: 1, max: 256 }), finiteNumber(), boolean()),
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
  missing_features: string[];
  prediction_score: number | null;
  prediction_class: string | null;
  prediction_value: number | null;
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
  return parsed.success ? { ok: true, value: scoringEventRow(parsed.data, from) } : invalid(parsed.error);
}

/** Validate a label, as {@link validateScoringEvent} does an event. */
export function validateLabel(input: unknown, from: RecordSource): Validated<LabelRow> {
  if (labelContract.accepts(input)) return { ok: true, value: labelRow(input, from) };
  const parsed = labelSchema.safeParse(input);
  return parsed.success ? { ok: true, value: labelRow(parsed.data, from) } : invalid(parsed.error);
}

/** A valid scoring event as its row: features split into numeric, categorical and missing. */
export function scoringEventRow(e: ScoringEvent, from: RecordSource): ScoringEventRow {
  // Null-prototype maps: they take many keys one by one faster than `{}` (about 0.4 µs a
  // realistic event), and JSON.stringify encodes them alike.
  const num = Object.create(null) as Record<string, number>;
  const cat = Object.create(null) as Record<string, string>;
  const missing: string[] = [];
  const features = e.features;
  for (const name in features) {
    const value = features[name];
    if (value === null) missing.push(name);
    else if (typeof value === 'number') num[name] = value;
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
    missing_features: missing,
    prediction_score: e.prediction.score ?? null,
    prediction_class: e.prediction.class === undefined ? null : String(e.prediction.class),
    prediction_value: e.prediction.value ?? null,
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

function invalid(error: z.ZodError): { ok: false; reason: string; issues: ValidationIssue[] } {
  const issues = error.issues.map((i) => ({
    path: i.path.length > 0 ? i.path.join('.') : '(record)',
    message: i.code === 'unrecognized_keys' ? `unknown field(s) ${i.keys.join(', ')}` : i.message,
  }));
  return { ok: false, reason: issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues };
}
