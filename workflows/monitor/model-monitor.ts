/**
 * ModelMonitor(model): one long-lived workflow per model.
 *
 * Every cadence it asks ClickHouse (through an activity) for the window's aggregates, runs the
 * pure tick (detectors/monitor: drift, data quality, quality, change detection, decay fit,
 * policy) and records the decision — "no action" included — with its provenance. When the
 * policy says retrain, it starts a Retrain child (one at a time) and keeps monitoring while it
 * runs. Decisions are derived in workflow code from recorded activity results, so replaying the
 * history re-derives every one of them.
 *
 * This function only drives the windows and continues-as-new; the state and what changes it
 * are in state.ts, the messages it answers in handlers.ts.
 */
import { allHandlersFinished, condition, continueAsNew, patched, workflowInfo } from '@temporalio/workflow';
import { runHistoryBudget } from '../../detectors/monitor/schedule.ts';
import { DEFAULT_MONITOR_SETTINGS } from '../../detectors/monitor/types.ts';
import { registerMonitorHandlers } from './handlers.ts';
import type { ModelMonitorInput } from './input.ts';
import { MonitorWorkflowState } from './state.ts';
import { TurnScopes } from './turn-scopes.ts';

/** `patched` id of rule revision 2 of the decay fit and cost-aware trigger (see `MonitorSettings.ruleRevision`). */
const COST_AWARE_RULE_REVISION_2 = 'cost-aware-rule-revision-2';

/** `patched` id of revision 2 of the decision texts (see `MonitorSettings.textRevision`). */
const DECISION_TEXTS_REVISION_2 = 'decision-texts-revision-2';

/**
 * `patched` id of rule revision 3: data quality tells breakage from shift and the guard judges
 * the whole training window; the policy's window minimums; labels counted once arrived, late
 * ones filling in earlier windows, pooled until enough; a wait for labelled rows after a change.
 */
const DECISIONS_REVISION_3 = 'decisions-revision-3';

/** `patched` id of the paused monitor that waits for a message instead of polling. */
const PAUSED_MONITOR_WAITS = 'paused-monitor-waits';

/** `patched` id of windows shifted by a per-model offset within the cadence (detectors/monitor/schedule.ts). */
const STAGGERED_WINDOWS = 'staggered-windows';

/** `patched` id of several due windows evaluated as one coalesced window (detectors/monitor/schedule.ts). */
const COALESCE_LATE_WINDOWS = 'coalesce-late-windows';

/** `patched` id of bounded decay fits (see `MonitorSettings.boundedDecayFits`). */
const BOUNDED_DECAY_FITS = 'bounded-decay-fits';

/** `patched` id of alert rules: a run evaluates its policy's alert rules and starts AlertEpisode children. */
const ALERT_RULES = 'alert-rules';

/** `patched` id of the health rule that holds quality to the SLO or the attainable level (detectors/monitor/health.ts). */
const HEALTH_QUALITY_TARGET = 'health-quality-target';

/**
 * `patched` id of serving read with each window: the tick learns whether serving agrees with the
 * registry, for the `serving-disagreement` alert rule and the health rule's serving input.
 */
const SERVING_WITH_WINDOW = 'serving-with-window';

/** `patched` id of segments: the policy's segment keys counted with each window, judged in the tick, named in decisions. */
const SEGMENTS = 'segments';
/** `patched` id of estimation revision 2 (see `MonitorSettings.estimationRevision`). */
const ESTIMATION_REVISION_2 = 'estimation-revision-2';
/**
 * `patched` id of the multivariate drift tests: a window's read also samples rows and runs the tests
 * the policy's `multivariate` section enables, and they join the dataset drift verdict.
 */
const MULTIVARIATE_DRIFT = 'multivariate-drift';

/**
 * `patched` id of challenger probes (rule revision 4): when the cost-aware rule asks for a probe,
 * a challenger is trained on the training window (registered as a probe, never served) and scored
 * beside the champion on the following labelled windows; the paired gap is the rule's evidence.
 */
const CHALLENGER_PROBES = 'challenger-probes';

/**
 * `patched` id of rule revision 5: the step rule prices a step down for as long as the model's own
 * quality excursions last, when its window history shows they revert (detectors/economics/persistence.ts).
 */
const STEP_PERSISTENCE = 'step-persistence';

/**
 * `patched` id of the label-free estimate of multiclass and regression models: a window's read
 * also estimates their metrics (CBPE, DLE) with the estimator fitted on the reference.
 */
const KIND_ESTIMATION = 'kind-estimation';

/**
 * `patched` id of per-segment quality for multiclass and regression models: a window's read also
 * sums each segment's labelled outcomes (in the same query as the window's), so their segments
 * report realised quality and can breach the segment SLO.
 */
const SEGMENT_OUTCOMES = 'segment-outcomes';

/**
 * `patched` id of challenger probes of multiclass and regression models: a policy whose metric is
 * accuracy (multiclass), log loss, MAE, RMSE or R² gets probes, scored by `scoreOutcomeProbe` on
 * each event's loss in that metric (detectors/probes/outcome-gap.ts).
 */
const KIND_PROBES = 'kind-probes';

/**
 * `patched` id of per-segment label-free estimates for multiclass and regression models: a
 * window's estimate also estimates each segment (the same read: the calibrated sums grouped by
 * segment, each segment's own DLE sample), so their segments show where quality is heading
 * before labels arrive, as a binary model's do.
 */
const SEGMENT_ESTIMATES = 'segment-estimates';

/**
 * `patched` id of rule revision 6: a window short of the policy's minimum labels (its last labels
 * not yet arrived, or too few events) that has labels of its own is pooled with the windows before
 * it, so its decision uses realised quality rather than the estimate (detectors/monitor/label-pooling.ts).
 */
const POOLED_WITH_EARLIER = 'pooled-with-earlier-windows';

/**
 * `patched` id of telling a stuck value from a ceiling by the window's event order
 * (`MonitorSettings.stuckValueOrder`): a grown value whose repeats interleave with other values
 * (a runs test on the counts the window read returns) at a value the reference had is shift, so
 * it no longer blocks a retrain; repeats in stretches stay breakage.
 */
const STUCK_VALUE_ORDER = 'stuck-value-order';

/**
 * `patched` id of re-asking the policy in the model's metric: approve and forceRetrain re-evaluate
 * a multiclass or regression model's policy (or a binary one naming its metric) as its ticks do —
 * in the policy's metric, thresholds in quality units — not in accuracy with raw thresholds.
 */
const KIND_REEVALUATION = 'kind-reevaluation';

/**
 * `patched` id of per-segment quality pooled with the windows before it
 * (`MonitorSettings.segmentPooling`, rule revision 6): a segment short of its SLO's labelled
 * minimum is judged with the same segment's labels of the windows just before it.
 */
const SEGMENT_POOLED_QUALITY = 'segment-pooled-quality';

/**
 * `patched` id of rule revision 7: while the window history is too short to tell a step that lasts
 * from an excursion that reverts, the step rule prices a step for as long again as it has lasted,
 * not for the version's age (detectors/economics/staleness.ts `stepStaleness`).
 */
const UNMEASURED_STEP_PERSISTENCE = 'unmeasured-step-persistence';

/**
 * `patched` id of the late-label horizon (`MonitorSettings.lateLabelHorizon`): a tick asks late
 * labels only for windows young enough that labels can still arrive for them (the policy's
 * `evidence.lateLabelHorizon`, auto from the model's label delays), so its read no longer grows
 * with the kept windows; older windows are mature and count no late labels.
 */
const LATE_LABEL_HORIZON = 'late-label-horizon';

/**
 * `patched` id of rule revision 8: what a challenger probe measured counts beyond its verdict — an
 * inconclusive probe whose measured gap is below the gap a retrain needs holds the retrain
 * (detectors/probes/evidence.ts `estimateBelowWorthwhile`), a probe before a retrain needs at least
 * the gap at which the version's life pays for it, and the explore value is taken under the gap
 * prior updated by the version's standing probes (detectors/probes/gap-posterior.ts).
 */
const PROBE_GAP_EVIDENCE = 'probe-gap-evidence';

/**
 * `patched` id of bounded run histories: a run continues-as-new once its history passes
 * `maxRunHistoryBytes`, and upserts its search attributes only when they change. The worker keeps
 * every payload of a cached run until the run ends; at N = 1,000 monitors a 1-minute cadence grew
 * the daemon's native heap by ~16 kB a monitor a tick.
 */
const BOUNDED_RUN_HISTORY = 'bounded-run-history';

/** History bytes after which a run with {@link BOUNDED_RUN_HISTORY} continues-as-new (~15 ticks at fleet shape). */
const DEFAULT_MAX_RUN_HISTORY_BYTES = 256 * 1024;

/**
 * `patched` id of a segment's own stuck-value baseline (`MonitorSettings.segmentStuckValues`): the
 * reference's segment counts carry each segment's most frequent value per numeric feature, and a
 * window's read counts the most frequent value of each segment's candidates, so a feature stuck
 * inside one segment is that segment's breakage, judged against that segment's past.
 */
const SEGMENT_STUCK_VALUES = 'segment-stuck-values';

/**
 * `patched` id that stands for every marker above, all of them true. A run that records it records
 * no other of them: with the SDK's `TemporalChangeVersion` upsert for each marker (the list of
 * markers so far each time), 28 markers put ~20 kB of history at every run's start — and with
 * bounded runs a monitor starts a run every ~15 ticks. Runs recorded before it meet the individual
 * markers as they recorded them, so it is asked first. Markers after it are asked as usual. Its
 * runs also end at a history budget spread by run id (`runHistoryBudget`), not all at one tick.
 */
const MARKERS_OF_2026_12_06 = 'monitor-markers-2026-12-06';

/**
 * `patched` id of rule revision 9: an exploring probe is priced by what a probe of its size can
 * measure — the value of sample information (detectors/probes/sample-information.ts), not of
 * knowing the gap exactly. After {@link MARKERS_OF_2026_12_06}, so asked on its own.
 */
const EXPLORE_SAMPLE_INFORMATION = 'explore-sample-information';

/**
 * `patched` id of rule revision 10: a probe before a retrain of a version whose gap its probes already
 * measured is priced by what it can add (detectors/probes/before-retrain-information.ts). Asked after
 * {@link EXPLORE_SAMPLE_INFORMATION}, only by a monitor whose settings ask for revision 10.
 */
const BEFORE_RETRAIN_SAMPLE_INFORMATION = 'before-retrain-sample-information';

/**
 * `patched` id of the window read as a local activity: `collectWindow` runs inside the workflow task
 * that asks for it, on this worker, and is recorded as one marker — not scheduled on the server as an
 * activity (ActivityTaskScheduled/Started/Completed, a matching dispatch and one more workflow task a
 * tick, most of a tick's store commits at N = 1,000). Asked after every other marker.
 */
const WINDOW_READ_LOCAL_ACTIVITY = 'window-read-local-activity';

/**
 * `patched` id of the monitor's decision record as a local activity: `recordDecision` runs inside
 * the workflow task that decided, after the window read, so a tick (timer fired → read → decide →
 * record) is one workflow task with two markers — no activity scheduled, dispatched and completed
 * on the server and no workflow task for its result. A record can run again when its task does not
 * complete; the attempt that completes replaces an earlier one's row (recordDecisions). Asked after
 * {@link WINDOW_READ_LOCAL_ACTIVITY}.
 */
const DECISION_RECORD_LOCAL_ACTIVITY = 'decision-record-local-activity';

/**
 * `patched` id of revision 3 of the decision texts: a challenger probe the data-quality guard stops
 * is recorded as that guard's block before a retrain, or named when exploring
 * (detectors/texts/revision.ts). After every other marker, so asked on its own.
 */
const DECISION_TEXTS_REVISION_3 = 'decision-texts-revision-3';

/** Ticks before a run continues-as-new when Temporal has not suggested it yet. */
const DEFAULT_MAX_TICKS_PER_RUN = 500;

export async function ModelMonitor(input: ModelMonitorInput): Promise<void> {
  // One marker for a run started on this code; the individual markers for runs recorded before it.
  const markersOf20261206 = patched(MARKERS_OF_2026_12_06);
  const has = (marker: string): boolean => markersOf20261206 || patched(marker);
  // Rule revision 2 (2026-11-26) changes cost-aware decisions: runs recorded before it have no
  // marker and keep revision 1, so replaying their histories re-derives the same decisions.
  const ruleRevision2 = has(COST_AWARE_RULE_REVISION_2);
  // Runs recorded before alerts existed keep none, so replaying them issues no new commands.
  const alerting = has(ALERT_RULES);
  // Decision reasons are recorded and re-derived on replay: runs recorded before revision 2 of the
  // texts keep revision 1.
  const textRevision2 = has(DECISION_TEXTS_REVISION_2);
  // The health search attribute follows the rule with a quality target from this marker on;
  // histories recorded before it keep the first rule, so they replay with the same commands.
  const healthQualityTarget = has(HEALTH_QUALITY_TARGET);
  // Rule revision 3 likewise: runs recorded before it keep revision 2 (or 1). Asked after the
  // markers above, so the markers of histories recorded before or after the others come in the
  // order they were written.
  const ruleRevision3 = ruleRevision2 && has(DECISIONS_REVISION_3);
  // Runs recorded before these two keep epoch-aligned windows and evaluate late windows one by one.
  const staggered = has(STAGGERED_WINDOWS);
  const coalescing = has(COALESCE_LATE_WINDOWS);
  // Bounded decay fits change decisions: runs recorded before them keep the unbounded fit.
  const boundedDecayFits = has(BOUNDED_DECAY_FITS);
  // Runs recorded before it read no serving with their windows (the activity's input is unchanged).
  const servingWithWindow = has(SERVING_WITH_WINDOW);
  // Runs recorded before it count no segments (the activity's input is unchanged without them).
  const segments = has(SEGMENTS);
  // Runs recorded before it estimate accuracy only, from histogram bin centres at 0.5, without an interval.
  const estimationRevision2 = has(ESTIMATION_REVISION_2);
  // Runs recorded before it never ran the multivariate tests, so their drift verdicts replay unchanged.
  const multivariateDrift = has(MULTIVARIATE_DRIFT);
  // Runs recorded before it stay on rule revision 3 (no probes), so their decisions replay unchanged.
  const challengerProbes = ruleRevision3 && has(CHALLENGER_PROBES);
  // Runs recorded before it said a multiclass or regression window has no estimate, and replay so.
  const kindEstimation = has(KIND_ESTIMATION);
  // Runs recorded before it read no segment outcomes: their segments replay with drift and data quality only.
  const segmentOutcomes = has(SEGMENT_OUTCOMES);
  // Runs recorded before it stay on rule revision 4 (a step priced over the version's age). Asked
  // last, so histories recorded before it meet the markers they recorded in the order they did.
  const stepPersistence = challengerProbes && has(STEP_PERSISTENCE);
  // Runs recorded before it ran no probes of multiclass or regression models (and their decisions
  // saw none). Asked after the others, so older histories meet their markers in recorded order.
  const kindProbes = challengerProbes && has(KIND_PROBES);
  // Runs recorded before it estimated no segment of these kinds: their segments replay with realised
  // quality only. Asked after every other marker.
  const segmentEstimates = has(SEGMENT_ESTIMATES);
  // Runs recorded before it stay on rule revision 5 (a short window waits for the windows after
  // it, the estimate standing in), so their decisions replay unchanged. Asked after every other marker.
  const pooledWithEarlier = stepPersistence && has(POOLED_WITH_EARLIER);
  // Runs recorded before it judged a grown value without its event order (rule revision 4's
  // stuck-value check): they replay so. Asked after every other marker.
  const stuckValueOrder = challengerProbes && has(STUCK_VALUE_ORDER);
  // Runs recorded before it re-asked every policy in accuracy with raw thresholds, and replay so.
  const kindReevaluation = has(KIND_REEVALUATION);
  // Runs recorded before it judged each segment on its own window's labels alone, and replay so.
  const segmentPooling = pooledWithEarlier && has(SEGMENT_POOLED_QUALITY);
  // Runs recorded before it stay on rule revision 6 (a step priced over the version's age however
  // short the history), so their decisions replay unchanged.
  const unmeasuredStepPersistence = pooledWithEarlier && has(UNMEASURED_STEP_PERSISTENCE);
  // Runs recorded before it asked and counted late labels for every kept window, and replay so.
  const lateLabelHorizon = has(LATE_LABEL_HORIZON);
  // Runs recorded before it stay on rule revision 7 (a probe counts by its verdict alone),
  // so their decisions replay unchanged.
  const probeGapEvidence = unmeasuredStepPersistence && has(PROBE_GAP_EVIDENCE);
  // Runs recorded before it upsert search attributes at every call and run up to their tick limit,
  // and replay so.
  const boundedRunHistory = has(BOUNDED_RUN_HISTORY);
  // Runs recorded before it judged no segment's stuck value (no baseline per segment), and replay
  // so. Asked last.
  const segmentStuckValues = has(SEGMENT_STUCK_VALUES);
  // Runs recorded before it stay on rule revision 8 (an explore probe priced as if it measured the
  // gap exactly), so their decisions replay unchanged. Not in the consolidated marker: asked on its
  // own, after every other.
  // Asked only by a monitor whose settings ask for revision 9 (opt-in), so a default run records
  // one marker, not two; the settings are the run's input, so a replay asks the same.
  const exploreSampleInformation =
    probeGapEvidence &&
    (input.settings?.ruleRevision ?? DEFAULT_MONITOR_SETTINGS.ruleRevision) >= 9 &&
    patched(EXPLORE_SAMPLE_INFORMATION);
  // Runs recorded before it stay on rule revision 9 (a probe before a retrain priced by the chance
  // alone), so their decisions replay unchanged; asked after revision 9's, and only by a monitor that
  // asks for revision 10 (opt-in).
  const beforeRetrainSampleInformation =
    exploreSampleInformation &&
    (input.settings?.ruleRevision ?? DEFAULT_MONITOR_SETTINGS.ruleRevision) >= 10 &&
    patched(BEFORE_RETRAIN_SAMPLE_INFORMATION);
  // Runs recorded before it read each window through a regular activity, and replay so.
  const windowReadLocal = patched(WINDOW_READ_LOCAL_ACTIVITY);
  // Runs recorded before it recorded each decision through a regular activity, and replay so.
  const decisionRecordLocal = patched(DECISION_RECORD_LOCAL_ACTIVITY);
  // Runs recorded before it recorded "probe first" while broken data stopped the probe, and replay so.
  const textRevision3 = textRevision2 && patched(DECISION_TEXTS_REVISION_3);
  const monitor = new MonitorWorkflowState(input, {
    ruleRevision2,
    ruleRevision3,
    alerting,
    textRevision2,
    healthQualityTarget,
    staggered,
    coalescing,
    boundedDecayFits,
    servingWithWindow,
    segments,
    estimationRevision2,
    multivariateDrift,
    challengerProbes,
    kindEstimation,
    segmentOutcomes,
    stepPersistence,
    kindProbes,
    segmentEstimates,
    pooledWithEarlier,
    stuckValueOrder,
    kindReevaluation,
    segmentPooling,
    unmeasuredStepPersistence,
    lateLabelHorizon,
    probeGapEvidence,
    boundedRunHistory,
    segmentStuckValues,
    exploreSampleInformation,
    beforeRetrainSampleInformation,
    windowReadLocal,
    decisionRecordLocal,
    textRevision3,
  });
  // The SDK keeps the run's input until the run ends; what it carried is the monitor's now, and its
  // first tick replaces the state with a copy — the input's would be a second one kept for nothing.
  delete input.carried;
  registerMonitorHandlers(monitor);
  monitor.publishSearchAttributes();

  let ticksThisRun = 0;
  // Runs of the consolidated marker end at a budget spread by their run id, so a fleet started
  // together does not continue as new in one wave; runs recorded before it end at the budget.
  const maxRunHistoryBytes = input.maxRunHistoryBytes ?? DEFAULT_MAX_RUN_HISTORY_BYTES;
  const historyBudget = markersOf20261206
    ? runHistoryBudget(maxRunHistoryBytes, workflowInfo().runId)
    : maxRunHistoryBytes;
  // Each turn in a scope released when it ends, so a long run does not keep every tick (turn-scopes.ts).
  const turns = new TurnScopes();
  for (;;) {
    const evaluated = await turns.run(async () => {
      const dueAt = monitor.nextWindowDueAt;
      if (monitor.state.paused && Date.now() >= dueAt && has(PAUSED_MONITOR_WAITS)) {
        // A paused monitor past its due time waits for a message, not on a 1 ms timer per turn
        // (which filled its history with timers and kept the time-skipping server busy).
        await condition(() => monitor.wakeUp);
      } else {
        // Sleep until the window closes; a resume or a finished retrain wakes us early only to re-check.
        await condition(
          () => monitor.wakeUp || (!monitor.state.paused && Date.now() >= dueAt),
          Math.max(1, dueAt - Date.now()),
        );
      }
      monitor.wakeUp = false;
      if (monitor.state.paused || Date.now() < dueAt) return false;
      await monitor.evaluateNextWindow();
      return true;
    });
    if (!evaluated) continue;

    ticksThisRun += 1;
    const info = workflowInfo();
    const longEnough =
      info.continueAsNewSuggested ||
      ticksThisRun >= (input.maxTicksPerRun ?? DEFAULT_MAX_TICKS_PER_RUN) ||
      (boundedRunHistory && info.historySize >= historyBudget);
    // Never while a retrain child runs: its result would reach this run only, not the next.
    if (longEnough && !monitor.retrain) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof ModelMonitor>(monitor.nextRunInput());
    }
  }
}
