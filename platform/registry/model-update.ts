/**
 * The model-update control message (Kafka `kafka.modelUpdatesTopic`, keyed by model id so a
 * model's updates stay in order). Self-contained: every version it routes traffic to comes with
 * its artifact URI, sha256 and features, so a scorer needs no registry access to apply it.
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
    /** Share of live traffic per version; shares sum to 1. */
    traffic_split: z.record(z.string(), z.number().min(0).max(1)),
    /** Versions that score every request in shadow (results kept apart, see docs/trainers.md). */
    shadow: z.array(z.string()).default([]),
    models: z.record(
      z.string(),
      z
        .object({ artifact_uri: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/), features: featureNames })
        .strict(),
    ),
    reason: z.string(),
    idempotency_key: z.string().min(1),
    published_at: z.number().int(),
  })
  .strict()
  .refine(
    (m) => Math.abs(Object.values(m.traffic_split).reduce((a, b) => a + b, 0) - 1) < 1e-6,
    'traffic_split shares must sum to 1',
  )
  .refine(
    (m) => [...Object.keys(m.traffic_split), ...m.shadow].every((v) => v in m.models),
    'every routed or shadow version needs an entry in models',
  );

export type ModelUpdateMessage = z.infer<typeof modelUpdateSchema>;
