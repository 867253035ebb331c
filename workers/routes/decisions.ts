import type { ClickHouseClient } from '@clickhouse/client';
import { z } from 'zod';
import { getDecision, listDecisions, type DecisionKind } from '../../platform/clickhouse/decisions-repository.ts';
import type { RouteModule } from '../api.ts';

const listQuery = z
  .object({
    model: z.string().max(128).optional(),
    kind: z.string().max(256).optional(),
    since: z.coerce.number().int().nonnegative().optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

/** Decisions with provenance: GET /v1/decisions, GET /v1/decisions/:id (viewer and up). */
export function decisionRoutes(clickhouse: ClickHouseClient): RouteModule {
  return (app, guard) => {
    app.get('/v1/decisions', { preHandler: guard('viewer') }, async (request, reply) => {
      const parsed = listQuery.safeParse(request.query);
      if (!parsed.success)
        return reply.code(400).send({
          error: 'bad-request',
          message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        });
      const q = parsed.data;
      return listDecisions(clickhouse, {
        modelId: q.model,
        kinds: q.kind ? (q.kind.split(',') as DecisionKind[]) : undefined,
        since: q.since,
        limit: q.limit,
      });
    });
    app.get<{ Params: { id: string } }>(
      '/v1/decisions/:id',
      { preHandler: guard('viewer') },
      async (request, reply) => {
        const decision = await getDecision(clickhouse, request.params.id);
        if (!decision) return reply.code(404).send({ error: 'not-found', message: `no decision ${request.params.id}` });
        return decision;
      },
    );
  };
}
