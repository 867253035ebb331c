import { z } from 'zod';
import type { ValidationIssue } from './errors.ts';

/**
 * The data contracts of what halflife ingests (docs/contracts.md explains them for users).
 * Versioned: a record may carry `contract_version`; absent means the current version.
 * Validation is strict: unknown top-level fields are errors, and every error names its field.
 */
export const CONTRACT_VERSION = 1;

const identifier = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'use letters, digits and . _ : - (starting with a letter or digit)');
const featureName = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;
const MAX_FEATURES = 1000;

/** Epoch milliseconds or an ISO-8601 string with a time zone. */
const timestamp = z.union([
  z.number().int().min(0, 'epoch milliseconds must be ≥ 0').max(253402300799999, 'epoch milliseconds beyond year 9999'),
  z.iso.datetime({
    offset: true,
    message: 'an ISO-8601 date-time with a time zone (e.g. 2026-01-31T12:00:00Z) or epoch milliseconds',
  }),
]);

const featureValue = z.union([
  z.number().refine(Number.isFinite, 'must be a finite number'),
  z.string().max(1024),
  z.boolean(),
  z.null(),
]);

export const scoringEventSchema = z
  .object({
    contract_version: z.literal(CONTRACT_VERSION).optional(),
    event_id: z.string().min(1).max(128),
    model_id: identifier,
    model_version: z.string().min(1).max(64),
    timestamp,
    features: z
      .record(
        z.string().regex(featureName, 'feature names start with a letter or _ and use letters, digits, _ . -'),
        featureValue,
      )
      .refine((f) => Object.keys(f).length > 0, 'at least one feature is required')
      .refine((f) => Object.keys(f).length <= MAX_FEATURES, `at most ${MAX_FEATURES} features`),
    prediction: z
      .object({
        /** Probability of the positive class, for binary classifiers. */
        score: z.number().min(0).max(1).optional(),
        /** Predicted class, for classifiers. */
        class: z.union([z.string().min(1).max(256), z.number(), z.boolean()]).optional(),
        /** Predicted value, for regressors. */
        value: z.number().refine(Number.isFinite, 'must be a finite number').optional(),
      })
      .strict()
      .refine(
        (p) => p.score !== undefined || p.class !== undefined || p.value !== undefined,
        'needs at least one of score, class, value',
      ),
    subject_id: z.string().min(1).max(256).optional(),
    metadata: z.record(z.string(), z.string().max(4096)).optional(),
  })
  .strict();

export type ScoringEvent = z.infer<typeof scoringEventSchema>;

export const labelSchema = z
  .object({
    contract_version: z.literal(CONTRACT_VERSION).optional(),
    event_id: z.string().min(1).max(128),
    label: z.union([
      z.string().min(1).max(256),
      z.number().refine(Number.isFinite, 'must be a finite number'),
      z.boolean(),
    ]),
    timestamp,
  })
  .strict();

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

export function validateScoringEvent(input: unknown, from: RecordSource): Validated<ScoringEventRow> {
  const parsed = scoringEventSchema.safeParse(input);
  if (!parsed.success) return invalid(parsed.error);
  const e = parsed.data;
  const num: Record<string, number> = {};
  const cat: Record<string, string> = {};
  const missing: string[] = [];
  for (const [name, value] of Object.entries(e.features)) {
    if (value === null) missing.push(name);
    else if (typeof value === 'number') num[name] = value;
    else cat[name] = String(value);
  }
  return {
    ok: true,
    value: {
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
    },
  };
}

export function validateLabel(input: unknown, from: RecordSource): Validated<LabelRow> {
  const parsed = labelSchema.safeParse(input);
  if (!parsed.success) return invalid(parsed.error);
  const l = parsed.data;
  const numeric = typeof l.label === 'number' ? l.label : typeof l.label === 'boolean' ? Number(l.label) : null;
  return {
    ok: true,
    value: {
      event_id: l.event_id,
      label: String(l.label),
      label_numeric: numeric,
      label_ts: toEpochMs(l.timestamp),
      contract_version: CONTRACT_VERSION,
      source: from.source,
      source_ref: from.ref,
    },
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
