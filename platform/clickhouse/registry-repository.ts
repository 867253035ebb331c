import type { ClickHouseClient } from '@clickhouse/client';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { FeatureNames } from '../onnx/features.ts';
import {
  TERMINAL_STAGES,
  isModelStage,
  type ModelStage,
  type ModelVersion,
  type NewModelVersion,
  type StageChange,
  type StageEvent,
} from '../registry/types.ts';
import { queryRows } from './client.ts';

/**
 * Model versions in ClickHouse (`model_versions`, ReplacingMergeTree(updated_at) keyed by
 * (model_id, version); every read uses FINAL) and the append-only history of stage changes
 * (`model_stage_events`). Every value goes through query parameters.
 */

export interface ListVersionsOptions {
  stage?: ModelStage;
  /** @default 1000 */
  limit?: number;
}

export interface RegistryRepository {
  registerVersion(input: NewModelVersion): Promise<ModelVersion>;
  getVersion(modelId: string, version: string): Promise<ModelVersion | null>;
  /** Like getVersion, but a missing version is a NotFoundError. */
  requireVersion(modelId: string, version: string): Promise<ModelVersion>;
  listVersions(modelId: string, options?: ListVersionsOptions): Promise<ModelVersion[]>;
  listModels(): Promise<Array<{ modelId: string; versions: number; production: string | null }>>;
  productionVersion(modelId: string): Promise<ModelVersion | null>;
  versionByRetrainId(modelId: string, retrainId: string): Promise<ModelVersion | null>;
  setStage(modelId: string, version: string, stage: ModelStage, actor: string, reason: string): Promise<StageChange>;
  /**
   * Put a version back in the stage an operation just moved it out of, because serving did not
   * confirm the change. Unlike setStage it may leave `rejected` (the rejection is what is undone),
   * never `tainted`; to `production` it archives nothing (the caller undid the other side first).
   */
  undoStage(modelId: string, version: string, stage: ModelStage, actor: string, reason: string): Promise<StageChange>;
  stageHistory(modelId: string, version?: string): Promise<StageEvent[]>;
  /** The version that was production before the current one (for rollback). */
  previousProductionVersion(modelId: string): Promise<ModelVersion | null>;
}

interface VersionRow {
  model_id: string;
  version: string;
  stage: string;
  artifact_uri: string;
  sha256: string;
  parent_version: string;
  lineage_id: string;
  retrain_id: string;
  trainer: string;
  params: string;
  metrics: string;
  features: string;
  code_version: string;
  seed: string | number;
  created_ms: string | number;
  created_by: string;
  promoted_ms: string | number | null;
  promoted_by: string;
  stage_reason: string;
  updated_ms: string | number;
}

const SELECT_VERSION = `SELECT model_id, version, stage, artifact_uri, sha256, parent_version, lineage_id, retrain_id, trainer,
  params, metrics, features, code_version, seed, toUnixTimestamp64Milli(created_at) AS created_ms, created_by,
  toUnixTimestamp64Milli(promoted_at) AS promoted_ms, promoted_by, stage_reason, toUnixTimestamp64Milli(updated_at) AS updated_ms
  FROM model_versions FINAL`;

const iso = (ms: string | number) => new Date(Number(ms)).toISOString();

function fromRow(r: VersionRow): ModelVersion {
  return {
    modelId: r.model_id,
    version: r.version,
    stage: isModelStage(r.stage) ? r.stage : 'archived',
    artifactUri: r.artifact_uri,
    sha256: r.sha256,
    parentVersion: r.parent_version === '' ? null : r.parent_version,
    lineageId: r.lineage_id,
    retrainId: r.retrain_id,
    trainer: r.trainer,
    params: JSON.parse(r.params || '{}') as Record<string, unknown>,
    metrics: JSON.parse(r.metrics || '{}') as Record<string, unknown>,
    features: JSON.parse(r.features || '{"numeric":[],"categorical":[]}') as FeatureNames,
    codeVersion: r.code_version,
    seed: Number(r.seed),
    createdAt: iso(r.created_ms),
    createdBy: r.created_by,
    promotedAt: r.promoted_ms === null ? null : iso(r.promoted_ms),
    promotedBy: r.promoted_by === '' ? null : r.promoted_by,
    stageReason: r.stage_reason,
    updatedAt: iso(r.updated_ms),
  };
}

function toRow(v: ModelVersion): Record<string, unknown> {
  return {
    model_id: v.modelId,
    version: v.version,
    stage: v.stage,
    artifact_uri: v.artifactUri,
    sha256: v.sha256,
    parent_version: v.parentVersion ?? '',
    lineage_id: v.lineageId,
    retrain_id: v.retrainId,
    trainer: v.trainer,
    params: JSON.stringify(v.params),
    metrics: JSON.stringify(v.metrics),
    features: JSON.stringify(v.features),
    code_version: v.codeVersion,
    seed: v.seed,
    created_at: Date.parse(v.createdAt),
    created_by: v.createdBy,
    promoted_at: v.promotedAt === null ? null : Date.parse(v.promotedAt),
    promoted_by: v.promotedBy ?? '',
    stage_reason: v.stageReason,
    updated_at: Date.parse(v.updatedAt),
  };
}

const VERSION_PATTERN = /^v[1-9][0-9]{0,8}$/;

export class ClickHouseRegistryRepository implements RegistryRepository {
  readonly #client: ClickHouseClient;
  #lastMs = 0;

  constructor(client: ClickHouseClient) {
    this.#client = client;
  }

  /** Strictly increasing milliseconds, so two writes in one millisecond still order (ReplacingMergeTree version). */
  #now(): number {
    this.#lastMs = Math.max(Date.now(), this.#lastMs + 1);
    return this.#lastMs;
  }

  async registerVersion(input: NewModelVersion): Promise<ModelVersion> {
    if (input.retrainId) {
      const existing = await this.versionByRetrainId(input.modelId, input.retrainId);
      if (existing) return existing;
    }
    if (input.version !== undefined && !VERSION_PATTERN.test(input.version)) {
      throw new ValidationError(`version ${JSON.stringify(input.version)} must look like v1, v2, …`);
    }
    const version = input.version ?? (await this.#nextVersion(input.modelId));
    if (await this.getVersion(input.modelId, version))
      throw new ValidationError(`${input.modelId} ${version} is already registered`);
    const now = new Date(this.#now()).toISOString();
    const stage = input.stage ?? 'candidate';
    const v: ModelVersion = {
      modelId: input.modelId,
      version,
      stage,
      artifactUri: input.artifactUri,
      sha256: input.sha256,
      parentVersion: input.parentVersion ?? null,
      lineageId: input.lineageId ?? '',
      retrainId: input.retrainId ?? '',
      trainer: input.trainer,
      params: input.params ?? {},
      metrics: input.metrics ?? {},
      features: input.features,
      codeVersion: input.codeVersion,
      seed: input.seed ?? 0,
      createdAt: now,
      createdBy: input.createdBy,
      promotedAt: stage === 'production' ? now : null,
      promotedBy: stage === 'production' ? input.createdBy : null,
      stageReason: 'registered',
      updatedAt: now,
    };
    await this.#client.insert({ table: 'model_versions', values: [toRow(v)], format: 'JSONEachRow' });
    await this.#appendStageEvent({
      modelId: v.modelId,
      version,
      fromStage: '',
      toStage: stage,
      actor: input.createdBy,
      reason: 'registered',
      at: now,
    });
    return v;
  }

  async getVersion(modelId: string, version: string): Promise<ModelVersion | null> {
    const rows = await queryRows<VersionRow>(
      this.#client,
      `${SELECT_VERSION} WHERE model_id = {m:String} AND version = {v:String}`,
      { m: modelId, v: version },
    );
    return rows[0] ? fromRow(rows[0]) : null;
  }

  /**
   * Many versions with one query (a fleet's monitors starting together): each asked (model, version)
   * that exists, in no particular order; the ones missing are left out.
   */
  async getVersions(keys: readonly { modelId: string; version: string }[]): Promise<ModelVersion[]> {
    if (keys.length === 0) return [];
    const rows = await queryRows<VersionRow>(
      this.#client,
      `${SELECT_VERSION} WHERE model_id IN {ms:Array(String)} AND version IN {vs:Array(String)}`,
      { ms: [...new Set(keys.map((k) => k.modelId))], vs: [...new Set(keys.map((k) => k.version))] },
    );
    // The query reads every pairing of the asked models and versions: keep the pairs asked.
    const asked = new Set(keys.map((k) => `${k.modelId}\u0000${k.version}`));
    return rows.map(fromRow).filter((v) => asked.has(`${v.modelId}\u0000${v.version}`));
  }

  async requireVersion(modelId: string, version: string): Promise<ModelVersion> {
    const v = await this.getVersion(modelId, version);
    if (!v)
      throw new NotFoundError(
        `model ${modelId} has no version ${version} in the registry (see \`halflife models list ${modelId}\`)`,
      );
    return v;
  }

  async listVersions(modelId: string, options: ListVersionsOptions = {}): Promise<ModelVersion[]> {
    const rows = await queryRows<VersionRow>(
      this.#client,
      `${SELECT_VERSION} WHERE model_id = {m:String} AND ({stage:String} = '' OR stage = {stage:String})
       ORDER BY toUInt64OrZero(substring(version, 2)) DESC, version DESC LIMIT {limit:UInt32}`,
      { m: modelId, stage: options.stage ?? '', limit: options.limit ?? 1000 },
    );
    return rows.map(fromRow);
  }

  async listModels(): Promise<Array<{ modelId: string; versions: number; production: string | null }>> {
    const rows = await queryRows<{ model_id: string; versions: string; production: string }>(
      this.#client,
      `SELECT model_id, count() AS versions, anyIf(version, stage = 'production') AS production
       FROM model_versions FINAL GROUP BY model_id ORDER BY model_id`,
    );
    return rows.map((r) => ({
      modelId: r.model_id,
      versions: Number(r.versions),
      production: r.production === '' ? null : r.production,
    }));
  }

  async productionVersion(modelId: string): Promise<ModelVersion | null> {
    // At most one production version is kept by setStage; the newest promotion wins if a race left two.
    const rows = await queryRows<VersionRow>(
      this.#client,
      `${SELECT_VERSION} WHERE model_id = {m:String} AND stage = 'production' ORDER BY promoted_at DESC, updated_at DESC LIMIT 1`,
      { m: modelId },
    );
    return rows[0] ? fromRow(rows[0]) : null;
  }

  async versionByRetrainId(modelId: string, retrainId: string): Promise<ModelVersion | null> {
    const rows = await queryRows<VersionRow>(
      this.#client,
      `${SELECT_VERSION} WHERE model_id = {m:String} AND retrain_id = {r:String} ORDER BY created_at LIMIT 1`,
      { m: modelId, r: retrainId },
    );
    return rows[0] ? fromRow(rows[0]) : null;
  }

  async setStage(
    modelId: string,
    version: string,
    stage: ModelStage,
    actor: string,
    reason: string,
  ): Promise<StageChange> {
    if (!isModelStage(stage)) throw new ValidationError(`unknown stage ${JSON.stringify(stage)}`);
    const current = await this.requireVersion(modelId, version);
    if (current.stage === stage) return { changed: false, previousStage: current.stage, version: current };
    if (TERMINAL_STAGES.includes(current.stage) && stage !== 'archived' && !TERMINAL_STAGES.includes(stage)) {
      throw new ValidationError(
        `${modelId} ${version} is ${current.stage}: it cannot become ${stage} (retrain and register a new version)`,
      );
    }
    if (stage === 'production') {
      // One production version per model: the previous one is archived first, so a crash in
      // between leaves none rather than two (and a retry completes the promotion).
      const previous = await this.productionVersion(modelId);
      if (previous && previous.version !== version) {
        await this.setStage(modelId, previous.version, 'archived', actor, `superseded by ${version}: ${reason}`);
      }
    }
    return this.#writeStage(current, stage, actor, reason);
  }

  async undoStage(
    modelId: string,
    version: string,
    stage: ModelStage,
    actor: string,
    reason: string,
  ): Promise<StageChange> {
    if (!isModelStage(stage)) throw new ValidationError(`unknown stage ${JSON.stringify(stage)}`);
    const current = await this.requireVersion(modelId, version);
    if (current.stage === stage) return { changed: false, previousStage: current.stage, version: current };
    if (current.stage === 'tainted')
      throw new ConflictError(`${modelId} ${version} is tainted: it never serves again, so its stage is not restored`);
    if (current.stage === 'probe')
      throw new ConflictError(
        `${modelId} ${version} is a probe challenger: it never serves, so it has no stage to restore`,
      );
    if (stage === 'production') {
      const other = await this.productionVersion(modelId);
      if (other && other.version !== version)
        throw new ConflictError(
          `${modelId} ${version} cannot be restored to production: ${other.version} is production now`,
        );
    }
    return this.#writeStage(current, stage, actor, reason);
  }

  async #writeStage(current: ModelVersion, stage: ModelStage, actor: string, reason: string): Promise<StageChange> {
    const { modelId, version } = current;
    const nowMs = this.#now();
    const now = new Date(nowMs).toISOString();
    const next: ModelVersion = {
      ...current,
      stage,
      stageReason: reason,
      updatedAt: now,
      ...(stage === 'production' ? { promotedAt: now, promotedBy: actor } : {}),
    };
    await this.#client.insert({ table: 'model_versions', values: [toRow(next)], format: 'JSONEachRow' });
    await this.#appendStageEvent({
      modelId,
      version,
      fromStage: current.stage,
      toStage: stage,
      actor,
      reason,
      at: now,
    });
    return { changed: true, previousStage: current.stage, version: next };
  }

  async stageHistory(modelId: string, version?: string): Promise<StageEvent[]> {
    const rows = await queryRows<{
      model_id: string;
      version: string;
      from_stage: string;
      to_stage: string;
      actor: string;
      reason: string;
      at_ms: string;
    }>(
      this.#client,
      `SELECT model_id, version, from_stage, to_stage, actor, reason, toUnixTimestamp64Milli(at) AS at_ms
       FROM model_stage_events WHERE model_id = {m:String} AND ({v:String} = '' OR version = {v:String}) ORDER BY at, version`,
      { m: modelId, v: version ?? '' },
    );
    return rows.map((r) => ({
      modelId: r.model_id,
      version: r.version,
      fromStage: r.from_stage,
      toStage: isModelStage(r.to_stage) ? r.to_stage : 'archived',
      actor: r.actor,
      reason: r.reason,
      at: iso(r.at_ms),
    }));
  }

  async previousProductionVersion(modelId: string): Promise<ModelVersion | null> {
    const current = await this.productionVersion(modelId);
    const rows = await queryRows<{ version: string }>(
      this.#client,
      `SELECT version FROM model_stage_events
       WHERE model_id = {m:String} AND to_stage = 'production' AND version != {cur:String}
       ORDER BY at DESC LIMIT 20`,
      { m: modelId, cur: current?.version ?? '' },
    );
    for (const r of rows) {
      const v = await this.getVersion(modelId, r.version);
      if (v && !TERMINAL_STAGES.includes(v.stage)) return v;
    }
    return null;
  }

  async #nextVersion(modelId: string): Promise<string> {
    const rows = await queryRows<{ n: string | number }>(
      this.#client,
      'SELECT max(toUInt64OrZero(substring(version, 2))) AS n FROM model_versions WHERE model_id = {m:String}',
      { m: modelId },
    );
    return `v${Number(rows[0]?.n ?? 0) + 1}`;
  }

  async #appendStageEvent(e: StageEvent): Promise<void> {
    await this.#client.insert({
      table: 'model_stage_events',
      values: [
        {
          model_id: e.modelId,
          version: e.version,
          from_stage: e.fromStage,
          to_stage: e.toStage,
          actor: e.actor,
          reason: e.reason,
          at: Date.parse(e.at),
        },
      ],
      format: 'JSONEachRow',
    });
  }
}
