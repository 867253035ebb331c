import { z } from 'zod';
import type { Role } from '../platform/auth.ts';
import { labelSchema, scoringEventSchema } from '../platform/contracts.ts';
import type { RouteModule } from './api.ts';
import { ingestQuerySchema } from './ingest/http-acknowledge.ts';
import type { HalflifeRouteConfig, RouteDoc } from './routes/define.ts';

/**
 * The OpenAPI 3.1 document of the daemon's API, built from the routes themselves: routes declared
 * with defineRoute carry their zod schemas (converted with zod's own JSON Schema output); routes
 * written without it are described by the table below. Served at GET /openapi.json without a
 * token (it holds no data). Must be the first route module so it sees every route being added.
 */

interface PlainDoc {
  role: Role | null;
  summary: string;
  tags: string[];
  /** The request body's schema (JSON). @default none documented */
  body?: z.ZodType;
  /** Query parameters. @default none */
  query?: z.ZodType;
  /** What it answers, by status. @default 200 `ok` */
  responses?: Record<number, { description: string; schema?: z.ZodType }>;
  /** More than the summary says. @default none */
  description?: string;
}

/** One record or an array of them (NDJSON: one record per line). */
const oneOrMany = (record: z.ZodType) => z.union([record, z.array(record)]);

const rejectedRecords = z
  .array(z.object({ index: z.number().int(), reason: z.string() }))
  .describe(
    'invalid records by position in the request, each stored as a dead letter with its reason; with ack=logged also a valid record whose Kafka message would exceed kafka.maxMessageBytes (the reason names its size and the limit)',
  );

/** The answers of POST /v1/events and /v1/labels, as `?ack=` (or the setting ingest.httpAcknowledge) chose. */
const INGEST_RESPONSES: PlainDoc['responses'] = {
  200: {
    description: 'ack=stored: every valid record is stored (or was already)',
    schema: z.object({
      accepted: z.number().int().describe('records stored by this request'),
      duplicates: z
        .number()
        .int()
        .describe('valid records already stored, or repeated in the request: not stored again'),
      rejected: rejectedRecords,
    }),
  },
  202: {
    description:
      'ack=logged: every valid record is on the Kafka ingest topic, acknowledged by all in-sync replicas; the Kafka ingest worker stores it a moment later, exactly once. Duplicates are dropped then, so this answer cannot count them: `logged` counts every valid record of the request',
    schema: z.object({
      logged: z.number().int().describe('valid records written to the log (duplicates included; dropped when stored)'),
      rejected: rejectedRecords,
    }),
  },
  207: {
    description:
      'some records were rejected (listed in `rejected`); the body is the 200 (ack=stored) or 202 (ack=logged) one',
  },
  503: {
    description: 'ack=logged: Kafka did not acknowledge the records; nothing is acknowledged, send the request again',
  },
};

const INGEST_DESCRIPTION =
  '`ack=stored` answers once the valid records are stored; `ack=logged` once Kafka holds them (the POST no longer waits for the engine, which stores them a moment later, exactly once — README "Sizing POSTs"). `ack=logged` needs Kafka: an API without it answers 400 naming the setting. Either way a stored record keeps the source `http:<token name>` (ack=logged: carried in the signed Kafka header `halflife-source`). A record whose Kafka message would exceed `kafka.maxMessageBytes` is rejected under ack=logged like an invalid one (the rest are logged, 207); ack=stored stores it.';

/** Routes of other modules that predate defineRoute. */
const KNOWN: Record<string, PlainDoc> = {
  'GET /healthz': { role: null, summary: 'liveness', tags: ['health'] },
  'GET /readyz': { role: null, summary: 'readiness: every dependency answers (503 otherwise)', tags: ['health'] },
  'GET /v1/decisions': {
    role: 'viewer',
    summary: 'decisions with provenance, newest first (?model, ?kind, ?since, ?limit)',
    tags: ['decisions'],
  },
  'GET /v1/decisions/:id': { role: 'viewer', summary: 'one decision with its full provenance', tags: ['decisions'] },
  'GET /v1/models/:model/segments': {
    role: 'viewer',
    summary:
      "a model's newest per-segment drift, data quality and quality (top K segments per key + other, BH across segments × features), with its decision",
    tags: ['decisions'],
  },
  'POST /v1/events': {
    role: 'operator',
    summary:
      'ingest scoring events (JSON object, array or NDJSON); invalid ones are dead-lettered. Send batches of hundreds to a few thousand records, a few requests at a time (concurrent requests are written together; README "Sizing POSTs"); sustained high rates belong on Kafka. A feature is a number, a category (string or boolean), null (missing) or a vector (an array of finite numbers, the length the model declares with `halflife models register --vector name:dimension`)',
    tags: ['ingest'],
    body: oneOrMany(scoringEventSchema),
    query: ingestQuerySchema,
    responses: INGEST_RESPONSES,
    description: INGEST_DESCRIPTION,
  },
  'POST /v1/labels': {
    role: 'operator',
    summary: 'ingest labels (JSON object, array or NDJSON)',
    tags: ['ingest'],
    body: oneOrMany(labelSchema),
    query: ingestQuerySchema,
    responses: INGEST_RESPONSES,
    description: INGEST_DESCRIPTION,
  },
  'POST /v1/score': { role: 'operator', summary: 'score requests with the reference scorer', tags: ['scoring'] },
  'GET /metrics': {
    role: null,
    summary: 'Prometheus metrics (open on a loopback address; viewer token otherwise)',
    tags: ['operations'],
  },
  'GET /openapi.json': { role: null, summary: 'this document', tags: ['operations'] },
};

type Operation = Record<string, unknown>;

function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const out = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): Operation[] {
  if (!schema) return [];
  const js = jsonSchema(schema) as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || (js.required ?? []).includes(name),
    schema: s,
    ...(typeof s.description === 'string' ? { description: s.description } : {}),
  }));
}

const ROLE_TEXT: Record<Role, string> = { viewer: 'viewer or higher', operator: 'operator or admin', admin: 'admin' };

function operation(method: string, url: string, doc: RouteDoc | PlainDoc): Operation {
  const full = 'method' in doc ? doc : undefined;
  const plain = 'method' in doc ? undefined : doc;
  const answers = Object.fromEntries(
    Object.entries(plain?.responses ?? {}).map(([status, r]) => [
      status,
      {
        description: r.description,
        ...(r.schema ? { content: { 'application/json': { schema: jsonSchema(r.schema) } } } : {}),
      },
    ]),
  );
  const op: Operation = {
    operationId: `${method.toLowerCase()}${url.replace(/[/:{}.-]+(\w)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    summary: doc.summary,
    tags: doc.tags,
    description: [
      full?.description ?? plain?.description,
      doc.role ? `Role: ${ROLE_TEXT[doc.role]}.` : 'No token needed.',
      full?.access ? `Recorded in the access log as a ${full.access}.` : '',
    ]
      .filter(Boolean)
      .join(' '),
    security: doc.role ? [{ bearer: [] }] : [],
    'x-halflife-role': doc.role ?? 'none',
    parameters: [...parameters(full?.params, 'path'), ...parameters(full?.query ?? plain?.query, 'query')],
    responses: {
      ...(plain?.responses
        ? answers
        : { [String(full?.status ?? 200)]: { description: 'ok', content: { 'application/json': {} } } }),
      ...(doc.role
        ? { 401: { $ref: '#/components/responses/Unauthorized' }, 403: { $ref: '#/components/responses/Forbidden' } }
        : {}),
      400: { $ref: '#/components/responses/BadRequest' },
    },
  };
  const body = full?.body ?? ('body' in doc ? doc.body : undefined);
  if (body) op.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(body) } } };
  return op;
}

export function openApiRoutes(info: { version: string } = { version: '0.1.0' }): RouteModule {
  return (app) => {
    const paths: Record<string, Record<string, Operation>> = {};
    const add = (method: string, url: string, doc: RouteDoc | PlainDoc | undefined) => {
      if (method === 'HEAD' || method === 'OPTIONS') return;
      const openApiPath = url.replace(/:(\w+)/g, '{$1}');
      paths[openApiPath] ??= {};
      paths[openApiPath][method.toLowerCase()] = operation(
        method,
        url,
        doc ?? { role: null, summary: `${method} ${url}`, tags: ['other'] },
      );
    };
    for (const [key, doc] of Object.entries(KNOWN).filter(
      ([k]) => k.startsWith('GET /healthz') || k.startsWith('GET /readyz'),
    ))
      add(key.split(' ')[0] as string, key.split(' ')[1] as string, doc);

    app.addHook('onRoute', (route) => {
      const doc = (route.config as HalflifeRouteConfig | undefined)?.halflife;
      for (const method of [route.method].flat()) add(method, route.url, doc ?? KNOWN[`${method} ${route.url}`]);
    });

    app.get('/openapi.json', async () => ({
      openapi: '3.1.0',
      info: {
        title: 'halflife API',
        version: info.version,
        description:
          'Drift monitoring and cost-aware retraining. Send `Authorization: Bearer <token>`. Roles: viewer (reads), operator (acts on models and monitors), admin (everything, incl. GDPR erasure, forced retrains and the access log). Every read of a model or artifact and every write is recorded in the access log.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
        responses: {
          Unauthorized: { description: 'no or unknown token' },
          Forbidden: { description: "the token's role is too low" },
          BadRequest: { description: 'a parameter or the body does not match the schema' },
        },
      },
      paths,
    }));
  };
}
