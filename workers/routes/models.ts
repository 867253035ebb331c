import { randomUUID } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { z } from 'zod';
import { archiveVersion } from '../../operations/archive-version.ts';
import { promoteVersionManually } from '../../operations/promote-version.ts';
import type { PromotionContext } from '../../operations/promotion-context.ts';
import { rollbackProductionManually } from '../../operations/rollback-version.ts';
import { servedByOf, servingStatus } from '../../operations/serving-status.ts';
import type { HalflifeConfig } from '../../platform/config.ts';
import { ClickHouseLineageRepository } from '../../platform/clickhouse/lineage-repository.ts';
import { ClickHouseRegistryRepository } from '../../platform/clickhouse/registry-repository.ts';
import { NotFoundError } from '../../platform/errors.ts';
import type { ArtifactStore } from '../../platform/registry/artifact-store.ts';
import { MODEL_STAGES } from '../../platform/registry/types.ts';
import type { RouteModule } from '../api.ts';
import { actorOf, defineRoute, modelId, versionId } from './define.ts';
import { noteAccess } from './access-log.ts';

export interface ModelRoutesDeps {
  clickhouse: ClickHouseClient;
  artifacts: ArtifactStore;
  /** What promotes and rolls back (it publishes model updates), opened on first use. */
  promotion: () => PromotionContext;
  /** Its serving settings (how long a change may take to reach serving). */
  config: Pick<HalflifeConfig, 'serving'>;
}

const modelParams = z.object({ model: modelId }).strict();
const versionParams = z.object({ model: modelId, version: versionId }).strict();
const actBody = z
  .object({
    reason: z.string().max(1000).optional(),
    as: z.string().min(1).max(128).optional().describe('the person the token acts for (recorded with the token name)'),
  })
  .strict();

/**
 * The model registry over HTTP. Reads are viewer and show, next to each stage, what serving
 * actually serves (operations/serving-status.ts); promote, rollback and archive are operator and
 * are recorded as decisions (kind promote / rollback / archive, actor = token name) besides the
 * stage events. A promotion or rollback serving does not confirm answers 409 naming the scorer
 * and its reason (it was undone and recorded as promotion-failed / rollback-failed).
 */
export function modelRoutes(deps: ModelRoutesDeps): RouteModule {
  const registry = new ClickHouseRegistryRepository(deps.clickhouse);
  const lineage = new ClickHouseLineageRepository(deps.clickhouse);

  return (app, guard) => {
    defineRoute(
      app,
      guard,
      {
        method: 'GET',
        url: '/v1/models',
        role: 'viewer',
        tags: ['models'],
        summary: 'models with their version count, production version, and what serving actually serves',
        access: 'read',
      },
      async () => {
        const models = await registry.listModels();
        return Promise.all(
          models.map(async (m) => ({ ...m, serving: await servingStatus(deps.clickhouse, deps.config, m.modelId) })),
        );
      },
    );

    defineRoute(
      app,
      guard,
      {
        method: 'GET',
        url: '/v1/models/:model/serving',
        role: 'viewer',
        tags: ['models'],
        summary:
          "what serves a model: the registry's request, each scorer's report, the versions events were scored by, and whether they agree",
        params: modelParams,
        access: 'read',
      },
      ({ params }) => servingStatus(deps.clickhouse, deps.config, params.model),
    );

    defineRoute(
      app,
      guard,
      {
        method: 'GET',
        url: '/v1/models/:model',
        role: 'viewer',
        tags: ['models'],
        summary: "a model's versions, newest first",
        params: modelParams,
        query: z.object({ stage: z.enum(MODEL_STAGES).optional() }).strict(),
        access: 'read',
      },
      async ({ params, query }) => {
        const versions = await registry.listVersions(params.model, query.stage ? { stage: query.stage } : {});
        if (versions.length === 0 && !query.stage) throw new NotFoundError(`no model ${params.model} in the registry`);
        return {
          modelId: params.model,
          versions,
          serving: await servingStatus(deps.clickhouse, deps.config, params.model),
        };
      },
    );

    defineRoute(
      app,
      guard,
      {
        method: 'GET',
        url: '/v1/models/:model/versions/:version',
        role: 'viewer',
        tags: ['models'],
        summary: 'one version: stage, artifact sha256, trainer, metrics, training snapshot, stage history',
        params: versionParams,
        access: 'read',
      },
      async ({ params }) => {
        const v = await registry.requireVersion(params.model, params.version);
        const history = await registry.stageHistory(params.model, params.version);
        const snapshot = v.lineageId ? await lineage.getSnapshot(v.lineageId) : null;
        return {
          ...v,
          history,
          snapshot,
          servedBy: servedByOf(await servingStatus(deps.clickhouse, deps.config, params.model), v.version),
        };
      },
    );

    defineRoute(
      app,
      guard,
      {
        method: 'GET',
        url: '/v1/models/:model/versions/:version/artifact',
        role: 'operator',
        tags: ['models'],
        summary:
          "the version's artifact bytes (ONNX), checked against its sha256; operator because weights can leak training data",
        params: versionParams,
        access: 'read',
      },
      async ({ params, reply }) => {
        const v = await registry.requireVersion(params.model, params.version);
        const bytes = await deps.artifacts.get(v.artifactUri, v.sha256);
        return reply
          .code(200)
          .header('content-type', 'application/octet-stream')
          .header('x-halflife-sha256', v.sha256)
          .send(Buffer.from(bytes));
      },
    );

    defineRoute(
      app,
      guard,
      {
        method: 'POST',
        url: '/v1/models/:model/versions/:version/promote',
        role: 'operator',
        tags: ['models'],
        summary: 'make a version production (the previous one is archived) and publish a 100% model update',
        params: versionParams,
        body: actBody,
        access: 'write',
      },
      async ({ params, body, identity, request }) => {
        const result = await promoteVersionManually(deps.promotion(), {
          retrainId: `api-${randomUUID()}`,
          modelId: params.model,
          version: params.version,
          actor: actorOf(identity, body.as),
          reason: body.reason ?? 'promoted through the API',
        });
        noteAccess(request, { decisionId: result.decisionId, previousVersion: result.previousVersion });
        return result;
      },
    );

    defineRoute(
      app,
      guard,
      {
        method: 'POST',
        url: '/v1/models/:model/rollback',
        role: 'operator',
        tags: ['models'],
        summary: 'return to the previous (or a given) production version; the current one is rejected',
        params: modelParams,
        body: actBody.extend({ to: versionId.optional() }).strict(),
        access: 'write',
      },
      async ({ params, body, identity, request }) => {
        const result = await rollbackProductionManually(deps.promotion(), {
          retrainId: `api-${randomUUID()}`,
          modelId: params.model,
          ...(body.to ? { toVersion: body.to } : {}),
          actor: actorOf(identity, body.as),
          reason: body.reason ?? 'rolled back through the API',
        });
        noteAccess(request, {
          decisionId: result.decisionId,
          rolledBack: result.rolledBackVersion,
          restored: result.restoredVersion,
        });
        return result;
      },
    );

    defineRoute(
      app,
      guard,
      {
        method: 'POST',
        url: '/v1/models/:model/versions/:version/archive',
        role: 'operator',
        tags: ['models'],
        summary: 'retire a version that is not in production',
        params: versionParams,
        body: actBody,
        access: 'write',
      },
      async ({ params, body, identity }) =>
        archiveVersion(deps.clickhouse, registry, {
          modelId: params.model,
          version: params.version,
          actor: actorOf(identity, body.as),
          reason: body.reason ?? 'archived through the API',
        }),
    );
  };
}
