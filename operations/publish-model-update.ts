/**
 * Publishing a model update on the Kafka control topic: which versions serve what share of
 * traffic (and which score in shadow), each with its artifact, so scorers hot-swap to it.
 *
 * Publishing is idempotent by key: the `model_updates` table is checked before sending and
 * written after the broker acknowledged. A crash between the two can publish twice; scorers
 * ignore an idempotency key they have already applied, so the effect is still once.
 */
import { findModelUpdate, recordModelUpdate } from '../platform/clickhouse/model-updates-repository.ts';
import { ConflictError, ValidationError } from '../platform/errors.ts';
import { modelKindOf } from '../platform/clickhouse/model-kind-repository.ts';
import {
  kindOfEntry,
  modelUpdateSchema,
  MODEL_UPDATE_SCHEMA_VERSION,
  type ModelUpdateMessage,
} from '../platform/registry/model-update.ts';
import { TERMINAL_STAGES, type ModelVersion } from '../platform/registry/types.ts';
import type { PromotionContext } from './promotion-context.ts';

export interface PublishModelUpdateInput {
  modelId: string;
  version: string;
  artifactUri: string;
  sha256: string;
  /** Share of live traffic per version; must sum to 1. */
  trafficSplit: Record<string, number>;
  /** Versions scored in shadow only (dark launch). @default [] */
  shadowVersions?: string[];
  reason: string;
  /** retrainId + step: the same key is published once. */
  idempotencyKey: string;
}

export interface PublishModelUpdateResult {
  /** False when this key had already been published (nothing sent). */
  published: boolean;
  idempotencyKey: string;
  topic: string;
  partition: number;
  offset: string;
  trafficSplit: Record<string, number>;
}

const artifactOf = (v: Pick<ModelVersion, 'artifactUri' | 'sha256' | 'features'>) => ({
  artifact_uri: v.artifactUri,
  sha256: v.sha256,
  features: v.features,
});

export async function publishModelUpdate(
  ctx: PromotionContext,
  input: PublishModelUpdateInput,
): Promise<PublishModelUpdateResult> {
  const shadow = input.shadowVersions ?? [];
  const previous = await findModelUpdate(ctx.clickhouse, input.modelId, input.idempotencyKey);
  if (previous?.status === 'published') {
    return {
      published: false,
      idempotencyKey: input.idempotencyKey,
      topic: previous.topic,
      partition: previous.partition,
      offset: previous.offset,
      trafficSplit: input.trafficSplit,
    };
  }
  const total = Object.values(input.trafficSplit).reduce((a, b) => a + b, 0);
  if (Object.values(input.trafficSplit).some((s) => !(s >= 0 && s <= 1)) || Math.abs(total - 1) > 1e-6) {
    throw new ValidationError(
      `traffic split ${JSON.stringify(input.trafficSplit)} must have shares in [0, 1] summing to 1`,
    );
  }
  const subject = await ctx.registry.getVersion(input.modelId, input.version);
  if (subject && TERMINAL_STAGES.includes(subject.stage) && (input.trafficSplit[input.version] ?? 0) > 0)
    throw new ConflictError(`${input.modelId} ${input.version} is ${subject.stage}: it is never served`);
  const models: ModelUpdateMessage['models'] = {};
  // The scorer reads a multiclass or regression model's output by the model's declared kind.
  const kind = kindOfEntry(await modelKindOf(ctx.clickhouse, input.modelId));
  for (const v of new Set([...Object.keys(input.trafficSplit), ...shadow])) {
    if (v === input.version) {
      models[v] = {
        artifact_uri: input.artifactUri,
        sha256: input.sha256,
        features: subject?.features ?? { numeric: [], categorical: [] },
        ...kind,
      };
      if (subject && subject.sha256 !== input.sha256)
        throw new ConflictError(
          `${input.modelId} ${v}: sha256 ${input.sha256} differs from the registry's ${subject.sha256}`,
        );
      continue;
    }
    const other = await ctx.registry.getVersion(input.modelId, v);
    if (!other) throw new ValidationError(`traffic split names ${input.modelId} ${v}, which is not in the registry`);
    if (TERMINAL_STAGES.includes(other.stage))
      throw new ConflictError(`traffic split names ${input.modelId} ${v}, which is ${other.stage}`);
    models[v] = { ...artifactOf(other), ...kind };
  }
  const message: ModelUpdateMessage = modelUpdateSchema.parse({
    type: 'model-update',
    schema_version: MODEL_UPDATE_SCHEMA_VERSION,
    model_id: input.modelId,
    version: input.version,
    traffic_split: input.trafficSplit,
    shadow,
    models,
    reason: input.reason,
    idempotency_key: input.idempotencyKey,
    published_at: Date.now(),
  });
  // Keep the registry's stage in step with the traffic the version gets.
  const share = input.trafficSplit[input.version] ?? 0;
  if (subject && (subject.stage === 'candidate' || subject.stage === 'shadow' || subject.stage === 'canary')) {
    const stage =
      share > 0 && share < 1 ? 'canary' : shadow.includes(input.version) && share === 0 ? 'shadow' : subject.stage;
    if (stage !== subject.stage)
      await ctx.registry.setStage(input.modelId, input.version, stage, 'system', input.reason);
  }
  return send(ctx, message, input.trafficSplit);
}

/** Send a checked update on the control topic, keyed by model, and record it under its key. */
async function send(
  ctx: PromotionContext,
  message: ModelUpdateMessage,
  trafficSplit: Record<string, number>,
): Promise<PublishModelUpdateResult> {
  const topic = ctx.config.kafka.modelUpdatesTopic;
  const input = { modelId: message.model_id, version: message.version, idempotencyKey: message.idempotency_key };
  const shadow = message.shadow;
  const producer = await ctx.producer();
  const payload = JSON.stringify(message);
  const [meta] = await producer.send({
    topic,
    acks: -1,
    messages: [{ key: input.modelId, value: payload, headers: { 'idempotency-key': input.idempotencyKey } }],
  });
  const partition = meta?.partition ?? -1;
  const offset = meta?.baseOffset ?? meta?.offset ?? '-1';
  await recordModelUpdate(ctx.clickhouse, {
    idempotencyKey: input.idempotencyKey,
    modelId: input.modelId,
    version: input.version,
    status: 'published',
    payload,
    topic,
    partition,
    offset,
    publishedAt: message.published_at,
  });
  ctx.log.info(
    {
      modelId: input.modelId,
      version: input.version,
      split: trafficSplit,
      shadow,
      key: input.idempotencyKey,
      partition,
      offset,
    },
    'model update published',
  );
  return {
    published: true,
    idempotencyKey: input.idempotencyKey,
    topic,
    partition,
    offset: String(offset),
    trafficSplit,
  };
}

/**
 * Withdraw a model from serving: an update with no traffic at all, so scorers serve nothing for it
 * (a tainted production version with no untainted version to fall back to). Idempotent by key.
 */
export async function publishWithdrawal(
  ctx: PromotionContext,
  modelId: string,
  withdrawnVersion: string,
  idempotencyKey: string,
  reason: string,
): Promise<PublishModelUpdateResult> {
  const previous = await findModelUpdate(ctx.clickhouse, modelId, idempotencyKey);
  if (previous?.status === 'published')
    return {
      published: false,
      idempotencyKey,
      topic: previous.topic,
      partition: previous.partition,
      offset: previous.offset,
      trafficSplit: {},
    };
  const message = modelUpdateSchema.parse({
    type: 'model-update',
    schema_version: MODEL_UPDATE_SCHEMA_VERSION,
    model_id: modelId,
    version: withdrawnVersion,
    traffic_split: {},
    shadow: [],
    models: {},
    reason,
    idempotency_key: idempotencyKey,
    published_at: Date.now(),
  });
  return send(ctx, message, {});
}

/** All traffic to one version (promotion, rollback, taking a rejected canary out). False: the key was published before. */
export async function publishFullTraffic(
  ctx: PromotionContext,
  modelId: string,
  v: ModelVersion,
  key: string,
  reason: string,
): Promise<boolean> {
  const result = await publishModelUpdate(ctx, {
    modelId,
    version: v.version,
    artifactUri: v.artifactUri,
    sha256: v.sha256,
    trafficSplit: { [v.version]: 1 },
    reason,
    idempotencyKey: key,
  });
  return result.published;
}
