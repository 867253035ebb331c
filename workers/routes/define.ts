import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Identity, Role } from '../../platform/auth.ts';
import { MonitorRefusedError } from '../../operations/monitor-control.ts';
import { DependencyError, HalflifeError, NotFoundError, ValidationError } from '../../platform/errors.ts';
import type { Guard } from '../api.ts';

/**
 * One way to declare an API route: its role, its zod schemas (validated here, 400 on failure, and
 * turned into the OpenAPI document by workers/openapi.ts), and whether it counts as a read or a
 * write for the access log. Fastify's own schema validation is not used: zod is the one source
 * of truth, and its JSON Schema is only documentation.
 */

export type AccessKind = 'read' | 'write';

export interface RouteDoc {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  /** null: no token needed. */
  role: Role | null;
  summary: string;
  description?: string;
  tags: string[];
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** Successful status code. @default 200 */
  status?: number;
  /** Access-log classification; false: not logged. */
  access: AccessKind | false;
  /** Largest request body (bytes). @default the server's (1 MiB) */
  bodyLimit?: number;
}

export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  identity: Identity;
  request: FastifyRequest;
  reply: FastifyReply;
}

/** Route config fastify keeps for us: the doc (OpenAPI, access log). */
export interface HalflifeRouteConfig {
  halflife?: RouteDoc;
}

/** An error with an HTTP status, for answers the error hierarchy has no class for (409...). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Identifier rules of the data contract (model ids): also keeps path-like strings out early. */
export const modelId = z
  .string()
  .min(1)
  .max(128)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:-]*$/,
    'model ids use letters, digits and . _ : - (starting with a letter or digit)',
  );
export const versionId = z
  .string()
  .min(1)
  .max(32)
  .regex(/^v[1-9][0-9]{0,8}$/, 'versions look like v1, v2, …');

function issues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(value)'}: ${i.message}`).join('; ');
}

export function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof HttpError) return reply.code(err.status).send({ error: err.code, message: err.message });
  if (err instanceof MonitorRefusedError) return reply.code(409).send({ error: 'refused', message: err.message });
  if (err instanceof NotFoundError) return reply.code(404).send({ error: 'not-found', message: err.message });
  if (err instanceof ValidationError)
    return reply.code(400).send({ error: 'bad-request', message: err.message, issues: err.issues });
  if (err instanceof DependencyError) return reply.code(503).send({ error: 'unavailable', message: err.message });
  if (err instanceof HalflifeError) return reply.code(409).send({ error: 'conflict', message: err.message });
  throw err;
}

/** Register a documented, guarded, validated route. */
export function defineRoute<P = unknown, Q = unknown, B = unknown>(
  app: FastifyInstance,
  guard: Guard,
  doc: RouteDoc & { params?: z.ZodType<P>; query?: z.ZodType<Q>; body?: z.ZodType<B> },
  handler: (ctx: RouteContext<P, Q, B>) => Promise<unknown>,
): void {
  app.route({
    method: doc.method,
    url: doc.url,
    config: { halflife: doc } satisfies HalflifeRouteConfig,
    ...(doc.bodyLimit ? { bodyLimit: doc.bodyLimit } : {}),
    // onRequest: the token is checked before the body is read.
    ...(doc.role ? { onRequest: guard(doc.role) } : {}),
    handler: async (request, reply) => {
      const parts: Record<'params' | 'query' | 'body', unknown> = { params: {}, query: {}, body: undefined };
      for (const part of ['params', 'query', 'body'] as const) {
        const schema = doc[part];
        if (!schema) continue;
        const parsed = schema.safeParse(part === 'body' ? (request.body ?? {}) : request[part]);
        if (!parsed.success)
          return reply.code(400).send({ error: 'bad-request', message: `${part}: ${issues(parsed.error)}` });
        parts[part] = parsed.data;
      }
      try {
        const result = await handler({
          params: parts.params as P,
          query: parts.query as Q,
          body: parts.body as B,
          identity: request.identity ?? { name: '', role: 'viewer' },
          request,
          reply,
        });
        if (reply.sent) return reply;
        return reply.code(doc.status ?? 200).send(result);
      } catch (err) {
        return sendError(reply, err);
      }
    },
  });
}

/** Who acts, as recorded in decisions and stage events: the token's name, and the person it speaks for. */
export function actorOf(identity: Identity, as?: string): string {
  return as ? `${as} (token ${identity.name})` : `token:${identity.name}`;
}
