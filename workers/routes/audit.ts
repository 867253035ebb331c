import type { ClickHouseClient } from '@clickhouse/client';
import { z } from 'zod';
import { listAccess, type AccessLogWriter } from '../../platform/clickhouse/access-log-repository.ts';
import { modelHistory, productionLineage, scoredBy, trainedOn } from '../../platform/clickhouse/audit-repository.ts';
import type { RouteModule } from '../api.ts';
import { defineRoute, modelId, versionId } from './define.ts';

/** Epoch ms or an ISO-8601 time. */
const time = z.union([
  z.coerce.number().int().nonnegative(),
  z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)),
]);

/**
 * The audit questions. Scored-by, history and lineage are viewer (they name models and decisions);
 * trained-on is operator (it lists subject ids); accessed is admin (it names people and their IPs).
 */
export function auditRoutes(clickhouse: ClickHouseClient, accessLog: AccessLogWriter): RouteModule {
  return (app, guard) => {
    defineRoute(
      app,
      guard,
      {
        method: 'GET',
        url: '/v1/audit/scored-by/:eventId',
        role: 'viewer',
        tags: ['audit'],
        summary: 'which model version (and artifact sha256) scored an event, shadow scorings included',
        params: z.object({ eventId: z.string().min(1).max(128) }).strict(),
        access: 'read',
      },
      ({ params }) => scoredBy(clickhouse, params.eventId),
    );
    defineRoute(
      app,
      guard,
      {
        method: 'GET',
        url: '/v1/audit/trained-on/:model/:version',
        role: 'operator',
        tags: ['audit'],
        summary: 'which records (event and subject ids, train/holdout) trained a version, with its snapshot',
        params: z.object({ model: modelId, version: versionId }).strict(),
        query: z.object({ limit: z.coerce.number().int().min(1).max(1_000_000).default(10_000) }).strict(),
        access: 'read',
      },
      ({ params, query }) => trainedOn(clickhouse, params.model, params.version, query.limit),
    );
    defineRoute(
      app,
      guard,
      {
        method: 'GET',
        url: '/v1/audit/accessed/:model',
        role: 'admin',
        tags: ['audit'],
        summary: 'who read or changed a model, when, from where, with what outcome (newest first)',
        params: z.object({ model: modelId }).strict(),
        query: z
          .object({
            since: time.optional(),
            actor: z.string().max(128).optional(),
            limit: z.coerce.number().int().min(1).max(100_000).default(1000),
          })
          .strict(),
        access: 'read',
      },
      async ({ params, query }) => {
        // Entries are buffered: store them first so the answer includes the latest accesses.
        await accessLog.flush();
        return listAccess(clickhouse, {
          modelId: params.model,
          since: query.since,
          actor: query.actor,
          limit: query.limit,
        });
      },
    );
    defineRoute(
      app,
      guard,
      {
        method: 'GET',
        url: '/v1/audit/history/:model',
        role: 'viewer',
        tags: ['audit'],
        summary: "a model's decisions and stage changes, oldest first",
        params: z.object({ model: modelId }).strict(),
        access: 'read',
      },
      ({ params }) => modelHistory(clickhouse, params.model),
    );
    defineRoute(
      app,
      guard,
      {
        method: 'GET',
        url: '/v1/audit/lineage/:model',
        role: 'viewer',
        tags: ['audit'],
        summary: 'the chain of decisions that led to the production version, back through its parents',
        params: z.object({ model: modelId }).strict(),
        access: 'read',
      },
      ({ params }) => productionLineage(clickhouse, params.model),
    );
  };
}
