import { ingestHttp, logHttp } from '../ingest/http.ts';
import { requestedAcknowledge, type HttpAcknowledge } from '../ingest/http-acknowledge.ts';
import { LogUnavailableError, type HttpIngestLog } from '../ingest/http-log.ts';
import { ConfigError } from '../../platform/errors.ts';
import { DEFAULT_TIMESTAMP_WINDOW, type RecordKind, type TimestampWindow } from '../ingest/prepare-record.ts';
import type { IngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import type { RouteModule } from '../api.ts';
import type { HttpIngestStage, HttpIngestStages } from '../ingest/http-stages.ts';

/** Most records one request may carry; larger loads belong on Kafka. */
export const MAX_RECORDS = 50_000;

/** When the ingest routes answer, and the log `logged` needs. */
export interface HttpAcknowledgement {
  /** `ingest.httpAcknowledge`: what a request without `?ack=` gets. */
  default: HttpAcknowledge;
  /** Kafka, for `logged`; none: `logged` is refused. */
  log?: HttpIngestLog;
}

/** Why `logged` cannot be had here, and what to do instead. */
const NO_LOG =
  'ack=logged needs Kafka, and this API has none to produce to: post with ack=stored (or leave the setting ingest.httpAcknowledge / HALFLIFE_INGEST_HTTP_ACKNOWLEDGE at stored), or run the daemon, whose Kafka (kafka.brokers, or the local broker) the records are logged to';

/**
 * POST /v1/events and /v1/labels (operator and up): the Kafka path's validation, then storage
 * (`ack=stored`) or the Kafka path's topics (`ack=logged`). Body: one JSON object, a JSON array,
 * or NDJSON (`Content-Type: application/x-ndjson`). Invalid records are stored as dead letters
 * and listed in the answer; a re-POST of the same body stores nothing twice.
 */
export function ingestRoutes(
  repository: IngestRepository,
  timestamps: TimestampWindow = DEFAULT_TIMESTAMP_WINDOW,
  /** Where each request's stage timings go (the /metrics histogram); none: not timed. */
  stages?: HttpIngestStages,
  acknowledgement: HttpAcknowledgement = { default: 'stored' },
): RouteModule {
  if (acknowledgement.default === 'logged' && !acknowledgement.log)
    throw new ConfigError(`ingest.httpAcknowledge is logged, but ${NO_LOG}`);
  const { log } = acknowledgement;
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
          const requested = requestedAcknowledge(request.query, acknowledgement.default);
          if ('error' in requested) return reply.code(400).send({ error: 'bad-request', message: requested.error });
          if (requested.ack === 'logged' && !log) return reply.code(400).send({ error: 'no-log', message: NO_LOG });
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
          const options = {
            ref: `http:${request.identity?.name ?? 'anonymous'}`,
            timestamps,
            ...(stages
              ? { observe: (stage: HttpIngestStage, ms: number) => stages.observe(kind, stage, ms, count) }
              : {}),
          };
          if (requested.ack === 'logged' && log) {
            let logged;
            try {
              logged = await logHttp(repository, log, records.values, kind, options);
            } catch (err) {
              if (!(err instanceof LogUnavailableError)) throw err;
              // Nothing is acknowledged: the client resends; what reached the log lands once anyway.
              request.log.warn({ err: err.message }, 'ack=logged: Kafka did not acknowledge');
              return reply.code(503).send({
                error: 'log-unavailable',
                message: `${err.message}. Nothing is acknowledged: send the request again (records already logged are stored once), or post with ack=stored`,
              });
            }
            if (t) t.answeredAt = performance.now();
            return reply.code(logged.rejected.length > 0 ? 207 : 202).send(logged);
          }
          const result = await ingestHttp(repository, records.values, kind, options);
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
