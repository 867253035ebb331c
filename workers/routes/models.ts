import { CONTRACT_LIMITS } from '../../platform/contracts.ts';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { z } from 'zod';
import { archiveVersion } from '../../operations/archive-version.ts';
import {
  modelKindInput,
  readReferenceFile,
  registerModel,
  type ReferenceSource,
} from '../../operations/register-model.ts';
import { promoteVersionManually } from '../../operations/promote-version.ts';
import type { PromotionContext } from '../../operations/promotion-context.ts';
import { rollbackProductionManually } from '../../operations/rollback-version.ts';
import { servedByOf, servingStatus } from '../../operations/serving-status.ts';
import type { HalflifeConfig } from '../../platform/config.ts';
import { ClickHouseLineageRepository } from '../../platform/clickhouse/lineage-repository.ts';
import { modelKindOf } from '../../platform/clickhouse/model-kind-repository.ts';
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
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64');
const epochOrIso = z.union([z.number().int().nonnegative(), z.iso.datetime({ offset: true })]);
/** What POST /v1/models/:model/versions takes (the CLI's `models register` sends the same). */
export const registerBody = z
  .object({
    version: versionId.optional().describe('@default the next v<n>'),
    artifact: z
      .object({ name: z.string().min(1).max(256), base64 })
      .strict()
      .optional()
      .describe('the ONNX model; absent for a monitor-only model served elsewhere'),
    reference: z
      .union([
        z
          .object({
            file: z.object({ name: z.string().min(1).max(256), base64 }).strict(),
            categorical: z.array(z.string().max(128)).max(10_000).optional(),
          })
          .strict(),
        z.object({ window: z.object({ start: epochOrIso, end: epochOrIso }).strict() }).strict(),
      ])
      .optional()
      .describe('a CSV or Parquet file (by its name), or a window of stored events'),
    stage: z.enum(['candidate', 'production']).optional().describe('@default candidate'),
    decisionThreshold: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe(
        'the score at or above which the version predicts positive; label-free accuracy is estimated at it. @default none recorded (0.5 assumed)',
      ),
    vectorFeatures: z
      .record(z.string().max(128), z.number().int().min(1).max(CONTRACT_LIMITS.vectorDimension))
      .optional()
      .describe(
        'the model\'s vector features (embeddings) and their exact dimension, e.g. {"embedding": 32}: events must send each as an array of that many numbers. @default none declared',
      ),
    kind: z
      .enum(['binary', 'multiclass', 'regression'])
      .optional()
      .describe(
        'what kind of model this is (declared for the model): binary (prediction.score), multiclass (prediction.probabilities over `classes`) or regression (prediction.value). @default none declared (binary)',
      ),
    classes: z
      .array(z.string().min(1).max(CONTRACT_LIMITS.labelChars))
      .max(1000)
      .optional()
      .describe("a multiclass model's classes, in order (at least two). @default none"),
    reason: z.string().max(1000).optional(),
    as: z.string().min(1).max(128).optional(),
  })
  .strict();
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
        url: '/v1/models/:model/kind',
        role: 'viewer',
        tags: ['models'],
        summary:
          "a model's kind: binary (the default, when none was declared), multiclass with its classes, or regression",
        params: modelParams,
        access: 'read',
      },
      ({ params }) => modelKindOf(deps.clickhouse, params.model),
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
        url: '/v1/models/:model/versions',
        role: 'operator',
        tags: ['models'],
        summary:
          'register a version halflife did not train: an ONNX artifact (sha256, inputs checked against the reference, loaded once) or none (monitor-only), with its reference',
        params: modelParams,
        body: registerBody,
        status: 201,
        access: 'write',
        bodyLimit: 256 * 1024 * 1024,
      },
      async ({ params, body, identity, request }) => {
        const dir = await mkdtemp(path.join(os.tmpdir(), 'halflife-register-'));
        try {
          let reference: ReferenceSource | undefined;
          if (body.reference && 'file' in body.reference) {
            const file = path.join(dir, path.basename(body.reference.file.name));
            await writeFile(file, Buffer.from(body.reference.file.base64, 'base64'));
            const table = await readReferenceFile(deps.clickhouse, file);
            reference = {
              kind: 'file',
              table: { ...table, file: body.reference.file.name },
              categorical: body.reference.categorical,
            };
          } else if (body.reference && 'window' in body.reference) {
            const at = (t: number | string) => (typeof t === 'number' ? t : Date.parse(t));
            reference = { kind: 'window', start: at(body.reference.window.start), end: at(body.reference.window.end) };
          }
          const result = await registerModel(
            { clickhouse: deps.clickhouse, registry, artifacts: deps.artifacts },
            {
              modelId: params.model,
              ...(body.version ? { version: body.version } : {}),
              ...(body.artifact
                ? { artifact: { name: body.artifact.name, bytes: Buffer.from(body.artifact.base64, 'base64') } }
                : {}),
              ...(reference ? { reference } : {}),
              stage: body.stage ?? 'candidate',
              ...(body.decisionThreshold === undefined ? {} : { decisionThreshold: body.decisionThreshold }),
              ...(body.vectorFeatures ? { vectorFeatures: body.vectorFeatures } : {}),
              ...modelKindInput(body.kind, body.classes),
              actor: actorOf(identity, body.as),
              ...(body.reason ? { reason: body.reason } : {}),
            },
          );
          noteAccess(request, {
            version: result.version.version,
            sha256: result.version.sha256,
            referenceId: result.referenceId,
          });
          return result;
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
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
