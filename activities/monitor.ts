/**
 * Side effects of the ModelMonitor workflow: window aggregates from ClickHouse, references,
 * and decision records. Every query aggregates in ClickHouse (bins, categories, histograms);
 * what comes back is O(features × bins), never rows.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { Context } from '@temporalio/activity';
import type { MonitorReference, WindowObservation } from '../detectors/monitor/types.ts';
import { fitCbpe } from '../detectors/quality/cbpe.ts';
import { DEFAULT_SCORE_HISTOGRAM_BINS } from '../detectors/quality/score-histogram.ts';
import { queryRows } from '../platform/clickhouse/client.ts';
import { recordDecision as storeDecision, type DecisionRecord } from '../platform/clickhouse/decisions-repository.ts';
import {
  buildReference as buildReferenceProfiles,
  loadReference,
  windowCounts,
  type StoredReference,
} from '../platform/clickhouse/statistics-repository.ts';
import { NotFoundError } from '../platform/errors.ts';
import type { Logger } from '../platform/logger.ts';

export interface MonitorActivityDeps {
  clickhouse: ClickHouseClient;
  log: Logger;
}

/** Labelled events needed to fit the label-free estimator on a reference. */
const MIN_CBPE_REFERENCE = 500;
/** Cap on labelled reference events pulled for CBPE fitting (scores and labels only). */
const MAX_CBPE_REFERENCE = 50_000;

export function createMonitorActivities({ clickhouse, log }: MonitorActivityDeps) {
  // A reference never changes once stored (its id is derived from its inputs): read each once.
  const references = new Map<string, Promise<StoredReference>>();
  const referenceById = (id: string): Promise<StoredReference> => {
    let cached = references.get(id);
    if (!cached) {
      cached = loadReference(clickhouse, id);
      cached.catch(() => references.delete(id));
      references.set(id, cached);
    }
    return cached;
  };

  /** The window's aggregates: per-feature counts over the reference bins, versions, quality histograms. */
  async function collectWindow(input: {
    modelId: string;
    start: number;
    end: number;
    referenceId: string | null;
  }): Promise<WindowObservation> {
    const params = { model: input.modelId, start: input.start, end: input.end };
    const reference = input.referenceId ? await referenceById(input.referenceId) : null;
    Context.current().heartbeat('counting features');
    const counts = reference
      ? await windowCounts(clickhouse, { modelId: input.modelId, start: input.start, end: input.end, reference })
      : null;

    const versions = await queryRows<{ version: string; events: string; first_seen: string }>(
      clickhouse,
      `SELECT model_version AS version, count() AS events, toUnixTimestamp64Milli(min(ts)) AS first_seen
       FROM scoring_events FINAL
       WHERE model_id = {model:String} AND ts >= fromUnixTimestamp64Milli({start:Int64}) AND ts < fromUnixTimestamp64Milli({end:Int64})
       GROUP BY model_version`,
      params,
    );
    const trainedAt = await versionTrainedAt(
      input.modelId,
      versions.map((v) => v.version),
    );
    // windowCounts already counted the window's dead letters; without a reference, count them here.
    const deadLettered =
      counts?.deadLettered ??
      Number(
        (
          await queryRows<{ n: string }>(
            clickhouse,
            `SELECT count() AS n FROM dead_letters FINAL
             WHERE model_id = {model:String} AND received_at >= fromUnixTimestamp64Milli({start:Int64}) AND received_at < fromUnixTimestamp64Milli({end:Int64})`,
            params,
          )
        )[0]?.n ?? 0,
      );

    Context.current().heartbeat('quality histograms');
    const bins = DEFAULT_SCORE_HISTOGRAM_BINS;
    const scoreRows = await queryRows<{ bin: number; events: string }>(
      clickhouse,
      `SELECT least(toUInt32(floor(prediction_score * {bins:UInt32})), {bins:UInt32} - 1) AS bin, count() AS events
       FROM scoring_events FINAL
       WHERE model_id = {model:String} AND ts >= fromUnixTimestamp64Milli({start:Int64}) AND ts < fromUnixTimestamp64Milli({end:Int64})
         AND prediction_score IS NOT NULL
       GROUP BY bin`,
      { ...params, bins },
    );
    // Labels join by event_id; the newest label of an event wins (labels is ReplacingMergeTree by label_ts).
    const labelled = await queryRows<{
      bin: number;
      positive: number;
      events: string;
      score_sum: number;
      score_sq: number;
      delay_p50: number | null;
    }>(
      clickhouse,
      `SELECT least(toUInt32(floor(e.prediction_score * {bins:UInt32})), {bins:UInt32} - 1) AS bin,
              l.label_numeric >= 0.5 AS positive,
              count() AS events, sum(e.prediction_score) AS score_sum, sum(e.prediction_score * e.prediction_score) AS score_sq,
              quantileTDigest(0.5)(dateDiff('second', e.ts, l.label_ts) / 3600.0) AS delay_p50
       FROM (SELECT event_id, prediction_score, ts FROM scoring_events FINAL
             WHERE model_id = {model:String} AND ts >= fromUnixTimestamp64Milli({start:Int64}) AND ts < fromUnixTimestamp64Milli({end:Int64})
               AND prediction_score IS NOT NULL) AS e
       INNER JOIN (SELECT event_id, label_numeric, label_ts FROM labels FINAL WHERE label_numeric IS NOT NULL) AS l USING (event_id)
       GROUP BY bin, positive`,
      { ...params, bins },
    );

    const scoreHistogram = new Array<number>(bins).fill(0);
    for (const r of scoreRows) scoreHistogram[Number(r.bin)] = Number(r.events);
    let labelledSummary: WindowObservation['labelled'] = null;
    if (labelled.length > 0) {
      const h = {
        positives: zeros(bins),
        negatives: zeros(bins),
        scoreSums: zeros(bins),
        scoreSquareSums: zeros(bins),
        positiveScoreSums: zeros(bins),
      };
      let events = 0;
      let delayWeighted = 0;
      for (const r of labelled) {
        const b = Number(r.bin);
        const n = Number(r.events);
        events += n;
        if (Number(r.positive) === 1) {
          h.positives[b] = n;
          h.positiveScoreSums[b] = Number(r.score_sum);
        } else h.negatives[b] = n;
        h.scoreSums[b] = (h.scoreSums[b] ?? 0) + Number(r.score_sum);
        h.scoreSquareSums[b] = (h.scoreSquareSums[b] ?? 0) + Number(r.score_sq);
        delayWeighted += n * Number(r.delay_p50 ?? 0);
      }
      labelledSummary = { events, histogram: h, labelDelayHoursP50: events > 0 ? delayWeighted / events : null };
    }

    return {
      start: input.start,
      end: input.end,
      events: versions.reduce((total, v) => total + Number(v.events), 0),
      versions: versions.map((v) => ({
        version: v.version,
        events: Number(v.events),
        trainedAt: trainedAt.get(v.version) ?? Number(v.first_seen),
      })),
      deadLettered,
      features: counts?.features ?? {},
      prediction: counts?.prediction ?? null,
      quality: counts?.quality ?? null,
      scoreHistogram: scoreRows.length > 0 ? scoreHistogram : null,
      labelled: labelledSummary,
    };
  }

  /** When each version was trained, from the registry when halflife trained it. */
  async function versionTrainedAt(modelId: string, versions: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (versions.length === 0) return out;
    const rows = await queryRows<{ version: string; created: string }>(
      clickhouse,
      'SELECT version, toUnixTimestamp64Milli(max(created_at)) AS created FROM model_versions FINAL WHERE model_id = {model:String} AND version IN {versions:Array(String)} GROUP BY version',
      { model: modelId, versions },
    );
    for (const r of rows) out.set(r.version, Number(r.created));
    return out;
  }

  /**
   * Build and store the reference of a model version: from a window of its traffic, or from the
   * training snapshot it was trained on. Also fits the label-free estimator when the reference
   * has enough labelled events.
   */
  async function buildReference(input: {
    modelId: string;
    modelVersion: string | null;
    window?: { start: number; end: number };
    lineageId?: string;
  }): Promise<MonitorReference | null> {
    let window = input.window;
    if (!window && input.lineageId) {
      const rows = await queryRows<{ start: string; end: string }>(
        clickhouse,
        `SELECT toUnixTimestamp64Milli(min(e.ts)) AS start, toUnixTimestamp64Milli(max(e.ts)) + 1 AS end
         FROM training_lineage AS t INNER JOIN scoring_events AS e ON e.event_id = t.event_id AND e.model_id = t.model_id
         WHERE t.snapshot_id = {snapshot:String}`,
        { snapshot: input.lineageId },
      );
      if (rows[0] && Number(rows[0].end) > Number(rows[0].start))
        window = { start: Number(rows[0].start), end: Number(rows[0].end) };
    }
    if (!window) return null;
    // From a training snapshot the reference is the training data, whichever version scored it
    // (so the prediction profile is the champion's scores on that data); from a window of live
    // traffic it is that version's own traffic.
    const fromTraining = !input.window;
    let profiles: Awaited<ReturnType<typeof buildReferenceProfiles>>;
    try {
      profiles = await buildReferenceProfiles(clickhouse, {
        modelId: input.modelId,
        modelVersion: fromTraining ? undefined : (input.modelVersion ?? undefined),
        start: window.start,
        end: window.end,
      });
    } catch (err) {
      if (err instanceof NotFoundError) {
        log.warn(
          { modelId: input.modelId, window },
          'no events to build a reference from; keeping the previous reference',
        );
        return null;
      }
      throw err;
    }
    const sample = await queryRows<{ score: number; label: number }>(
      clickhouse,
      `SELECT e.prediction_score AS score, if(l.label_numeric >= 0.5, 1, 0) AS label
       FROM (SELECT event_id, prediction_score FROM scoring_events FINAL
             WHERE model_id = {model:String} AND ts >= fromUnixTimestamp64Milli({start:Int64}) AND ts < fromUnixTimestamp64Milli({end:Int64})
               AND prediction_score IS NOT NULL) AS e
       INNER JOIN (SELECT event_id, label_numeric FROM labels FINAL WHERE label_numeric IS NOT NULL) AS l USING (event_id)
       ORDER BY cityHash64(event_id) LIMIT {limit:UInt32}`,
      { model: input.modelId, start: window.start, end: window.end, limit: MAX_CBPE_REFERENCE },
    );
    let cbpe: MonitorReference['cbpe'] = null;
    if (sample.length >= MIN_CBPE_REFERENCE) {
      try {
        cbpe = fitCbpe(
          sample.map((s) => Number(s.label)),
          sample.map((s) => Number(s.score)),
        );
      } catch (err) {
        log.warn({ modelId: input.modelId, err: (err as Error).message }, 'label-free estimator not fitted');
      }
    }
    return {
      referenceId: profiles.referenceId,
      modelVersion: input.modelVersion ?? '',
      features: profiles.features,
      prediction: profiles.prediction,
      cbpe,
    };
  }

  async function recordDecision(decision: DecisionRecord): Promise<{ stored: boolean }> {
    return storeDecision(clickhouse, decision);
  }

  return { collectWindow, buildReference, recordDecision };
}

export type MonitorActivities = ReturnType<typeof createMonitorActivities>;

function zeros(n: number): number[] {
  return new Array<number>(n).fill(0);
}
