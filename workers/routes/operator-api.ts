import type { ClickHouseClient } from '@clickhouse/client';
import type { IngestObservation } from '../../detectors/monitor/health.ts';
import { MonitorClient } from '../../operations/monitor-control.ts';
import { openPromotionContext, type PromotionContext } from '../../operations/promotion-context.ts';
import { AccessLogWriter } from '../../platform/clickhouse/access-log-repository.ts';
import type { HalflifeConfig } from '../../platform/config.ts';
import { subsystemLog, type Logger } from '../../platform/logger.ts';
import { LocalArtifactStore } from '../../platform/registry/artifact-store.ts';
import type { RouteModule } from '../api.ts';
import { openApiRoutes } from '../openapi.ts';
import { accessLogRoutes } from './access-log.ts';
import { auditRoutes } from './audit.ts';
import { gdprRoutes } from './gdpr.ts';
import { modelRoutes } from './models.ts';
import { monitorRoutes } from './monitors.ts';

export interface OperatorApiDeps {
  config: HalflifeConfig;
  clickhouse: ClickHouseClient;
  log: Logger;
  /** Ingest as this process sees it, added to monitors' health; absent: not observed. */
  ingest?: () => IngestObservation | null;
}

/**
 * The operator's API: OpenAPI document, access log, models, monitors/policies/approvals, audit and
 * GDPR. Spread it first into the daemon's route list: the OpenAPI module documents the routes
 * added after it, and the access log hook covers every route.
 */
export function operatorRoutes(deps: OperatorApiDeps): RouteModule[] {
  const log = subsystemLog(deps.log, 'api');
  const accessLog = new AccessLogWriter(deps.clickhouse, {
    onError: (err, lost) =>
      log.error({ err: (err as Error).message, entries: lost }, 'access log write failed; kept for the next attempt'),
  });
  const monitors = new MonitorClient(deps.config);
  const artifacts = LocalArtifactStore.forDataDir(deps.config.dataDir);
  let promotion: { ctx: PromotionContext; close: () => Promise<void> } | undefined;
  const lifecycle: RouteModule = (app) => {
    app.addHook('onClose', async () => {
      await monitors.close();
      await promotion?.close();
    });
  };
  // What promotes, rolls back and withdraws (it publishes model updates), opened on first use.
  const promotionContext = () =>
    (promotion ??= openPromotionContext({
      clickhouse: deps.clickhouse,
      config: deps.config,
      log: log.child({ part: 'registry' }),
      monitors,
    })).ctx;
  return [
    openApiRoutes(),
    accessLogRoutes(accessLog),
    lifecycle,
    modelRoutes({ clickhouse: deps.clickhouse, artifacts, promotion: promotionContext, config: deps.config }),
    monitorRoutes(monitors, deps.clickhouse, deps.config, { ingest: deps.ingest }),
    auditRoutes(deps.clickhouse, accessLog),
    gdprRoutes(deps.clickhouse, monitors, artifacts, promotionContext),
  ];
}
