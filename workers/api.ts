import { isUtf8 } from 'node:buffer';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { roleAllows, type Identity, type Role, type TokenStore } from '../platform/auth.ts';
import { subsystemLog, type Logger } from '../platform/logger.ts';

/** Largest request body (bytes). */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Longest one readiness check may take before it counts as not ready (ms). */
const READYZ_CHECK_TIMEOUT_MS = 3000;

/** A named readiness check; the daemon passes one per dependency (workers/readiness.ts). */
export type ReadinessCheck = () => Promise<{ ok: boolean; detail?: string; [more: string]: unknown }>;

/** Something that adds routes to the API (ingest, models, audit...). */
export type RouteModule = (app: FastifyInstance, guard: Guard) => void | Promise<void>;

/**
 * `guard('operator')` as an onRequest hook (before the body is read, so an anonymous client cannot
 * make the daemon read a large body): 401 without a valid token, 403 when the role is too low.
 */
export type Guard = (role: Role) => (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

declare module 'fastify' {
  interface FastifyRequest {
    identity?: Identity;
    /**
     * When the body parser got the whole body and when it finished parsing (performance.now()),
     * for routes that time their stages (workers/ingest/http-stages.ts).
     */
    bodyTiming?: { receivedAt: number; parsedAt: number };
  }
}

export interface ApiOptions {
  tokens: TokenStore;
  logger: Logger;
  readiness: Record<string, ReadinessCheck>;
  routes?: RouteModule[];
  /** Largest request body accepted (bytes); larger ones get 413 (docs/contracts.md "Limits"). @default 16 MiB */
  bodyLimit?: number;
}

/**
 * The daemon's HTTP API. `/healthz` (liveness) and `/readyz` (every dependency answers)
 * are open, for orchestrators; everything under `/v1` needs `Authorization: Bearer <token>`.
 */
export async function buildApi(options: ApiOptions): Promise<FastifyInstance> {
  // Request logs at warn and above only: a scrape or health probe every few seconds is noise.
  const logger = subsystemLog(options.logger, 'api', { level: 'warn' }) as unknown as FastifyBaseLogger;
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: options.bodyLimit ?? MAX_BODY_BYTES,
  }) as unknown as FastifyInstance;

  // Bodies are read as bytes and refused unless they are UTF-8: decoded blindly, invalid bytes
  // would become U+FFFD inside ids. JSON is then parsed by fastify's own parser (prototype
  // poisoning refused); NDJSON arrives as text and routes parse it line by line.
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const receivedAt = performance.now();
    if (!isUtf8(body as Buffer)) return done(notUtf8(), undefined);
    json(request, (body as Buffer).toString('utf8'), (err, value) => {
      request.bodyTiming = { receivedAt, parsedAt: performance.now() };
      done(err, value);
    });
  });
  app.addContentTypeParser('application/x-ndjson', { parseAs: 'buffer' }, (request, body, done) => {
    const receivedAt = performance.now();
    if (!isUtf8(body as Buffer)) return done(notUtf8(), undefined);
    const text = (body as Buffer).toString('utf8');
    request.bodyTiming = { receivedAt, parsedAt: performance.now() };
    done(null, text);
  });

  const guard: Guard = (role) => async (request, reply) => {
    const header = request.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
    const identity = options.tokens.identify(token);
    if (!identity) {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'unauthorized', message: 'send Authorization: Bearer <token> (see <dataDir>/api-token)' });
      return;
    }
    // Set before the role check so the access log can name who was refused.
    request.identity = identity;
    if (!roleAllows(identity.role, role)) {
      await reply
        .code(403)
        .send({ error: 'forbidden', message: `this needs the ${role} role; your token has ${identity.role}` });
      return;
    }
  };

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const results: Record<string, Awaited<ReturnType<ReadinessCheck>>> = {};
    await Promise.all(
      Object.entries(options.readiness).map(async ([name, check]) => {
        let timer: NodeJS.Timeout | undefined;
        // A dependency that does not answer must not hang the probe: it is not ready.
        const deadline = new Promise<Awaited<ReturnType<ReadinessCheck>>>(
          (resolve) =>
            (timer = setTimeout(
              () => resolve({ ok: false, detail: `no answer within ${READYZ_CHECK_TIMEOUT_MS} ms` }),
              READYZ_CHECK_TIMEOUT_MS,
            )),
        );
        try {
          results[name] = await Promise.race([check(), deadline]);
        } catch (err) {
          results[name] = { ok: false, detail: (err as Error).message };
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    const ready = Object.values(results).every((r) => r.ok);
    const failing = Object.keys(results).filter((name) => !results[name]!.ok);
    return reply.code(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'not-ready',
      ...(ready ? {} : { failing }),
      checks: results,
    });
  });

  for (const route of options.routes ?? []) await route(app, guard);
  return app;
}

function notUtf8(): Error {
  return Object.assign(new Error('the request body is not valid UTF-8: send UTF-8 encoded JSON'), { statusCode: 400 });
}
