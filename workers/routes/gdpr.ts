import type { ClickHouseClient } from '@clickhouse/client';
import { z } from 'zod';
import { eraseSubject } from '../../operations/erase-subject.ts';
import type { MonitorClient } from '../../operations/monitor-control.ts';
import type { PromotionContext } from '../../operations/promotion-context.ts';
import type { ArtifactStore } from '../../platform/registry/artifact-store.ts';
import type { RouteModule } from '../api.ts';
import { noteAccess } from './access-log.ts';
import { actorOf, defineRoute } from './define.ts';

/** POST /v1/gdpr/erase (admin): erase a data subject; see operations/erase-subject.ts. */
export function gdprRoutes(
  clickhouse: ClickHouseClient,
  monitors: MonitorClient,
  artifacts: ArtifactStore,
  promotion: () => PromotionContext,
): RouteModule {
  return (app, guard) => {
    defineRoute(
      app,
      guard,
      {
        method: 'POST',
        url: '/v1/gdpr/erase',
        role: 'admin',
        tags: ['gdpr'],
        summary:
          "erase a subject's events, labels, dead letters, shadow results and lineage; taint versions trained on them and withdraw a tainted version from serving; ask their monitors to retrain",
        body: z
          .object({
            subject: z.string().min(1).max(256),
            dryRun: z.boolean().default(false),
            as: z.string().min(1).max(128).optional(),
          })
          .strict(),
        access: 'write',
      },
      async ({ body, identity, request }) => {
        const actor = actorOf(identity, body.as);
        const report = await eraseSubject(clickhouse, {
          subjectId: body.subject,
          dryRun: body.dryRun,
          actor,
          artifacts,
          monitors,
          promotion: promotion(),
        });
        // The access entry keeps the digest and counts, never the subject id.
        noteAccess(request, {
          erasureId: report.erasureId,
          subjectDigest: report.subjectDigest,
          dryRun: report.dryRun,
          deleted: report.deleted,
          tainted: report.tainted.length,
          withdrawals: report.withdrawals.map((w) => ({ modelId: w.modelId, action: w.action })),
        });
        return report;
      },
    );
  };
}
