import type { ClickHouseClient } from '@clickhouse/client';
import { NotFoundError } from '../errors.ts';
import { queryRows } from './client.ts';
import { listDecisions, type DecisionRecord } from './decisions-repository.ts';
import { ClickHouseLineageRepository, type TrainedRecord, type TrainingSnapshot } from './lineage-repository.ts';
import { ClickHouseRegistryRepository } from './registry-repository.ts';
import type { StageEvent } from '../registry/types.ts';

/**
 * The audit questions, each one or a few parameterised queries over the tables other parts write:
 * which version scored an event, which records trained a version, a model's whole history, and
 * the chain of decisions that led to its production version.
 */

export interface ScoredBy {
  eventId: string;
  scorings: Array<{
    modelId: string;
    version: string;
    /** The registry's sha256 of the version's artifact; null when the version is not in the registry. */
    sha256: string | null;
    artifactUri: string | null;
    stage: string | null;
    scoredAt: string;
    /** Shadow scoring (model id `<model>.shadow`): the live model it shadowed. */
    shadowOf: string | null;
    source: string;
    metadata: Record<string, string>;
  }>;
}

export async function scoredBy(client: ClickHouseClient, eventId: string): Promise<ScoredBy> {
  const rows = await queryRows<{
    model_id: string;
    model_version: string;
    ts_ms: string;
    metadata: Record<string, string>;
    source: string;
  }>(
    client,
    `SELECT model_id, model_version, toUnixTimestamp64Milli(ts) AS ts_ms, metadata, source
     FROM scoring_events FINAL WHERE event_id = {e:String} ORDER BY ts, model_id LIMIT 100`,
    { e: eventId },
  );
  if (rows.length === 0)
    throw new NotFoundError(`no scoring event ${eventId}: nothing with this event id was scored (or it was erased)`);
  const registry = new ClickHouseRegistryRepository(client);
  const scorings = await Promise.all(
    rows.map(async (r) => {
      const shadowOf =
        r.metadata.shadow_of ?? (r.model_id.endsWith('.shadow') ? r.model_id.slice(0, -'.shadow'.length) : null);
      const registered = await registry.getVersion(shadowOf ?? r.model_id, r.model_version);
      return {
        modelId: r.model_id,
        version: r.model_version,
        sha256: registered?.sha256 ?? null,
        artifactUri: registered?.artifactUri ?? null,
        stage: registered?.stage ?? null,
        scoredAt: new Date(Number(r.ts_ms)).toISOString(),
        shadowOf,
        source: r.source,
        metadata: r.metadata,
      };
    }),
  );
  return { eventId, scorings };
}

export interface TrainedOn {
  modelId: string;
  version: string;
  sha256: string;
  snapshot: TrainingSnapshot | null;
  /** Records in the lineage (train and holdout); truncated at the limit. */
  records: TrainedRecord[];
  total: number;
  truncated: boolean;
}

export async function trainedOn(
  client: ClickHouseClient,
  modelId: string,
  version: string,
  limit = 10_000,
): Promise<TrainedOn> {
  const v = await new ClickHouseRegistryRepository(client).requireVersion(modelId, version);
  const lineage = new ClickHouseLineageRepository(client);
  const snapshot = v.lineageId ? await lineage.getSnapshot(v.lineageId) : null;
  const [count] = await queryRows<{ n: string }>(
    client,
    "SELECT uniqExact(event_id) AS n FROM training_lineage WHERE snapshot_id = {s:String} AND {s:String} != ''",
    { s: v.lineageId },
  );
  const train = await lineage.recordsForVersion(modelId, version, { split: 'train', limit });
  const holdout =
    train.length < limit
      ? await lineage.recordsForVersion(modelId, version, { split: 'holdout', limit: limit - train.length })
      : [];
  const records = [...train, ...holdout];
  const total = Number(count?.n ?? 0);
  return { modelId, version, sha256: v.sha256, snapshot, records, total, truncated: records.length < total };
}

export interface HistoryEntry {
  at: string;
  type: 'decision' | 'stage';
  kind: string;
  version: string;
  actor: string;
  reason: string;
  /** Decision id (explain it), or '' for a stage change. */
  id: string;
}

export interface ModelHistory {
  modelId: string;
  entries: HistoryEntry[];
}

/** Every decision and every stage change of a model, oldest first. */
export async function modelHistory(client: ClickHouseClient, modelId: string, limit = 10_000): Promise<ModelHistory> {
  const decisions = await listDecisions(client, { modelId, limit });
  const stages = await new ClickHouseRegistryRepository(client).stageHistory(modelId);
  const entries: HistoryEntry[] = [
    ...decisions.map((d) => ({
      at: new Date(d.decidedAt).toISOString(),
      type: 'decision' as const,
      kind: d.kind,
      version: d.modelVersion,
      actor: d.actor,
      reason: d.reason,
      id: d.decisionId,
    })),
    ...stages.map((s) => ({
      at: s.at,
      type: 'stage' as const,
      kind: `${s.fromStage || 'new'} → ${s.toStage}`,
      version: s.version,
      actor: s.actor,
      reason: s.reason,
      id: '',
    })),
  ].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.type < b.type ? -1 : 1));
  if (entries.length === 0) throw new NotFoundError(`model ${modelId} has no decisions and no registered versions`);
  return { modelId, entries };
}

export interface LineageLink {
  version: string;
  sha256: string;
  stage: string;
  trainer: string;
  createdAt: string;
  /** The training snapshot (lineage id) and its window, '' for imported versions. */
  snapshotId: string;
  trainingWindow: { start: string; end: string } | null;
  trainRows: number | null;
  promotedAt: string | null;
  promotedBy: string | null;
  /** The stage change that made it production. */
  promotion: StageEvent | null;
  /** The `promote` decision (automatic promotions and API/CLI promotions record one). */
  promoteDecision: DecisionSummary | null;
  /** The `retrain` decision that started the retrain which produced the version, with what drove it. */
  retrainDecision: DecisionSummary | null;
  /** Approvals, manual requests, policy changes and erasures between the previous link and the retrain. */
  preceding: DecisionSummary[];
  parentVersion: string | null;
}

export interface DecisionSummary {
  decisionId: string;
  kind: string;
  decidedAt: string;
  actor: string;
  reason: string;
  policy: string;
}

export interface ProductionLineage {
  modelId: string;
  production: string | null;
  /** Newest first: the production version, the version it replaced, and so on back to the first. */
  chain: LineageLink[];
}

const summary = (d: DecisionRecord): DecisionSummary => ({
  decisionId: d.decisionId,
  kind: d.kind,
  decidedAt: new Date(d.decidedAt).toISOString(),
  actor: d.actor,
  reason: d.reason,
  policy: d.policy.name ? `${d.policy.name} v${d.policy.version}` : '',
});

/** The chain of decisions that led to the current production version, following parent versions back. */
export async function productionLineage(
  client: ClickHouseClient,
  modelId: string,
  maxDepth = 50,
): Promise<ProductionLineage> {
  const registry = new ClickHouseRegistryRepository(client);
  const lineage = new ClickHouseLineageRepository(client);
  const production = await registry.productionVersion(modelId);
  const decisions = await listDecisions(client, { modelId, limit: 100_000 });
  const stages = await registry.stageHistory(modelId);
  if (!production && decisions.length === 0 && stages.length === 0)
    throw new NotFoundError(`model ${modelId} has no decisions and no registered versions`);
  const byId = new Map(decisions.map((d) => [d.decisionId, d]));
  const chain: LineageLink[] = [];
  const seen = new Set<string>();
  let current = production;
  while (current && !seen.has(current.version) && chain.length < maxDepth) {
    const v = current;
    seen.add(v.version);
    const promotion = [...stages].reverse().find((s) => s.version === v.version && s.toStage === 'production') ?? null;
    const promote = decisions.find((d) => d.kind === 'promote' && d.modelVersion === v.version) ?? null;
    const requestedBy = (promote?.details as { requestedBy?: unknown } | null)?.requestedBy;
    let retrain = typeof requestedBy === 'string' ? (byId.get(requestedBy) ?? null) : null;
    // Versions from a retrain without a recorded promote decision: find the retrain decision by retrain id.
    retrain ??= v.retrainId
      ? (decisions.find((d) => d.kind === 'retrain' && JSON.stringify(d.details ?? '').includes(v.retrainId)) ?? null)
      : null;
    const snapshot = v.lineageId ? await lineage.getSnapshot(v.lineageId) : null;
    const parent = v.parentVersion ? await registry.getVersion(modelId, v.parentVersion) : null;
    const parentPromotedAt = parent?.promotedAt ? Date.parse(parent.promotedAt) : 0;
    const until = retrain?.decidedAt ?? (promotion ? Date.parse(promotion.at) : Date.parse(v.createdAt));
    const preceding = decisions
      .filter(
        (d) =>
          ['approval-requested', 'approve', 'force-retrain', 'policy-change', 'gdpr-erasure'].includes(d.kind) &&
          d.decidedAt > parentPromotedAt &&
          d.decidedAt <= until,
      )
      .sort((a, b) => a.decidedAt - b.decidedAt)
      .map(summary);
    chain.push({
      version: v.version,
      sha256: v.sha256,
      stage: v.stage,
      trainer: v.trainer,
      createdAt: v.createdAt,
      snapshotId: v.lineageId,
      trainingWindow: snapshot?.window ?? null,
      trainRows: snapshot?.trainRows ?? null,
      promotedAt: v.promotedAt,
      promotedBy: v.promotedBy,
      promotion,
      promoteDecision: promote ? summary(promote) : null,
      retrainDecision: retrain ? summary(retrain) : null,
      preceding,
      parentVersion: v.parentVersion,
    });
    current = parent;
  }
  return { modelId, production: production?.version ?? null, chain };
}
