/**
 * Canary and promotion side effects: model-update messages on the Kafka control topic, canary
 * health checks from the events each version scored, and stage changes in the registry.
 *
 * Publishing is idempotent by key: the `model_updates` table is checked before sending and
 * written after the broker acknowledged. A crash between the two can publish twice; scorers
 * ignore an idempotency key they have already applied, so the effect is still once.
 */
import { crashPoint } from '../platform/fault-injection.ts';
import { queryRows } from '../platform/clickhouse/client.ts';
import {
  modelUpdateSchema,
  MODEL_UPDATE_SCHEMA_VERSION,
  type ModelUpdateMessage,
} from '../platform/registry/model-update.ts';
import { TERMINAL_STAGES, type ModelVersion } from '../platform/registry/types.ts';
import { ms, nonRetryable, type RetrainContext } from './retrain-context.ts';

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

export interface CanaryCheckInput {
  modelId: string;
  candidateVersion: string;
  championVersion?: string;
  /** Epoch ms or ISO-8601: when the split started. */
  since: number | string;
  /** Fewer candidate events than this is not healthy (cannot be verified). */
  minEvents: number;
  /** Largest allowed candidate − champion log loss on labelled canary events. @default 0.05 */
  maxLogLossIncrease?: number;
  /**
   * Largest allowed |candidate mean score − champion mean score| — a label-free sign of a broken
   * model. A larger shift passes when labelled canary events vindicate it: the candidate's mean
   * score is at least as close to the observed positive rate as the champion's (plus
   * `calibrationTolerance`), as when the base rate itself moved and the candidate learned it.
   * @default 0.2
   */
  maxMeanScoreShift?: number;
  /** Slack, in the calibration-in-the-large comparison above. @default 0.02 */
  calibrationTolerance?: number;
  /** Largest share of candidate requests that failed and fell back to the champion. @default 0.01 */
  maxFallbackRate?: number;
  /** Largest candidate/champion p99 latency ratio. @default 2 */
  maxLatencyP99Ratio?: number;
  /** Fewest labelled events per version for the log-loss check. @default 100 */
  minLabelled?: number;
}

export interface VersionServingMetrics {
  events: number;
  meanScore: number | null;
  /** Share of scores at exactly 0 or 1 (a broken model's signature). */
  saturatedShare: number | null;
  latencyP99Ms: number | null;
  labelled: number;
  logLoss: number | null;
  /** Share of positive labels among the labelled events. */
  positiveRate: number | null;
  /** Mean score over the labelled events (compared with `positiveRate`: calibration in the large). */
  labelledMeanScore: number | null;
  fallbacks: number;
}

export interface CanaryCheckResult {
  healthy: boolean;
  reasons: string[];
  metrics: { candidate: VersionServingMetrics; champion: VersionServingMetrics | null };
}

export interface PromoteVersionInput {
  retrainId: string;
  modelId: string;
  version: string;
  actor: string;
  /** @default 'promoted' */
  reason?: string;
}

export interface PromoteVersionResult {
  alreadyPromoted: boolean;
  version: string;
  previousVersion: string | null;
  published: boolean;
}

export interface RejectVersionInput {
  retrainId?: string;
  modelId: string;
  version: string;
  actor: string;
  reason: string;
}

export interface RejectVersionResult {
  alreadyRejected: boolean;
  /** The version given all traffic again when the rejected one had some. */
  restoredVersion: string | null;
}

export interface RollbackVersionInput {
  retrainId?: string;
  modelId: string;
  /** The version being rolled back: a canary/shadow candidate, or the current production version. */
  version: string;
  /** Production version to return to. @default the previous production version */
  toVersion?: string;
  actor: string;
  reason: string;
}

export interface RollbackVersionResult {
  alreadyRolledBack: boolean;
  rolledBackVersion: string;
  restoredVersion: string | null;
}

interface ModelUpdateRow {
  idempotency_key: string;
  status: string;
  topic: string;
  kafka_partition: number;
  kafka_offset: string;
  payload: string;
}

export function createPromotionActivities(ctx: RetrainContext) {
  const artifactOf = (v: Pick<ModelVersion, 'artifactUri' | 'sha256' | 'features'>) => ({
    artifact_uri: v.artifactUri,
    sha256: v.sha256,
    features: v.features,
  });

  async function publishModelUpdate(input: PublishModelUpdateInput): Promise<PublishModelUpdateResult> {
    const topic = ctx.config.kafka.modelUpdatesTopic;
    const shadow = input.shadowVersions ?? [];
    const [previous] = await queryRows<ModelUpdateRow>(
      ctx.clickhouse,
      `SELECT idempotency_key, status, topic, kafka_partition, toString(kafka_offset) AS kafka_offset, payload FROM model_updates FINAL
       WHERE model_id = {m:String} AND idempotency_key = {k:String} LIMIT 1`,
      { m: input.modelId, k: input.idempotencyKey },
    );
    if (previous?.status === 'published') {
      return {
        published: false,
        idempotencyKey: input.idempotencyKey,
        topic: previous.topic,
        partition: Number(previous.kafka_partition),
        offset: previous.kafka_offset,
        trafficSplit: input.trafficSplit,
      };
    }
    const total = Object.values(input.trafficSplit).reduce((a, b) => a + b, 0);
    if (Object.values(input.trafficSplit).some((s) => !(s >= 0 && s <= 1)) || Math.abs(total - 1) > 1e-6) {
      throw nonRetryable(
        'ValidationError',
        `traffic split ${JSON.stringify(input.trafficSplit)} must have shares in [0, 1] summing to 1`,
      );
    }
    const subject = await ctx.registry.getVersion(input.modelId, input.version);
    const models: ModelUpdateMessage['models'] = {};
    for (const v of new Set([...Object.keys(input.trafficSplit), ...shadow])) {
      if (v === input.version) {
        models[v] = {
          artifact_uri: input.artifactUri,
          sha256: input.sha256,
          features: subject?.features ?? { numeric: [], categorical: [] },
        };
        if (subject && subject.sha256 !== input.sha256)
          throw nonRetryable(
            'ValidationError',
            `${input.modelId} ${v}: sha256 ${input.sha256} differs from the registry's ${subject.sha256}`,
          );
        continue;
      }
      const other = await ctx.registry.getVersion(input.modelId, v);
      if (!other)
        throw nonRetryable(
          'ValidationError',
          `traffic split names ${input.modelId} ${v}, which is not in the registry`,
        );
      if (TERMINAL_STAGES.includes(other.stage))
        throw nonRetryable('ValidationError', `traffic split names ${input.modelId} ${v}, which is ${other.stage}`);
      models[v] = artifactOf(other);
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
    const producer = await ctx.producer();
    const payload = JSON.stringify(message);
    const [meta] = await producer.send({
      topic,
      acks: -1,
      messages: [{ key: input.modelId, value: payload, headers: { 'idempotency-key': input.idempotencyKey } }],
    });
    const partition = meta?.partition ?? -1;
    const offset = meta?.baseOffset ?? meta?.offset ?? '-1';
    await ctx.clickhouse.insert({
      table: 'model_updates',
      values: [
        {
          idempotency_key: input.idempotencyKey,
          model_id: input.modelId,
          version: input.version,
          status: 'published',
          payload,
          topic,
          kafka_partition: partition,
          kafka_offset: offset,
          published_at: message.published_at,
        },
      ],
      format: 'JSONEachRow',
    });
    ctx.log.info(
      {
        modelId: input.modelId,
        version: input.version,
        split: input.trafficSplit,
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
      trafficSplit: input.trafficSplit,
    };
  }

  async function servingMetrics(
    modelId: string,
    version: string,
    since: number,
    fallbackOf?: string,
  ): Promise<VersionServingMetrics> {
    const [row] = await queryRows<{
      events: string;
      mean_score: number | null;
      saturated: number | null;
      p99: number | null;
      labelled: string;
      log_loss: number | null;
      positive_rate: number | null;
      labelled_mean_score: number | null;
      fallbacks: string;
    }>(
      ctx.clickhouse,
      `SELECT count() AS events, avgOrNull(e.prediction_score) AS mean_score,
              avgOrNull(if(e.prediction_score IN (0, 1), 1, 0)) AS saturated,
              quantileExactOrNull(0.99)(toFloat64OrNull(e.metadata['latency_ms'])) AS p99,
              countIf(l.y IS NOT NULL) AS labelled,
              avgOrNullIf(-(l.y * log(greatest(e.prediction_score, 1e-15)) + (1 - l.y) * log(greatest(1 - e.prediction_score, 1e-15))), l.y IS NOT NULL) AS log_loss,
              avgOrNullIf(l.y, l.y IS NOT NULL) AS positive_rate,
              avgOrNullIf(e.prediction_score, l.y IS NOT NULL) AS labelled_mean_score,
              countIf(e.metadata['fallback_from'] = {fallback:String} AND {fallback:String} != '') AS fallbacks
       FROM (SELECT event_id, prediction_score, metadata FROM scoring_events FINAL
             WHERE model_id = {m:String} AND model_version = {v:String} AND ts >= fromUnixTimestamp64Milli({since:Int64}, 'UTC')) AS e
       LEFT JOIN (SELECT event_id, toNullable(toFloat64(argMax(label_numeric, label_ts))) AS y FROM labels GROUP BY event_id HAVING y IN (0, 1)) AS l
         ON l.event_id = e.event_id
       SETTINGS join_use_nulls = 1`,
      { m: modelId, v: version, since, fallback: fallbackOf ?? '' },
    );
    return {
      events: Number(row?.events ?? 0),
      meanScore: row?.mean_score ?? null,
      saturatedShare: row?.saturated ?? null,
      latencyP99Ms: row?.p99 ?? null,
      labelled: Number(row?.labelled ?? 0),
      logLoss: row?.log_loss ?? null,
      positiveRate: row?.positive_rate ?? null,
      labelledMeanScore: row?.labelled_mean_score ?? null,
      fallbacks: Number(row?.fallbacks ?? 0),
    };
  }

  async function canaryCheck(input: CanaryCheckInput): Promise<CanaryCheckResult> {
    const since = ms(input.since);
    const o = {
      maxLogLossIncrease: 0.05,
      maxMeanScoreShift: 0.2,
      calibrationTolerance: 0.02,
      maxFallbackRate: 0.01,
      maxLatencyP99Ratio: 2,
      minLabelled: 100,
      ...input,
    };
    const candidate = await servingMetrics(input.modelId, input.candidateVersion, since);
    // Candidate failures are served by the champion and marked fallback_from=<candidate>.
    const champion = input.championVersion
      ? await servingMetrics(input.modelId, input.championVersion, since, input.candidateVersion)
      : null;
    const reasons: string[] = [];
    let healthy = true;
    const fail = (r: string) => {
      healthy = false;
      reasons.push(r);
    };
    if (candidate.events < input.minEvents)
      fail(
        `only ${candidate.events} events scored by ${input.candidateVersion} since the split; at least ${input.minEvents} are needed to judge the canary`,
      );
    const fallbacks = champion?.fallbacks ?? 0;
    const fallbackRate = candidate.events + fallbacks > 0 ? fallbacks / (candidate.events + fallbacks) : 0;
    if (fallbackRate > o.maxFallbackRate)
      fail(
        `${(fallbackRate * 100).toFixed(2)}% of the candidate's requests failed (> ${(o.maxFallbackRate * 100).toFixed(2)}%)`,
      );
    if (candidate.saturatedShare !== null && candidate.saturatedShare > 0.05)
      fail(`${(candidate.saturatedShare * 100).toFixed(1)}% of the candidate's scores are exactly 0 or 1`);
    if (champion && champion.events > 0) {
      if (
        candidate.meanScore !== null &&
        champion.meanScore !== null &&
        Math.abs(candidate.meanScore - champion.meanScore) > o.maxMeanScoreShift
      ) {
        const shift = `mean score ${candidate.meanScore.toFixed(3)} vs champion ${champion.meanScore.toFixed(3)}: shift above ${o.maxMeanScoreShift}`;
        const gap = calibrationGap(candidate, o.minLabelled);
        const championGap = calibrationGap(champion, o.minLabelled);
        if (gap === null || championGap === null)
          fail(`${shift}, and too few labelled canary events to tell a moved base rate from a broken model`);
        else if (gap > championGap + o.calibrationTolerance)
          fail(
            `${shift}; on labelled events the candidate's mean score is ${gap.toFixed(3)} from the positive rate, the champion's ${championGap.toFixed(3)}`,
          );
        else
          reasons.push(
            `${shift}, but the labels agree with it: the candidate's mean score is ${gap.toFixed(3)} from the positive rate ${(candidate.positiveRate as number).toFixed(3)}, the champion's ${championGap.toFixed(3)}`,
          );
      }
      if (
        candidate.latencyP99Ms !== null &&
        champion.latencyP99Ms !== null &&
        champion.latencyP99Ms > 0 &&
        candidate.latencyP99Ms / champion.latencyP99Ms > o.maxLatencyP99Ratio
      ) {
        fail(
          `p99 latency ${candidate.latencyP99Ms.toFixed(2)} ms is ${(candidate.latencyP99Ms / champion.latencyP99Ms).toFixed(2)}× the champion's (> ${o.maxLatencyP99Ratio}×)`,
        );
      }
      if (
        candidate.labelled >= o.minLabelled &&
        champion.labelled >= o.minLabelled &&
        candidate.logLoss !== null &&
        champion.logLoss !== null
      ) {
        if (candidate.logLoss - champion.logLoss > o.maxLogLossIncrease)
          fail(
            `log loss ${candidate.logLoss.toFixed(4)} vs champion ${champion.logLoss.toFixed(4)} on labelled canary events`,
          );
        else
          reasons.push(
            `log loss ${candidate.logLoss.toFixed(4)} vs champion ${champion.logLoss.toFixed(4)} on labelled canary events`,
          );
      } else {
        reasons.push(
          `too few labelled canary events for a quality check (${candidate.labelled} / ${champion.labelled}; need ${o.minLabelled} each)`,
        );
      }
    }
    if (healthy) reasons.unshift(`${candidate.events} canary events, no regression found`);
    return { healthy, reasons, metrics: { candidate, champion } };
  }

  async function publishFull(modelId: string, v: ModelVersion, key: string, reason: string): Promise<boolean> {
    const result = await publishModelUpdate({
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

  async function promoteVersion(input: PromoteVersionInput): Promise<PromoteVersionResult> {
    const v = await ctx.registry.requireVersion(input.modelId, input.version).catch((e: Error) => {
      throw nonRetryable('ValidationError', e.message);
    });
    if (TERMINAL_STAGES.includes(v.stage))
      throw nonRetryable('ValidationError', `${input.modelId} ${input.version} is ${v.stage} and cannot be promoted`);
    const alreadyPromoted = v.stage === 'production';
    const previous = alreadyPromoted
      ? await ctx.registry.previousProductionVersion(input.modelId)
      : await ctx.registry.productionVersion(input.modelId);
    const reason = input.reason ?? 'promoted';
    if (!alreadyPromoted) await ctx.registry.setStage(input.modelId, input.version, 'production', input.actor, reason);
    crashPoint('promote:after-stage');
    // Published on every call: the key makes it once, and a retry after a crash between the
    // stage change and the publish completes the promotion.
    const published = await publishFull(input.modelId, v, `${input.retrainId}/promote`, reason);
    return { alreadyPromoted, version: input.version, previousVersion: previous?.version ?? null, published };
  }

  async function rejectVersion(input: RejectVersionInput): Promise<RejectVersionResult> {
    const v = await ctx.registry.requireVersion(input.modelId, input.version).catch((e: Error) => {
      throw nonRetryable('ValidationError', e.message);
    });
    if (v.stage === 'production')
      throw nonRetryable(
        'ValidationError',
        `${input.modelId} ${input.version} is in production: roll it back instead of rejecting it`,
      );
    const alreadyRejected = v.stage === 'rejected';
    if (!alreadyRejected)
      await ctx.registry.setStage(input.modelId, input.version, 'rejected', input.actor, input.reason);
    // A version that received traffic (canary or shadow) must be taken out of serving: all
    // traffic goes back to production. Decided from the stage history so a retry decides alike.
    const history = await ctx.registry.stageHistory(input.modelId, input.version);
    const hadTraffic = history.some((e) => e.toStage === 'canary' || e.toStage === 'shadow');
    let restoredVersion: string | null = null;
    if (hadTraffic) {
      const production = await ctx.registry.productionVersion(input.modelId);
      if (production) {
        await publishFull(
          input.modelId,
          production,
          `${input.retrainId ?? 'manual'}/reject/${input.version}`,
          `${input.version} rejected: ${input.reason}`,
        );
        restoredVersion = production.version;
      }
    }
    return { alreadyRejected, restoredVersion };
  }

  async function rollbackVersion(input: RollbackVersionInput): Promise<RollbackVersionResult> {
    const v = await ctx.registry.requireVersion(input.modelId, input.version).catch((e: Error) => {
      throw nonRetryable('ValidationError', e.message);
    });
    const key = `${input.retrainId ?? 'manual'}/rollback/${input.version}`;
    const alreadyRolledBack = v.stage === 'rejected';
    let restored: ModelVersion | null;
    if (v.stage === 'production') {
      restored = input.toVersion
        ? await ctx.registry.requireVersion(input.modelId, input.toVersion)
        : await ctx.registry.previousProductionVersion(input.modelId);
      if (!restored)
        throw nonRetryable('ValidationError', `${input.modelId} has no earlier production version to roll back to`);
      await ctx.registry.setStage(
        input.modelId,
        restored.version,
        'production',
        input.actor,
        `rollback from ${input.version}: ${input.reason}`,
      );
      await ctx.registry.setStage(
        input.modelId,
        input.version,
        'rejected',
        input.actor,
        `rolled back: ${input.reason}`,
      );
    } else {
      if (!alreadyRolledBack)
        await ctx.registry.setStage(
          input.modelId,
          input.version,
          'rejected',
          input.actor,
          `rolled back: ${input.reason}`,
        );
      restored = input.toVersion
        ? await ctx.registry.requireVersion(input.modelId, input.toVersion)
        : await ctx.registry.productionVersion(input.modelId);
      if (restored && input.toVersion && restored.stage !== 'production') {
        await ctx.registry.setStage(
          input.modelId,
          restored.version,
          'production',
          input.actor,
          `rollback from ${input.version}: ${input.reason}`,
        );
      }
    }
    if (restored) await publishFull(input.modelId, restored, key, `rollback from ${input.version}: ${input.reason}`);
    return { alreadyRolledBack, rolledBackVersion: input.version, restoredVersion: restored?.version ?? null };
  }

  return { publishModelUpdate, canaryCheck, promoteVersion, rejectVersion, rollbackVersion };
}

/** |mean score − positive rate| on a version's labelled events (calibration in the large), or null with too few labels. */
function calibrationGap(m: VersionServingMetrics, minLabelled: number): number | null {
  if (m.labelled < minLabelled || m.positiveRate === null || m.labelledMeanScore === null) return null;
  return Math.abs(m.labelledMeanScore - m.positiveRate);
}
