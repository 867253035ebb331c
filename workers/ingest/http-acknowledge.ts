/**
 * When a POST /v1/events or /v1/labels is answered: `stored` (its valid records are in the store)
 * or `logged` (the broker holds them on the topics Kafka ingest consumes, which lands them once).
 * The setting `ingest.httpAcknowledge` is the default; `?ack=` overrides it per request.
 */
import { z } from 'zod';

export const HTTP_ACKNOWLEDGEMENTS = ['stored', 'logged'] as const;
export type HttpAcknowledge = (typeof HTTP_ACKNOWLEDGEMENTS)[number];

/** The query string of the ingest routes (also what the OpenAPI document shows). */
export const ingestQuerySchema = z.object({
  ack: z
    .enum(HTTP_ACKNOWLEDGEMENTS)
    .optional()
    .describe(
      'When to answer: `stored` once the valid records are stored (200/207), `logged` once Kafka holds them from all in-sync replicas (202/207; they are stored a moment later, exactly once). Default: the setting `ingest.httpAcknowledge`.',
    ),
});

/**
 * The acknowledgement a request asks for: its `ack` query parameter, else `fallback`. Anything
 * else than one `stored` or `logged` is an error that names the parameter and its values.
 */
export function requestedAcknowledge(
  query: unknown,
  fallback: HttpAcknowledge,
): { ack: HttpAcknowledge } | { error: string } {
  const value = query !== null && typeof query === 'object' ? (query as Record<string, unknown>).ack : undefined;
  if (value === undefined) return { ack: fallback };
  if (typeof value === 'string' && (HTTP_ACKNOWLEDGEMENTS as readonly string[]).includes(value))
    return { ack: value as HttpAcknowledge };
  const shown = Array.isArray(value) ? `${value.length} values` : JSON.stringify(value);
  return {
    error: `ack must be one of ${HTTP_ACKNOWLEDGEMENTS.join(', ')} (once), got ${shown}; leave it out for the setting ingest.httpAcknowledge`,
  };
}
