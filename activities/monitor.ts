/**
 * Side effects of the ModelMonitor workflow: window aggregates from ClickHouse, references,
 * and decision records. Every query aggregates in ClickHouse (bins, categories, histograms);
 * what comes back is O(features × bins), never rows.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { Context } from '@temporalio/activity';
import type { ServingReport } from '../detectors/alerts/types.ts';
import type { MonitorReference, WindowObservation } from '../detectors/monitor/types.ts';
import {
  labelledFromGroups,
  lateLabelledFromGroups,
  scoreHistogramFromBins,
} from '../detectors/monitor/window-histograms.ts';
import { fitCbpe } from '../detectors/quality/cbpe.ts';
import { DEFAULT_SCORE_HISTOGRAM_BINS } from '../detectors/quality/score-histogram.ts';
import { buildReference as buildReferenceProfiles } from '../operations/build-reference.ts';
import type { DecisionRecord, RepeatableRecord } from '../platform/clickhouse/decisions-repository.ts';
import { DecisionBatcher } from './decision-batcher.ts';
import { loadReferences, type StoredReference } from '../platform/clickhouse/reference-repository.ts';
import { assertCountableReference } from '../detectors/drift/window-comparison.ts';
import { withQueryPriority } from '../platform/clickhouse/query-scheduler.ts';
import { WindowBatcher, type WindowBatcherOptions } from './window-batcher.ts';
import { readWindowAlone } from './window-read.ts';
import { modelKinds, type ModelKindDeclaration } from '../platform/clickhouse/model-kind-repository.ts';
import { lateOutcomeSums } from '../platform/clickhouse/outcome-sums-repository.ts';
import { labelledScoreSample, snapshotEventWindow } from '../platform/clickhouse/window-repository.ts';
import { NotFoundError } from '../platform/errors.ts';
import { ownLabelledScores } from '../platform/clickhouse/shadow-repository.ts';
import {
  planSegments,
  windowSegmentCounts,
  withoutStuckBaselines,
  type SegmentPlan,
} from '../operations/segment-counts.ts';
import { DEFAULT_SEGMENT_MIN_EVENTS, segmentPlanId, type SegmentPolicy } from '../detectors/segments/types.ts';
import type { EstimationQuery } from '../platform/clickhouse/estimation-repository.ts';
import { decisionThresholdOf } from '../platform/registry/decision-threshold.ts';
import { ClickHouseRegistryRepository } from '../platform/clickhouse/registry-repository.ts';
import type { Logger } from '../platform/logger.ts';
import type { HalflifeConfig } from '../platform/config.ts';
import { servingAlertReport, servingStatuses } from '../operations/serving-status.ts';
import { CoalescedLookup } from './coalesced-lookup.ts';
import { registeredReference } from '../operations/register-model.ts';
import { multivariateWindowDrift, type ReferenceSampleCache } from '../operations/multivariate-window.ts';
import type { MultivariateDriftSettings } from '../detectors/drift/multivariate/settings.ts';
import type { FollowUpBars } from '../detectors/drift/window-follow-ups.ts';
import {
  outcomeWindowEstimates,
  type OutcomeEstimatorCache,
  type SegmentOutcomeEstimate,
} from '../operations/outcome-estimate.ts';
import { unavailableOutcomeEstimate } from '../detectors/quality/outcome-estimate.ts';

export interface MonitorActivityDeps {
  clickhouse: ClickHouseClient;
  log: Logger;
  /** How long a routing change may take to reach serving before serving is said to disagree. */
  config: Pick<HalflifeConfig, 'serving'>;
  /** How window reads are batched across monitors (window-batcher.ts). @default WindowBatcher's defaults */
  batching?: Omit<WindowBatcherOptions, 'scoreBins'> & {
    /** A model whose last window held more events is read on its own. @default 20000 */
    maxBatchedEvents?: number;
  };
  /** The batcher to read windows through (its stats are the caller's to report). @default a new one with `batching` */
  batcher?: WindowBatcher;
  /** How decisions are recorded (decision-batcher.ts). @default a new DecisionBatcher, one per process */
  decisions?: DecisionBatcher;
}

/** A window batcher with the monitor's score-histogram bins. */
export function createWindowBatcher(
  clickhouse: ClickHouseClient,
  options: Omit<WindowBatcherOptions, 'scoreBins'> = {},
): WindowBatcher {
  return new WindowBatcher(clickhouse, { ...options, scoreBins: SCORE_BINS });
}

/** Events in a window above which a batch would hold too many values in memory (the batched query groups them). */
const DEFAULT_MAX_BATCHED_EVENTS = 20_000;
const SCORE_BINS = DEFAULT_SCORE_HISTOGRAM_BINS;

/** The windows of `cadenceMs` from `from` up to `until` (what a late-label request names without its windows). */
function cadenceWindows(from: number, until: number, cadenceMs: number): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (let start = from; start + cadenceMs <= until; start += cadenceMs) out.push({ start, end: start + cadenceMs });
  return out;
}

/** `windows` that end by `until`, ascending, each kept only when it starts after the previous one ends. */
function disjointBefore(windows: readonly { start: number; end: number }[], until: number) {
  const out: { start: number; end: number }[] = [];
  for (const w of [...windows].sort((a, b) => a.start - b.start))
    if (w.start < w.end && w.end <= until && (out.length === 0 || w.start >= out[out.length - 1]!.end)) out.push(w);
  return out;
}

/** Labelled events needed to fit the label-free estimator on a reference. */
const MIN_CBPE_REFERENCE = 500;
/** How long a model's kind read from the registry is used before it is read again (ms). */
const KIND_MAX_AGE_MS = 60_000;
/** The kind of a model that declared none. */
const BINARY: ModelKindDeclaration = { kind: 'binary' };

/** Cap on labelled reference events pulled for CBPE fitting (scores and labels only). */
const MAX_CBPE_REFERENCE = 50_000;

/** What the monitor keeps of a stored reference. */
function monitorReference(
  profiles: StoredReference,
  modelVersion: string,
  cbpe: MonitorReference['cbpe'],
): MonitorReference {
  return {
    referenceId: profiles.referenceId,
    modelVersion,
    features: profiles.features,
    prediction: profiles.prediction,
    cbpe,
  };
}

/** A window's aggregates and, when asked for, serving against the registry at the time it was read. */
export type WindowObservationWithServing = WindowObservation & {
  /** Null when serving could not be read (the window is evaluated anyway). */
  serving?: ServingReport | null;
};

/**
 * Tells the server the read is alive (the regular read's 2-minute heartbeat timeout). A local
 * activity — the window read of runs with `window-read-local-activity` — has no server-side task to
 * heartbeat: the SDK documents its heartbeat as having no effect, yet the worker still encodes the
 * details and passes them to its core, which knows no activity by a local one's task token and logs
 * a warning. Not sent, then; the read itself goes on either way.
 */
function heartbeat(what: string): void {
  const context = Context.current();
  if (!context.info.isLocal) context.heartbeat(what);
}

export function createMonitorActivities({
  clickhouse,
  log,
  config,
  batching = {},
  batcher: shared,
  decisions = new DecisionBatcher(clickhouse),
}: MonitorActivityDeps) {
  const registry = new ClickHouseRegistryRepository(clickhouse);
  const batcher = shared ?? new WindowBatcher(clickhouse, { ...batching, scoreBins: SCORE_BINS });
  const maxBatchedEvents = batching.maxBatchedEvents ?? DEFAULT_MAX_BATCHED_EVENTS;
  /** Events of each model's last window read by this process: what routes its next one. */
  const lastWindowEvents = new Map<string, number>();
  // A reference never changes once stored (its id is derived from its inputs): read each once.
  const references = new Map<string, Promise<StoredReference>>();
  // A fleet's monitors start together: their references (and, registered, their versions) are read
  // for all of them at once, as their windows are, not one query each (BENCHMARKS.md "Run R").
  const referenceLookup = new CoalescedLookup((ids) =>
    withQueryPriority('background', () => loadReferences(clickhouse, ids)),
  );
  const versionLookup = new CoalescedLookup(async (keys) => {
    const wanted = keys.map((key) => {
      const [modelId = '', version = ''] = key.split('\u0000');
      return { modelId, version };
    });
    const found = await withQueryPriority('background', () => registry.getVersions(wanted));
    return new Map(found.map((v) => [`${v.modelId}\u0000${v.version}`, v]));
  });
  const referenceById = (id: string): Promise<StoredReference> => {
    let cached = references.get(id);
    if (!cached) {
      cached = referenceLookup.get(id).then((found) => {
        if (!found) throw new NotFoundError(`reference ${id} not found`);
        return found;
      });
      cached.catch(() => references.delete(id));
      references.set(id, cached);
    }
    return cached;
  };

  // A reference's segments (top K per key, counted per segment) are planned once per reference and policy.
  const segmentPlans = new Map<string, Promise<SegmentPlan>>();
  const segmentPlanOf = (reference: StoredReference, policy: SegmentPolicy): Promise<SegmentPlan> => {
    const id = segmentPlanId(reference.referenceId, policy);
    let cached = segmentPlans.get(id);
    if (!cached) {
      cached = withQueryPriority('background', () => planSegments(clickhouse, reference, policy));
      cached.catch(() => segmentPlans.delete(id));
      segmentPlans.set(id, cached);
    }
    return cached;
  };
  const referenceSamples: ReferenceSampleCache = new Map();
  // Multiclass and regression estimators, fitted once per reference (operations/outcome-estimate.ts).
  const outcomeEstimators: OutcomeEstimatorCache = new Map();

  // The per-model reads beside a window (its kind, serving) are read for every monitor asking at
  // once, in the background like the window itself: one query set per group, not one per model.
  // Every declared kind is one small table's rows.
  const kindLookup = new CoalescedLookup(() => withQueryPriority('background', () => modelKinds(clickhouse)));
  const servingLookup = new CoalescedLookup((models) =>
    withQueryPriority('background', () => servingStatuses(clickhouse, config, models)),
  );

  // A model's kind (registry) is re-read at most once a minute: a re-registration applies from then.
  const kinds = new Map<string, { at: number; kind: Promise<ModelKindDeclaration> }>();
  const kindOf = (modelId: string): Promise<ModelKindDeclaration> => {
    const now = Date.now();
    const cached = kinds.get(modelId);
    if (cached && now - cached.at < KIND_MAX_AGE_MS) return cached.kind;
    const kind = kindLookup.get(modelId).then((k) => k ?? BINARY);
    kind.catch(() => kinds.delete(modelId));
    kinds.set(modelId, { at: now, kind });
    return kind;
  };

  /** The window's aggregates: per-feature counts over the reference bins, versions, quality histograms. */
  async function collectWindow(input: {
    modelId: string;
    start: number;
    end: number;
    referenceId: string | null;
    /** Count only labels that arrived (label_ts) before this instant, the decision time. @default every stored label */
    labelsArrivedBy?: number | null;
    /**
     * Also collect labels that arrived since `since` for events of earlier windows: `windows`
     * (the monitor's own bounds, staggered or coalesced), or without them the windows of
     * `cadenceMs` from `from` up to this window. @default none
     */
    lateLabels?: { since: number; from: number; cadenceMs: number; windows?: { start: number; end: number }[] } | null;
    /** Also say whether serving agrees with the registry (for the alert and health rules). @default false */
    serving?: boolean;
    /**
     * Also count the policy's segments with the window; `planKnown` is the segment plan whose
     * reference counts the monitor already holds (they are returned only for another plan);
     * `outcomes`: a multiclass or regression model's labelled outcomes are summed per segment
     * too (ignored for binary models, whose segments carry their labelled score groups);
     * `estimates`: with `outcomeEstimate`, a multiclass or regression model's segments are
     * estimated label-free too, in the window estimate's read (ignored for binary models, whose
     * segments are estimated from their score groups); `stuckValues`: the reference's segment counts
     * carry each segment's stuck-value baseline, and each segment's candidates have their most
     * frequent value counted with the window's. @default none
     */
    segments?: {
      policy: SegmentPolicy;
      planKnown: string | null;
      outcomes?: boolean;
      estimates?: boolean;
      stuckValues?: boolean;
    } | null;
    /** Also group the window's scores for label-free estimation, as the reference's estimator asks. @default null */
    estimation?: EstimationQuery | null;
    /** Also run the multivariate drift tests on a sample of the window and of the reference. @default null (not run) */
    multivariate?: MultivariateDriftSettings | null;
    /**
     * Also estimate a multiclass or regression window's metrics label-free, with the estimator
     * fitted on the reference's events of `version` ('' for all). @default null (not estimated)
     */
    outcomeEstimate?: { version: string } | null;
    /** The bars the window's follow-ups are settled at (the policy's `dataQuality`). @default DEFAULT_FOLLOW_UP_BARS */
    followUps?: FollowUpBars | null;
  }): Promise<WindowObservationWithServing> {
    const window = { start: input.start, end: input.end };
    // Read beside the window: a few small queries on the registry and the serving reports.
    const serving = input.serving ? readServing(input.modelId) : null;
    const reference = input.referenceId ? await referenceById(input.referenceId) : null;
    if (reference) assertCountableReference(reference);
    heartbeat('reading the window');
    const arrivedBy = input.labelsArrivedBy ?? null;
    const plan = reference && input.segments ? await segmentPlanOf(reference, input.segments.policy) : null;
    // A multiclass or regression model's labelled outcomes are summed for its metrics; a binary model's observation is unchanged.
    const kind = await kindOf(input.modelId);
    const outcomes = kind.kind === 'binary' ? null : kind;
    // Labels that arrived since the last decision for events of earlier windows: another time
    // range than the window's. A binary model's are read with the window (in its batch); a
    // multiclass or regression model's are summed for its metrics, for this model alone.
    const late = input.lateLabels;
    const lateWindows = late
      ? disjointBefore(late.windows ?? cadenceWindows(late.from, input.start, late.cadenceMs), input.start)
      : [];
    const lateDue =
      late !== undefined && late !== null && arrivedBy !== null && lateWindows.length > 0 && late.since < arrivedBy;
    const request = {
      ...(outcomes ? { outcomes } : {}),
      modelId: input.modelId,
      ...window,
      reference,
      labelsArrivedBy: arrivedBy,
      ...(plan ? { segments: plan.toCount } : {}),
      ...(plan && outcomes && input.segments?.outcomes ? { outcomesBySegment: true } : {}),
      ...(plan && input.segments?.stuckValues
        ? {
            segmentStuckValues: {
              reference: plan.reference,
              minEvents: input.segments.policy.minEvents ?? DEFAULT_SEGMENT_MIN_EVENTS,
            },
          }
        : {}),
      ...(input.estimation ? { estimation: input.estimation } : {}),
      ...(input.followUps ? { followUps: input.followUps } : {}),
      ...(lateDue && !outcomes
        ? { lateLabels: { windows: lateWindows, arrived: { start: late.since, end: arrivedBy } } }
        : {}),
    };
    // Windows of a model whose last window was large are counted on their own, with the query
    // that spells out each cut (fastest per row); the rest, segments and estimation groups
    // included, are read in batches with other monitors'.
    const read =
      (lastWindowEvents.get(input.modelId) ?? 0) > maxBatchedEvents
        ? await withQueryPriority('background', () => readWindowAlone(clickhouse, request, SCORE_BINS))
        : await batcher.read(request);
    const { versions, trainedAt, counts } = read;
    const events = versions.reduce((total, v) => total + v.events, 0);
    lastWindowEvents.set(input.modelId, events);

    const lateOutcomes =
      lateDue && outcomes
        ? await withQueryPriority('background', () =>
            lateOutcomeSums(clickhouse, input.modelId, outcomes, lateWindows, { start: late.since, end: arrivedBy }),
          )
        : null;
    const lateGroups = read.lateLabelled ?? null;

    // A sample of rows of the window and (once per process) of the reference, tested in this process.
    let multivariate: WindowObservation['multivariate'] = null;
    if (input.multivariate?.enabled && reference) {
      heartbeat('multivariate drift');
      const settings = input.multivariate;
      multivariate = await withQueryPriority('background', () =>
        multivariateWindowDrift(
          clickhouse,
          { reference, window: { modelId: input.modelId, ...window }, settings },
          referenceSamples,
        ),
      );
    }

    // A multiclass or regression window's label-free estimate: a few numbers, never the estimator or rows.
    // Its segments' (when asked) come from the same read: the sums grouped by segment, or each segment's sample.
    let outcomeEstimate: WindowObservation['outcomeEstimate'] = null;
    let segmentEstimates: SegmentOutcomeEstimate[] | undefined;
    if (input.outcomeEstimate && outcomes && reference) {
      heartbeat('label-free estimate');
      const request = {
        reference,
        version: input.outcomeEstimate.version,
        kind: outcomes,
        window: { modelId: input.modelId, ...window },
        windowEvents: events,
      };
      const bySegment =
        plan && input.segments?.estimates
          ? {
              toCount: plan.toCount,
              events: (read.segments?.counted ?? []).map((s) => ({
                key: s.key,
                value: s.value,
                events: s.counted.rows,
              })),
            }
          : null;
      const estimates = await withQueryPriority('background', () =>
        outcomeWindowEstimates(clickhouse, request, outcomeEstimators, {}, bySegment),
      ).catch((err: unknown) => {
        // The estimator refusing its data is not a passing fault: the window is evaluated without it.
        if (!(err instanceof RangeError)) throw err;
        log.warn({ modelId: input.modelId, err: err.message }, 'label-free estimate not made');
        const reasons = [`no label-free estimate: ${err.message}`];
        return {
          whole: unavailableOutcomeEstimate(outcomes.kind, events, reasons),
          segments: (bySegment?.events ?? []).map((s) => ({
            key: s.key,
            value: s.value,
            estimate: unavailableOutcomeEstimate(outcomes.kind, s.events, reasons),
          })),
        };
      });
      outcomeEstimate = estimates.whole;
      if (bySegment) segmentEstimates = estimates.segments;
    }

    return {
      ...(outcomes ? { outcomes: read.outcomes ?? null } : {}),
      ...(input.outcomeEstimate && outcomes ? { outcomeEstimate } : {}),
      ...(serving ? { serving: await serving } : {}),
      ...(input.estimation && read.estimation
        ? {
            estimationGroups: {
              grouping: {
                steps: input.estimation.steps,
                threshold: input.estimation.threshold,
                bins: input.estimation.bins,
              },
              ...read.estimation,
            },
          }
        : {}),
      ...(input.multivariate?.enabled ? { multivariate } : {}),
      start: input.start,
      end: input.end,
      events,
      versions: versions.map((v) => ({
        version: v.version,
        events: v.events,
        trainedAt: trainedAt.get(v.version) ?? v.firstSeen,
      })),
      deadLettered: read.deadLettered,
      features: counts?.features ?? {},
      prediction: counts?.prediction ?? null,
      quality: counts?.quality ?? null,
      scoreHistogram: scoreHistogramFromBins(read.scoreBins, SCORE_BINS),
      labelled: labelledFromGroups(read.labelled, SCORE_BINS),
      ...(plan && input.segments
        ? {
            segments: {
              planId: plan.reference.id,
              reference:
                input.segments.planKnown === plan.reference.id
                  ? null
                  : input.segments.stuckValues
                    ? plan.reference
                    : withoutStuckBaselines(plan.reference),
              window: windowSegmentCounts(
                plan.toCount,
                read.segments?.counted ?? [],
                read.segments?.labelled ?? [],
                SCORE_BINS,
                read.segments?.estimation,
                read.segments?.outcomes,
                segmentEstimates,
                read.segments?.topValues,
              ),
            },
          }
        : {}),
      ...(arrivedBy === null
        ? {}
        : {
            labelsArrivedBy: arrivedBy,
            lateLabelled: lateGroups === null ? null : lateLabelledFromGroups(lateGroups, SCORE_BINS),
            ...(outcomes ? { lateOutcomes } : {}),
            appeared: counts?.appeared ?? null,
          }),
    };
  }

  /** Serving against the registry now; null (logged) when it cannot be read, so the window is still evaluated. */
  async function readServing(modelId: string): Promise<ServingReport | null> {
    try {
      const status = await servingLookup.get(modelId);
      if (!status) throw new Error(`no serving status was read for ${modelId}`);
      return servingAlertReport(status);
    } catch (err) {
      log.warn({ modelId, err: (err as Error).message }, 'serving not read with the window');
      return null;
    }
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
    // A version registered with its reference (operations/register-model.ts) is compared with that.
    if (input.window && input.modelVersion) {
      // Read with the other monitors' starting at once, and kept in the cache the window reads use.
      const registered = await registeredReference(
        {
          version: async (modelId, version) => (await versionLookup.get(`${modelId}\u0000${version}`)) ?? null,
          reference: referenceById,
        },
        input.modelId,
        input.modelVersion,
      ).catch((err: unknown) => {
        if (err instanceof NotFoundError) return null;
        throw err;
      });
      if (registered) return monitorReference(registered, input.modelVersion, null);
    }
    let window = input.window;
    if (!window && input.lineageId) window = (await snapshotEventWindow(clickhouse, input.lineageId)) ?? undefined;
    if (!window) return null;
    // From a training snapshot the features are the training data, but its events carry the scores
    // of the version that served them: the new version's prediction profile and its label-free
    // estimator come from its own scores on labelled events (its shadow evaluation), or are absent.
    // From a window of live traffic the reference is that version's own traffic.
    const fromTraining = !input.window;
    const ownScores =
      fromTraining && input.modelVersion
        ? await ownLabelledScores(clickhouse, input.modelId, input.modelVersion, MAX_CBPE_REFERENCE)
        : null;
    let profiles: Awaited<ReturnType<typeof buildReferenceProfiles>>;
    try {
      profiles = await buildReferenceProfiles(clickhouse, {
        modelId: input.modelId,
        modelVersion: fromTraining ? undefined : (input.modelVersion ?? undefined),
        start: window.start,
        end: window.end,
        ...(ownScores ? { predictionScores: ownScores.map((s) => s.score) } : {}),
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
    const sample = ownScores ?? (await labelledScoreSample(clickhouse, input.modelId, window, MAX_CBPE_REFERENCE));
    // Accuracy is estimated at the version's own decision threshold (0.5 when it records none).
    const threshold = decisionThresholdOf(
      input.modelVersion ? await registry.getVersion(input.modelId, input.modelVersion) : null,
    );
    let cbpe: MonitorReference['cbpe'] = null;
    if (sample.length >= MIN_CBPE_REFERENCE) {
      try {
        cbpe = fitCbpe(
          sample.map((s) => s.label),
          sample.map((s) => s.score),
          { threshold: threshold.value },
        );
      } catch (err) {
        log.warn({ modelId: input.modelId, err: (err as Error).message }, 'label-free estimator not fitted');
      }
    }
    return { ...monitorReference(profiles, input.modelVersion ?? '', cbpe), decisionThreshold: threshold };
  }

  /**
   * Store a decision once. `repeatable`: the record is a local activity's (the monitor's, runs with
   * `decision-record-local-activity`), run again if its workflow task does not complete; the
   * attempt that runs last replaces an earlier one's row (recordDecisions).
   */
  async function recordDecision(decision: DecisionRecord, repeatable?: RepeatableRecord): Promise<{ stored: boolean }> {
    return decisions.record(decision, repeatable);
  }

  return { collectWindow, buildReference, recordDecision };
}

export type MonitorActivities = ReturnType<typeof createMonitorActivities>;
