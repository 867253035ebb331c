/**
 * The serving-report message (Kafka `kafka.servingReportsTopic`, keyed by scorer id so one
 * scorer's reports stay in order): what a scorer serves, said by the scorer itself. The reference
 * scorer sends one on start, on every model update it applies or refuses, at every heartbeat and
 * when it stops; any serving that speaks this protocol is counted the same way (docs/contracts.md).
 * halflife stores them in `serving_reports`; promotions wait for them, and the registry, API, CLI
 * and dashboard compare them with what the registry asks for.
 */
import { z } from 'zod';

export const SERVING_REPORT_SCHEMA_VERSION = 1;

export const SERVING_REPORT_EVENTS = ['started', 'heartbeat', 'serving', 'applied', 'refused', 'stopped'] as const;
export type ServingReportEvent = (typeof SERVING_REPORT_EVENTS)[number];

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

/** A model's routing as a scorer holds it. */
export const servedRoutingSchema = z
  .object({
    /** The version with the largest live share ('' when the model is withdrawn: nothing served). */
    version: z.string().max(64),
    sha256: z.union([sha256, z.literal('')]),
    /** When this routing was put in place (epoch ms). */
    since: z.number().int().min(0),
    /** Idempotency key of the model update this routing came from. */
    update_key: z.string().max(512),
    routes: z.array(z.object({ version: z.string().min(1).max(64), share: z.number().min(0).max(1), sha256 }).strict()),
    shadow: z.array(z.string().min(1).max(64)),
  })
  .strict();

export const servingReportSchema = z
  .object({
    type: z.literal('serving-report'),
    schema_version: z.literal(SERVING_REPORT_SCHEMA_VERSION),
    /** Stable for the life of one scorer process; a restart is a new scorer. */
    scorer_id: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]*$/),
    /** Increases by one per report of this scorer: (scorer_id, seq) is stored once. */
    seq: z.number().int().min(0),
    /**
     * started / heartbeat / stopped: about the scorer (model_id ''); serving: a model's routing
     * (on start and at every heartbeat); applied / refused: a model update, with its key.
     */
    event: z.enum(SERVING_REPORT_EVENTS),
    model_id: z.string().max(128),
    /** The routing served after this event (null: the scorer serves nothing for the model). */
    serving: servedRoutingSchema.nullable(),
    /** applied / refused: the update concerned. */
    update: z
      .object({
        key: z.string().min(1).max(512),
        version: z.string().max(64),
        sha256: z.union([sha256, z.literal('')]),
      })
      .strict()
      .nullable(),
    /** refused: why, in the scorer's words. */
    reason: z.string().max(4000),
    /** The heartbeat this scorer promises (ms): three missed ones and it no longer counts as serving. */
    heartbeat_ms: z.number().int().positive(),
    host: z.string().max(256),
    pid: z.number().int().min(0),
    reported_at: z.number().int().min(0),
  })
  .strict()
  .refine((r) => (r.event === 'applied' || r.event === 'refused') === (r.update !== null), {
    message: 'applied and refused reports name their update; other reports do not',
    path: ['update'],
  })
  .refine((r) => ['started', 'heartbeat', 'stopped'].includes(r.event) === (r.model_id === ''), {
    message: 'started, heartbeat and stopped reports are about the scorer (model_id ""); the others name a model',
    path: ['model_id'],
  });

export type ServingReport = z.infer<typeof servingReportSchema>;
export type ServedRouting = z.infer<typeof servedRoutingSchema>;
