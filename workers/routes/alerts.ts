import type { ClickHouseClient } from '@clickhouse/client';
import { z } from 'zod';
import { ALERT_RULE_KINDS } from '../../detectors/alerts/types.ts';
import { getAlert, listAlerts } from '../../platform/clickhouse/alerts-repository.ts';
import { NotFoundError } from '../../platform/errors.ts';
import type { RouteModule } from '../api.ts';
import { defineRoute, modelId } from './define.ts';

const listQuery = z
  .object({
    model: modelId.optional().describe('only this model'),
    status: z
      .enum(['firing', 'resolved'])
      .optional()
      .describe('firing: alerts that have not resolved (their firing message); resolved: resolution messages'),
    kind: z
      .string()
      .max(256)
      .regex(new RegExp(`^(${ALERT_RULE_KINDS.join('|')})(,(${ALERT_RULE_KINDS.join('|')}))*$`), {
        error: `comma-separated rule kinds among ${ALERT_RULE_KINDS.join(', ')}`,
      })
      .optional()
      .describe('rule kinds, comma-separated'),
    since: z.coerce.number().int().nonnegative().optional().describe('epoch milliseconds'),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

const idParams = z.object({ id: z.string().min(1).max(512) }).strict();

/**
 * The alerts halflife sent: GET /v1/alerts (newest first, each with its delivery per receiver) and
 * GET /v1/alerts/{id} (one message with every delivery attempt). Viewer and up; nothing here names
 * a receiver's URL or secret (they are never stored).
 */
export function alertRoutes(clickhouse: ClickHouseClient): RouteModule {
  return (app, guard) => {
    defineRoute(
      app,
      guard,
      {
        method: 'GET',
        url: '/v1/alerts',
        role: 'viewer',
        tags: ['alerts'],
        summary: 'alert messages sent (firing, reminders, resolutions), newest first, with their delivery per receiver',
        query: listQuery,
        access: false,
      },
      ({ query }) =>
        listAlerts(clickhouse, {
          modelId: query.model,
          status: query.status,
          kinds: query.kind?.split(','),
          since: query.since,
          limit: query.limit,
        }),
    );

    defineRoute(
      app,
      guard,
      {
        method: 'GET',
        url: '/v1/alerts/:id',
        role: 'viewer',
        tags: ['alerts'],
        summary:
          'one alert message with every delivery attempt (receiver, attempt, outcome, HTTP status, payload digest)',
        description: 'The id is the notification id from GET /v1/alerts (URL-encode its slashes).',
        params: idParams,
        access: false,
      },
      async ({ params }) => {
        const alert = await getAlert(clickhouse, params.id);
        if (!alert) throw new NotFoundError(`no alert message ${params.id}`);
        return alert;
      },
    );
  };
}
