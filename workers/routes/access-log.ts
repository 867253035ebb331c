import type { FastifyRequest } from 'fastify';
import type { AccessLogWriter } from '../../platform/clickhouse/access-log-repository.ts';
import type { RouteModule } from '../api.ts';
import type { AccessKind, HalflifeRouteConfig } from './define.ts';

/**
 * The access log hook: after every response, an entry for each read of a model or artifact and
 * each write (denied attempts included, with their 401/403), with who (token name and role), what
 * (method, route, model, version), when, from where (ip, user agent) and the status. Routes
 * declared with defineRoute say whether they read or write; other routes count as writes when
 * they are not GETs under /v1, and as model reads when they name a model.
 */

const details = new WeakMap<FastifyRequest, unknown>();

/** Attach something to the request's access entry (an erasure's counts, a promotion's outcome). */
export function noteAccess(request: FastifyRequest, detail: unknown): void {
  details.set(request, detail);
}

function classify(request: FastifyRequest): AccessKind | false {
  const doc = (request.routeOptions.config as HalflifeRouteConfig | undefined)?.halflife;
  if (doc) return doc.access;
  const url = request.routeOptions.url ?? request.url;
  if (!url.startsWith('/v1/')) return false;
  if (request.method !== 'GET' && request.method !== 'HEAD') return 'write';
  return modelOf(request) ? 'read' : false;
}

function modelOf(request: FastifyRequest): string {
  const params = (request.params ?? {}) as Record<string, unknown>;
  const query = (request.query ?? {}) as Record<string, unknown>;
  const value = params.model ?? query.model;
  return typeof value === 'string' ? value.slice(0, 256) : '';
}

export function accessLogRoutes(writer: AccessLogWriter): RouteModule {
  return (app) => {
    app.addHook('onResponse', async (request, reply) => {
      const action = classify(request);
      if (!action) return;
      const params = (request.params ?? {}) as Record<string, unknown>;
      const ua = request.headers['user-agent'];
      writer.append({
        actor: request.identity?.name ?? '',
        role: request.identity?.role ?? '',
        source: 'api',
        action,
        method: request.method,
        route: request.routeOptions.url ?? '',
        path: request.url,
        modelId: modelOf(request),
        modelVersion: typeof params.version === 'string' ? params.version.slice(0, 64) : '',
        status: reply.statusCode,
        ip: request.ip,
        userAgent: typeof ua === 'string' ? ua : '',
        detail: details.get(request),
      });
    });
    app.addHook('onClose', async () => writer.close());
  };
}
