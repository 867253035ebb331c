/**
 * The model-update control message (Kafka `kafka.modelUpdatesTopic`, keyed by model id so a
 * model's updates stay in order). Self-contained: every version it routes traffic to comes with
 * its artifact URI, sha256 and features, so a scorer needs no registry access to apply it.
 *
 * A multiclass or regression model's entry says so (`kind`, and a multiclass model's `classes` in
 * the order of its probability output), so the scorer reads its output as what it is.
 *
 * The topic is compacted: only the newest update of each model is guaranteed to stay, and that
 * is the one a starting scorer applies (never an older one). An empty `traffic_split` withdraws
 * the model: the scorer serves nothing for it until the next update (a GDPR withdrawal with no
 * untainted version to fall back to).
 */
import { z } from 'zod';

export const MODEL_UPDATE_SCHEMA_VERSION = 1;

const featureNames = z.object({ numeric: z.array(z.string()), categorical: z.array(z.string()) }).strict();

export const modelUpdateSchema = z
  .object({
    type: z.literal('model-update'),
    schema_version: z.literal(MODEL_UPDATE_SCHEMA_VERSION),
    model_id: z.string().min(1),
    /** The version this update is about (promoted, canaried, rolled back to…). */
    version: z.string().min(1),
    /** Share of live traffic per version; shares sum to 1, or none at all (withdrawn: nothing served). */
    traffic_split: z.record(z.string(), z.number().min(0).max(1)),
    /** Versions that score every request in shadow (results kept apart, see docs/trainers.md). */
    shadow: z.array(z.string()).default([]),
    models: z.record(
      z.string(),
      z
        .object({
          artifact_uri: z.string().min(1),
          sha256: z.string().regex(/^[0-9a-f]{64}$/),
          features: featureNames,
          /** What the model predicts when it is not a binary classifier; absent: binary. */
          kind: z.enum(['multiclass', 'regression']).optional(),
          /** A multiclass model's classes, in the order of its probability output. */
          classes: z.array(z.string().min(1)).min(2).optional(),
        })
        .strict()
        .refine((v) => (v.kind === 'multiclass') === (v.classes !== undefined), {
          message: 'a multiclass model names its classes (and only a multiclass model does)',
        }),
    ),
    reason: z.string(),
    idempotency_key: z.string().min(1),
    published_at: z.number().int(),
  })
  .strict()
  .refine(
    (m) =>
      Object.keys(m.traffic_split).length === 0 ||
      Math.abs(Object.values(m.traffic_split).reduce((a, b) => a + b, 0) - 1) < 1e-6,
    'traffic_split shares must sum to 1 (or be empty: the model is withdrawn)',
  )
  .refine(
    (m) => [...Object.keys(m.traffic_split), ...m.shadow].every((v) => v in m.models),
    'every routed or shadow version needs an entry in models',
  );

export type ModelUpdateMessage = z.infer<typeof modelUpdateSchema>;

/** True when the update serves nothing for its model (withdrawn). */
export function isWithdrawal(m: Pick<ModelUpdateMessage, 'traffic_split'>): boolean {
  return Object.values(m.traffic_split).every((share) => !(share > 0));
}

/** What a version's entry says about the model's kind (nothing for a binary model, whose messages are unchanged). */
export function kindOfEntry(
  kind: { kind: 'binary' } | { kind: 'multiclass'; classes: string[] } | { kind: 'regression' },
): { kind?: 'multiclass' | 'regression'; classes?: string[] } {
  if (kind.kind === 'multiclass') return { kind: 'multiclass', classes: [...kind.classes] };
  return kind.kind === 'regression' ? { kind: 'regression' } : {};
}
