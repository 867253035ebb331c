/**
 * Side effects of the ModelMonitor workflow: window aggregates from ClickHouse, references,
 * and decision records. Every query aggregates in ClickHouse (bins, categories, histograms);
 * what comes back is O(features × bins), never rows.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { Context } from '@temporalio/activity';
import type { MonitorReference, WindowObservation } from '../detectors/monitor/types.ts';
import {
  labelledFromGroups,
  lateLabelledFromGroups,
  scoreHistogramFromBins,
} from '../detectors/monitor/window-histograms.ts';
import { fitCbpe } from '../detectors/quality/cbpe.ts';
import { DEFAULT_SCORE_HISTOGRAM_BINS } from '../detectors/quality/score-histogram.ts';
import { buildReference as buildReferenceProfiles } from '../operations/build-reference.ts';
import { windowCounts } from '../operations/window-drift.ts';
import { recordDecision as storeDecision, type DecisionRecord } from '../platform/clickhouse/decisions-repository.ts';
import { loadReference, type StoredReference } from '../platform/clickhouse/reference-repository.ts';
import {
  deadLettersInWindow,
  labelledScoreGroups,
  labelledScoreSample,
  lateLabelledScoreGroups,
  scoreBinCounts,
  snapshotEventWindow,
  versionsInWindow,
  versionsTrainedAt,
} from '../platform/clickhouse/window-repository.ts';
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
    /** Count only labels that arrived (label_ts) before this instant, the decision time. @default every stored label */
    labelsArrivedBy?: number | null;
    /** Also collect labels that arrived since `since` for events of earlier windows from `from` (cadence-aligned). @default none */
    lateLabels?: { since: number; from: number; cadenceMs: number } | null;
  }): Promise<WindowObservation> {
    const window = { start: input.start, end: input.end };
    const reference = input.referenceId ? await referenceById(input.referenceId) : null;
    Context.current().heartbeat('counting features');
    const counts = reference ? await windowCounts(clickhouse, { modelId: input.modelId, ...window, reference }) : null;

    const versions = await versionsInWindow(clickhouse, input.modelId, window);
    const trainedAt = await versionsTrainedAt(
      clickhouse,
      input.modelId,
      versions.map((v) => v.version),
    );
    // windowCounts already counted the window's dead letters; without a reference, count them here.
    const deadLettered = counts?.deadLettered ?? (await deadLettersInWindow(clickhouse, input.modelId, window));

    Context.current().heartbeat('quality histograms');
    const bins = DEFAULT_SCORE_HISTOGRAM_BINS;
    const scoreBins = await scoreBinCounts(clickhouse, input.modelId, window, bins);
    const arrivedBy = input.labelsArrivedBy ?? null;
    const labelled = await labelledScoreGroups(clickhouse, input.modelId, window, bins, arrivedBy);
    const late = input.lateLabels;
    const lateGroups =
      late && arrivedBy !== null && late.from < input.start && late.since < arrivedBy
        ? await lateLabelledScoreGroups(
            clickhouse,
            input.modelId,
            { start: late.from, end: input.start },
            { start: late.since, end: arrivedBy },
            late.cadenceMs,
            bins,
          )
        : null;

    return {
      start: input.start,
      end: input.end,
      events: versions.reduce((total, v) => total + v.events, 0),
      versions: versions.map((v) => ({
        version: v.version,
        events: v.events,
        trainedAt: trainedAt.get(v.version) ?? v.firstSeen,
      })),
      deadLettered,
      features: counts?.features ?? {},
      prediction: counts?.prediction ?? null,
      quality: counts?.quality ?? null,
      scoreHistogram: scoreHistogramFromBins(scoreBins, bins),
      labelled: labelledFromGroups(labelled, bins),
      ...(arrivedBy === null
        ? {}
        : {
            labelsArrivedBy: arrivedBy,
            lateLabelled: lateGroups === null ? null : lateLabelledFromGroups(lateGroups, bins),
            appeared: counts?.appeared ?? null,
          }),
    };
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
    if (!window && input.lineageId) window = (await snapshotEventWindow(clickhouse, input.lineageId)) ?? undefined;
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
    const sample = await labelledScoreSample(clickhouse, input.modelId, window, MAX_CBPE_REFERENCE);
    let cbpe: MonitorReference['cbpe'] = null;
    if (sample.length >= MIN_CBPE_REFERENCE) {
      try {
        cbpe = fitCbpe(
          sample.map((s) => s.label),
          sample.map((s) => s.score),
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
