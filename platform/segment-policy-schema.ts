import { z } from 'zod';
import {
  DEFAULT_SEGMENT_MIN_EVENTS,
  DEFAULT_SEGMENT_SLO_MIN_EVENTS,
  DEFAULT_SEGMENT_TOP_K,
  MAX_SEGMENT_TOP_K,
  type SegmentPolicy,
} from '../detectors/segments/types.ts';

/**
 * The `segments` section of a retrain policy (platform/policy-file.ts): which keys split the
 * traffic, how many segments each keeps, how many events a segment needs to be judged, and an
 * optional segment SLO. Its output is a {@link SegmentPolicy} (asserted below).
 */

// Feature names as the event contract allows them (platform/contract-fields.ts); metadata keys alike.
const name = (what: string) =>
  z
    .string({ error: `expected the name of a ${what}` })
    .min(1, { error: `must not be empty: the name of a ${what}` })
    .max(128, { error: 'at most 128 characters' });

const KEY_HINT = 'expected { feature: <categorical feature> } or { metadata: <event metadata field> }';
const keySchema = z.union(
  [
    z.object({ feature: name('categorical feature') }, { error: KEY_HINT }).strict(),
    z.object({ metadata: name('metadata field') }, { error: KEY_HINT }).strict(),
  ],
  { error: KEY_HINT },
);

const count = (what: string) =>
  z
    .number({ error: `expected a number: ${what}` })
    .int({ error: `must be a whole number: ${what}` })
    .min(1, { error: `must be at least 1: ${what}` });

const sloSchema = z
  .object({
    min: z
      .number({ error: 'required: the lowest acceptable quality in a segment, e.g. 0.8' })
      .min(0, { error: 'a quality between 0 and 1' })
      .max(1, { error: 'a quality between 0 and 1' }),
    minEvents: count('labelled events a segment needs before its quality is held to the SLO').default(
      DEFAULT_SEGMENT_SLO_MIN_EVENTS,
    ),
    action: z
      .enum(['health', 'retrain'], { error: 'expected "health" (mark the model degraded) or "retrain" (also retrain)' })
      .default('health'),
  })
  .strict()
  .describe(
    'Quality in any segment with at least minEvents labelled events below min (its 95% interval entirely below) marks the model degraded; with action "retrain" it also fires a retrain.',
  );

export const segmentPolicySchema = z
  .object({
    keys: z
      .array(keySchema, { error: 'expected a list of segment keys' })
      .min(1, { error: 'name at least one segment key, e.g. - feature: country' })
      .max(8, { error: 'at most 8 segment keys' })
      .refine((keys) => new Set(keys.map((k) => JSON.stringify(k))).size === keys.length, {
        error: 'each segment key at most once',
      }),
    topK: count('segments kept per key (the rest pool into "__other__")')
      .max(MAX_SEGMENT_TOP_K, { error: `at most ${MAX_SEGMENT_TOP_K} segments per key` })
      .default(DEFAULT_SEGMENT_TOP_K),
    minEvents: count('scored events a segment needs to be judged').default(DEFAULT_SEGMENT_MIN_EVENTS),
    slo: sloSchema.optional(),
  })
  .strict()
  .describe(
    'Drift, data quality and realised quality per segment (top K values of each key by reference volume, plus "__other__"), with Benjamini–Hochberg across segments × features.',
  );

type Exactly<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesTypes: Exactly<z.output<typeof segmentPolicySchema>, SegmentPolicy> = true;
void schemaMatchesTypes;
