import { ingestHttp } from '../ingest/http.ts';
import { DEFAULT_TIMESTAMP_WINDOW, type RecordKind, type TimestampWindow } from '../ingest/prepare-record.ts';
import type { IngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import type { RouteModule } from '../api.ts';
import type { HttpIngestStages } from '../ingest/http-stages.ts';

/** Most records one request may carry; larger loads belong on Kafka. */
export const MAX_RECORDS = 50_000;

/**
 * POST /v1/events and /v1/labels (operator and up): the Kafka path's validation and storage
 * for users without Kafka. Body: one JSON object, a JSON array, or NDJSON
 * (`Content-Type: application/x-ndjson`). Invalid records are stored as dead letters and
 * listed in the answer; a re-POST of the same body stores nothing twice.
 */
export function ingestRoutes(
  repository: IngestRepository,
  timestamps: TimestampWindow = DEFAULT_TIMESTAMP_WINDOW,
  /** Where each request's stage timings go (the /metrics histogram); none: not timed. */
  stages?: HttpIngestStages,
): RouteModule {
  return (app, guard) => {
    for (const [path, kind] of [
      ['/v1/events', 'events'],
      ['/v1/labels', 'labels'],
    ] as const satisfies readonly (readonly [string, RecordKind])[]) {
      // Per request: when its body started to arrive, when its answer was ready, how many records.
      const timing = new WeakMap<object, { readFrom: number; answeredAt: number; records: number }>();
      app.post(
        path,
        {
          // The token is checked before the body is read (an anonymous 16 MB body gets 401).
          onRequest: guard('operator'),
          ...(stages
            ? {
                preParsing: async (request: object) => {
                  timing.set(request, { readFrom: performance.now(), answeredAt: 0, records: 0 });
                },
                onResponse: async (request: object) => {
                  const t = timing.get(request);
                  if (t && t.answeredAt > 0)
                    stages.observe(kind, 'response', performance.now() - t.answeredAt, t.records);
                },
              }
            : {}),
        },
        async (request, reply) => {
          const parseFrom = performance.now();
          const records = parseBody(request.body);
          if ('error' in records) return reply.code(400).send({ error: 'bad-request', message: records.error });
          if (records.values.length > MAX_RECORDS)
            return reply.code(413).send({
              error: 'too-large',
              message: `at most ${MAX_RECORDS} records per request; send more through Kafka or in several requests`,
            });
          const t = timing.get(request);
          const count = records.values.length;
          if (stages && t && request.bodyTiming) {
            t.records = count;
            const { receivedAt, parsedAt } = request.bodyTiming;
            stages.observe(kind, 'read', receivedAt - t.readFrom, count);
            // NDJSON lines are parsed here, JSON by the body parser.
            stages.observe(kind, 'parse', parsedAt - receivedAt + (performance.now() - parseFrom), count);
          }
          const result = await ingestHttp(repository, records.values, kind, {
            ref: `http:${request.identity?.name ?? 'anonymous'}`,
            timestamps,
            ...(stages ? { observe: (stage, ms) => stages.observe(kind, stage, ms, count) } : {}),
          });
          if (t) t.answeredAt = performance.now();
          return reply.code(result.rejected.length > 0 ? 207 : 200).send(result);
        },
      );
    }
  };
}

function parseBody(body: unknown): { values: unknown[] } | { error: string } {
  if (typeof body === 'string') {
    const values: unknown[] = [];
    const bad: number[] = [];
    body.split('\n').forEach((line, index) => {
      if (line.trim() === '') return;
      try {
        values.push(JSON.parse(line));
      } catch {
        bad.push(index + 1);
      }
    });
    // Nothing is stored when lines are not JSON: the client resends the corrected body whole.
    if (bad.length > 0)
      return {
        error: `NDJSON lines ${bad.slice(0, 20).join(', ')}${bad.length > 20 ? '…' : ''} are not valid JSON; nothing was stored`,
      };
    return { values };
  }
  if (Array.isArray(body)) return { values: body };
  if (body && typeof body === 'object') return { values: [body] };
  return { error: 'send a JSON object, a JSON array of objects, or NDJSON (Content-Type: application/x-ndjson)' };
}
