import { fitDecay } from '../decay/fit.ts';
import { evaluateRetrainEconomics } from '../economics/retrain-economics.ts';
import {
  attainableQuality,
  cleanTrainingAt,
  cumulativeYardstick,
  localiseStep,
  netStalenessCost,
  startedBelowAttainable,
  stepStaleness,
  STEP_RULE_MIN_Z,
} from '../economics/staleness.ts';
import type { QualityWindow, VersionEarlyQuality } from '../economics/staleness.ts';
import { lossPersistence, PERSISTENCE_MIN_PAIRS } from '../economics/persistence.ts';
import type { RetrainEconomics, StepEvidence } from '../economics/types.ts';
import { probeEvidence, type ProbeEvidence } from '../probes/evidence.ts';
import { standingGapMeasurements } from '../probes/gap-posterior.ts';
import { resolveProbePolicy } from '../probes/policy.ts';
import type { ProbePlan, ProbePolicy } from '../probes/types.ts';
import { describeEconomics } from '../texts/economics-statement.ts';
import { formatDuration, formatDurationText, formatInstant } from '../texts/format.ts';
import { heldTriggerReason } from '../texts/decision-reason.ts';
import { planProbe } from './probe-trigger.ts';
import { LATEST_TEXT_REVISION } from '../texts/revision.ts';
import { HOUR_MS, durationHours, parseDuration } from './duration.ts';
import { resolveEvidence, type ResolvedEvidence } from './evidence.ts';
import { DEFAULT_RULE_REVISION, type DecisionValue, type PolicyState, type WindowSummary } from './state.ts';
import type {
  CostAwareTrigger,
  DriftTrigger,
  PeriodicTrigger,
  PolicyTrigger,
  ThresholdTrigger,
  TrainingWindowPolicy,
} from './types.ts';

/**
 * Trigger evaluation: does the policy's trigger want a retrain now? One function per kind;
 * guards are applied afterwards (see `evaluate.ts`).
 */

export interface TriggerOutcome {
  fired: boolean;
  reason: string;
  thresholds: Record<string, DecisionValue>;
  inputs: Record<string, DecisionValue>;
  economics: RetrainEconomics | null;
  /** Start of the quality step the trigger localised (cost-aware only): a change point for the training window. */
  stepChangeAt?: number | null;
  /** A challenger probe to start now (cost-aware, rule revision 4). @default undefined */
  probe?: ProbePlan | null;
}

/** How many recent windows the observed-traffic estimate averages over. */
const TRAFFIC_WINDOWS = 6;

/**
 * `trainingWindow` (optional, for the cost-aware trigger): how far back the next retrain would
 * train, so that it can wait for a window clean of a step change it has just seen.
 */
export function evaluateTrigger(
  trigger: PolicyTrigger,
  state: PolicyState,
  now: number,
  trainingWindow?: TrainingWindowPolicy,
  evidence: ResolvedEvidence = resolveEvidence(undefined, state.featureCount ?? null),
  probes?: Partial<ProbePolicy>,
): TriggerOutcome {
  switch (trigger.kind) {
    case 'cost-aware':
      return costAware(trigger, state, now, trainingWindow, probes);
    case 'threshold':
      return threshold(trigger, state);
    case 'periodic':
      return periodic(trigger, state, now);
    case 'drift-triggered':
      return drift(trigger, state, evidence);
    case 'manual':
      return {
        fired: false,
        reason: 'manual policy: retrains only when a person asks',
        thresholds: {},
        inputs: {},
        economics: null,
      };
  }
}

/** Windows that belong wholly to the version in service (started at or after the last retrain). */
export function windowsSinceRetrain(state: PolicyState): WindowSummary[] {
  const since = state.lastRetrainAt ?? Number.NEGATIVE_INFINITY;
  return (state.windows ?? []).filter((w) => w.start >= since);
}

/** A window as the staleness evidence reads it. */
function qualityWindow(w: WindowSummary): QualityWindow {
  return { start: w.start, end: w.end, events: w.events, quality: w.quality?.value ?? null };
}

/**
 * When the versions whose windows the state keeps began: recent retrains (their start, in the
 * monitor) and the version in service's deployment, so that its windows are exactly its own.
 */
function retrainTimesOf(state: PolicyState): number[] {
  const times = [...(state.recentRetrains ?? [])];
  if (state.lastRetrainAt != null) times.push(state.lastRetrainAt);
  return [...new Set(times)].sort((a, b) => a - b);
}

/** Count the trailing run of windows satisfying `hit`, among windows where `measured` holds. */
function trailingRun(
  windows: readonly WindowSummary[],
  measured: (w: WindowSummary) => boolean,
  hit: (w: WindowSummary) => boolean,
): number {
  let run = 0;
  for (let i = windows.length - 1; i >= 0; i--) {
    const w = windows[i] as WindowSummary;
    if (!measured(w)) continue; // a window without a measurement neither extends nor breaks the run
    if (!hit(w)) break;
    run++;
  }
  return run;
}

function threshold(trigger: ThresholdTrigger, state: PolicyState): TriggerOutcome {
  const windows = windowsSinceRetrain(state);
  const revision3 = (state.ruleRevision ?? DEFAULT_RULE_REVISION) >= 3;
  const usable = (w: WindowSummary): boolean =>
    w.quality != null &&
    // Revision 3: a broken window's quality measures broken data, which a retrain cannot fix.
    (!revision3 || w.dataQualityOk !== false) &&
    (trigger.metric === 'quality' || w.quality.metric === trigger.metric) &&
    (trigger.acceptEstimated || w.quality.source === 'realised');
  const breaches = (w: WindowSummary): boolean => {
    const v = w.quality?.value ?? Number.NaN;
    return trigger.direction === 'higher-is-better' ? v < trigger.threshold : v > trigger.threshold;
  };
  const run = trailingRun(windows, usable, breaches);
  const latest = [...windows].reverse().find(usable)?.quality ?? null;
  const fired = run >= trigger.consecutiveWindows;
  const worse = trigger.direction === 'higher-is-better' ? 'below' : 'above';
  return {
    fired,
    reason:
      latest === null
        ? `no ${trigger.acceptEstimated ? '' : 'realised '}${trigger.metric} measured since the last retrain`
        : `${trigger.metric} ${latest.value.toFixed(4)} (${latest.source}); ${run} consecutive window(s) ${worse} ${trigger.threshold}, need ${trigger.consecutiveWindows}`,
    thresholds: {
      metric: trigger.metric,
      direction: trigger.direction,
      threshold: trigger.threshold,
      consecutiveWindows: trigger.consecutiveWindows,
      acceptEstimated: trigger.acceptEstimated,
    },
    inputs: { latestValue: latest?.value ?? null, latestSource: latest?.source ?? null, consecutiveBreaches: run },
    economics: null,
  };
}

function periodic(trigger: PeriodicTrigger, state: PolicyState, now: number): TriggerOutcome {
  const since = state.lastRetrainAt ?? state.versionTrainedAt ?? null;
  const everyMs = parseDuration(trigger.every);
  const thresholds = { every: trigger.every };
  if (since === null)
    return {
      fired: false,
      reason: 'version age unknown (no retrain or training time recorded)',
      thresholds,
      inputs: { ageHours: null },
      economics: null,
    };
  const age = now - since;
  const fired = age >= everyMs;
  return {
    fired,
    reason:
      (state.textRevision ?? LATEST_TEXT_REVISION) >= 2
        ? `version is ${formatDuration(age)} old; retrain every ${formatDurationText(trigger.every)}${fired ? '' : ` (next at ${formatInstant(since + everyMs)})`}`
        : `version is ${(age / HOUR_MS).toFixed(1)} h old; retrain every ${trigger.every}`,
    thresholds,
    inputs: { ageHours: age / HOUR_MS, dueAt: since + everyMs },
    economics: null,
  };
}

function drift(trigger: DriftTrigger, state: PolicyState, evidence: ResolvedEvidence): TriggerOutcome {
  const windows = windowsSinceRetrain(state);
  const drifted = (w: WindowSummary): boolean =>
    trigger.signal === 'dataset-drift' ? w.drift?.datasetDrift === true : (w.drift?.driftedShare ?? 0) >= trigger.share;
  // Revision 3: a verdict on fewer rows than the policy's minimum is weak evidence; it neither extends nor breaks a run.
  const minRows = (state.ruleRevision ?? DEFAULT_RULE_REVISION) >= 3 ? evidence.minWindowRows : 0;
  const measured = (w: WindowSummary): boolean => w.drift != null && w.events >= minRows;
  const run = trailingRun(windows, measured, drifted);
  const latest = [...windows].reverse().find(measured)?.drift ?? null;
  const what =
    trigger.signal === 'dataset-drift' ? 'dataset drift' : `≥ ${(trigger.share * 100).toFixed(0)}% of features drifted`;
  return {
    fired: run >= trigger.consecutiveWindows,
    reason:
      latest === null
        ? 'no drift evaluated since the last retrain'
        : `${what} in ${run} consecutive window(s), need ${trigger.consecutiveWindows}${latest.multivariateTests?.length ? ` (multivariate: ${latest.multivariateTests.join(', ')})` : ''}`,
    thresholds: { signal: trigger.signal, share: trigger.share, consecutiveWindows: trigger.consecutiveWindows },
    inputs: {
      consecutiveDriftedWindows: run,
      latestDatasetDrift: latest?.datasetDrift ?? null,
      latestDriftedShare: latest?.driftedShare ?? null,
      ...(latest?.multivariateTests ? { latestMultivariateTests: latest.multivariateTests.join(', ') } : {}),
    },
    economics: null,
  };
}

/** Events per hour over the most recent windows of the version in service. */
export function observedTraffic(state: PolicyState): number | null {
  const recent = (state.windows ?? []).slice(-TRAFFIC_WINDOWS);
  const hours = recent.reduce((s, w) => s + Math.max(0, w.end - w.start), 0) / HOUR_MS;
  if (hours <= 0) return null;
  return recent.reduce((s, w) => s + w.events, 0) / hours;
}

/** Windows of the version's early life pooled for `startedBelowAttainable`. */
const EARLY_WINDOWS = 3;

/** Standard errors subtracted from the accumulated staleness cost before it is compared with the hurdle. */
const CUMULATIVE_EVIDENCE_Z = 1;

/** Early-life events behind the attainable median (those of the usable versions). */
function attainableEventsOf(recent: readonly VersionEarlyQuality[]): number {
  return recent.filter((v) => v.events >= 100).reduce((s, v) => s + v.events, 0);
}

/** Training-data span of the next retrain, when it is bounded. */
function trainingSpanMs(w: TrainingWindowPolicy | undefined): number | null {
  if (w === undefined) return null;
  if (w.kind === 'fixed') return parseDuration(w.duration);
  if (w.kind === 'since-change-point') return parseDuration(w.minimum);
  return null; // "all" is never clean of an old concept
}

function costAware(
  trigger: CostAwareTrigger,
  state: PolicyState,
  now: number,
  trainingWindow?: TrainingWindowPolicy,
  probePolicy?: Partial<ProbePolicy>,
): TriggerOutcome {
  const observed = observedTraffic(state);
  const eventsPerHour =
    trigger.traffic.kind === 'fixed' ? trigger.traffic.eventsPerHour : (observed ?? trigger.traffic.fallbackPerHour);
  const fit = state.decay ?? fitDecay([]);
  const direction = fit.direction;
  const trainedAt = state.versionTrainedAt ?? state.lastRetrainAt ?? null;
  const nowAgeHours = trainedAt !== null ? Math.max(0, (now - trainedAt) / HOUR_MS) : fit.nowAgeHours;
  const freshQuality = state.freshQuality ?? fit.q0;
  // Staleness is measured against what a fresh version attains (recent versions' early life),
  // not against the serving version's own validation quality (see economics/staleness.ts).
  // Revision 3: a broken window's quality measures the broken data, not the version's staleness.
  const revision3 = (state.ruleRevision ?? DEFAULT_RULE_REVISION) >= 3;
  const own: QualityWindow[] = windowsSinceRetrain(state)
    .filter((w) => !revision3 || w.dataQualityOk !== false)
    .map((w) => ({
      start: w.start,
      end: w.end,
      events: w.events,
      quality: w.quality?.value ?? null,
    }));
  const observedQualities = own.flatMap((w) => (w.quality === null ? [] : [w.quality]));
  // A fit's q0 extrapolated from a few points can be far outside anything observed: keep it within them.
  const fallbackFresh =
    state.freshQuality ??
    (fit.q0 === null || observedQualities.length === 0
      ? fit.q0
      : Math.min(Math.max(fit.q0, Math.min(...observedQualities)), Math.max(...observedQualities)));
  const measuredAttainable = attainableQuality(state.recentVersions ?? [], fallbackFresh, direction);
  // Rule revision 4: a challenger probe measures what a fresh model attains on the same events.
  const probes =
    (state.ruleRevision ?? DEFAULT_RULE_REVISION) >= 4 && state.probes !== undefined && direction === 'higher-is-better'
      ? resolveProbePolicy(probePolicy, trigger.retrainCost)
      : null;
  // A measured gap is evidence about the data it was measured on: it ages (probes/evidence.ts).
  const probed: ProbeEvidence | null = probes?.enabled
    ? probeEvidence(
        state.probes,
        now,
        { windows: state.windows ?? [], changePointAt: state.lastChangePointAt ?? null },
        // Rule revision 8: an inconclusive probe whose measured gap is below the worthwhile one holds.
        (state.ruleRevision ?? DEFAULT_RULE_REVISION) >= 8,
      )
    : null;
  const raised = probed?.raisedAttainable ?? null;
  const attainable =
    raised !== null && (measuredAttainable.value === null || raised > measuredAttainable.value)
      ? { value: raised, source: 'probe' as const, versions: measuredAttainable.versions }
      : measuredAttainable;
  const step = localiseStep(own, direction);
  // The version's early life: its first windows, only when the kept windows reach back to its start.
  const since = state.lastRetrainAt ?? null;
  const first = own[0];
  const seesStart = since !== null && first !== undefined && first.start - since < Math.max(1, first.end - first.start);
  const measured = seesStart ? own.filter((w) => w.quality !== null).slice(0, EARLY_WINDOWS) : [];
  const earlyEvents = measured.reduce((s, w) => s + w.events, 0);
  const early: VersionEarlyQuality | null =
    measured.length === EARLY_WINDOWS && earlyEvents > 0
      ? {
          version: 'current',
          quality: measured.reduce((s, w) => s + w.events * (w.quality as number), 0) / earlyEvents,
          events: earlyEvents,
        }
      : null;
  const belowAttainable = startedBelowAttainable(early, attainable.value, direction);
  let accumulated: number | null = null;
  let accumulatedEstimate: number | null = null;
  let accumulatedSd: number | null = null;
  let attainableSe: number | null = null;
  const revision = state.ruleRevision ?? DEFAULT_RULE_REVISION;
  const texts = state.textRevision ?? LATEST_TEXT_REVISION;
  const instant = (t: number): string => (texts >= 2 ? formatInstant(t) : new Date(t).toISOString());
  // Revision 2: with no step and no sign the version started low, what it attained when fresh is
  // the best evidence of what a fresh version attains now — the median of earlier versions may
  // come from easier concepts (see economics/staleness.ts, `cumulativeYardstick`).
  const yardstick =
    revision >= 2
      ? cumulativeYardstick(attainable.value, early, step !== null || belowAttainable || raised !== null, direction)
      : attainable.value;
  if (attainable.value !== null && yardstick !== null) {
    const net = (sinceMs?: number, until?: number) =>
      netStalenessCost(until === undefined ? own : own.filter((w) => w.start < until), {
        attainable: yardstick,
        valuePerQualityUnit: trigger.valuePerQualityUnit,
        sinceMs,
        direction,
      });
    // Signed, so noise averages out; credit earned before a step down does not offset the loss after it.
    const before = step === null ? 0 : net(undefined, step.at);
    const estimate = step === null ? net() : Math.max(0, before) + net(step.at);
    // Evidence, not a point estimate: subtract one standard error — the attainable level's own
    // error (it multiplies every event) and the windows' sampling noise — so that a slightly
    // optimistic attainable value or a run of unlucky windows does not add up to a retrain.
    const p = Math.min(0.99, Math.max(0.01, attainable.value));
    const counted = own.filter((w) => w.quality !== null && (step === null || before > 0 || w.start >= step.at));
    const events = counted.reduce((s, w) => s + w.events, 0);
    const attainableEvents =
      attainable.source === 'versions'
        ? attainableEventsOf(state.recentVersions ?? [])
        : attainable.source === 'probe'
          ? (probed?.latest?.events ?? 1)
          : EARLY_WINDOWS * (events / Math.max(1, counted.length));
    attainableSe = Math.sqrt((p * (1 - p)) / Math.max(1, attainableEvents)) * (attainable.versions > 1 ? 1.25 : 1);
    const windowVar = counted.reduce((s, w) => s + w.events * p * (1 - p), 0);
    accumulatedSd = trigger.valuePerQualityUnit * Math.sqrt((events * attainableSe) ** 2 + windowVar);
    accumulatedEstimate = estimate;
    accumulated = estimate - CUMULATIVE_EVIDENCE_Z * accumulatedSd;
  }
  const probeFinding =
    raised !== null && probed?.latest
      ? `a challenger trained on the latest training window beat it on the same ${probed.latest.events} events by ${(probed.latest.gap ?? 0).toFixed(3)} (95% interval ${(probed.latest.lower ?? 0).toFixed(3)} to ${(probed.latest.upper ?? 0).toFixed(3)})`
      : null;
  const blindSpot =
    probeFinding !== null
      ? probeFinding
      : step !== null
        ? `quality stepped down from ${step.before.toFixed(3)} to ${step.after.toFixed(3)} at ${instant(step.at)} (z ${step.z.toFixed(1)})`
        : belowAttainable && early !== null
          ? `the version started at ${early.quality.toFixed(3)}, below the attainable ${(attainable.value as number).toFixed(3)}`
          : null;
  // Rule revision 2: a step is priced for as long as it is expected to last (economics/staleness.ts).
  let stepEvidence: StepEvidence | null | undefined;
  // Revision 5: for as long as the model's own excursions last (economics/persistence.ts).
  const persistence =
    revision >= 5 && step !== null
      ? lossPersistence((state.windows ?? []).filter((w) => w.dataQualityOk !== false).map(qualityWindow), {
          retrainTimes: retrainTimesOf(state),
          currentStepAt: step.at,
          direction,
        })
      : null;
  if (revision >= 2) {
    const eventsAfter =
      step === null ? 0 : own.filter((w) => w.quality !== null && w.start >= step.at).reduce((s, w) => s + w.events, 0);
    stepEvidence =
      step === null || attainable.value === null || attainableSe === null || trainedAt === null
        ? null
        : stepStaleness(step, {
            attainable: attainable.value,
            attainableSe,
            eventsAfter,
            versionStart: trainedAt,
            now,
            eventsPerHour,
            valuePerQualityUnit: trigger.valuePerQualityUnit,
            direction,
            ...(persistence === null ? {} : { persistenceHours: persistence.hours }),
            // Revision 7: too little history to tell a lasting step from an excursion — the
            // version's age stands on nothing; priced for as long again as the step has lasted.
            ...(revision >= 7 && persistence?.basis === 'too-little-history'
              ? { unmeasuredPersistence: { pairs: persistence.pairs, minPairs: PERSISTENCE_MIN_PAIRS } }
              : {}),
            // Against a probe's gap, the loss is priced only for as long as the gap stands.
            ...(attainable.source === 'probe' && probed?.raisedUntil != null
              ? { maxExpectedHours: (probed.raisedUntil - now) / HOUR_MS }
              : {}),
          });
  }
  const economics = evaluateRetrainEconomics({
    fit,
    nowAgeHours,
    horizonHours: durationHours(trigger.horizon),
    eventsPerHour,
    valuePerQualityUnit: trigger.valuePerQualityUnit,
    retrainCost: trigger.retrainCost,
    deploymentRisk: trigger.deploymentRisk,
    quantile: trigger.quantile,
    freshQuality,
    accumulatedStalenessCost: accumulated,
    fitBlindSpot: blindSpot,
    rule: trigger.rule,
    ...(stepEvidence === undefined ? {} : { step: stepEvidence }),
    textRevision: texts,
    accumulation:
      accumulated === null || accumulatedEstimate === null || accumulatedSd === null
        ? null
        : { estimate: accumulatedEstimate, sd: accumulatedSd, lowerBound: accumulated, yardstick },
  });
  // Retraining now would train across the step just seen: wait until the training window is clean.
  const cleanAt =
    economics.shouldRetrain && step !== null ? cleanTrainingAt(step.at, trainingSpanMs(trainingWindow), now) : null;
  let fired = economics.shouldRetrain && cleanAt === null;
  let reason =
    cleanAt === null
      ? economics.reason
      : texts >= 2
        ? describeEconomics(economics, { cleanTrainingAt: cleanAt, stepAt: step?.at ?? null }).text
        : `wait for a clean training window: ${economics.reason}; but the training window still holds data from before the step at ${new Date((step as { at: number }).at).toISOString()}, clean from ${new Date(cleanAt).toISOString()}`;
  // Rule revision 4: probe first, hold after a probe that found no better model, or explore.
  const probing =
    probes !== null && probed !== null && probes.enabled
      ? planProbe({
          state,
          fired,
          policy: probes,
          evidence: probed,
          // Only a step the step rule would price lifts a hold: runs of noise reach the localiser's bar.
          stepAt: step !== null && step.z >= STEP_RULE_MIN_Z ? step.at : null,
          hurdle: trigger.retrainCost + trigger.deploymentRisk.probability * trigger.deploymentRisk.cost,
          valuePerQualityUnit: trigger.valuePerQualityUnit,
          eventsPerHour,
          nowAgeHours,
          yardstick,
          freshQuality: attainable.source === 'versions' ? null : fallbackFresh,
          attainableMeasured: measuredAttainable.source === 'versions',
          recentQuality: [...own].reverse().find((w) => w.quality !== null)?.quality ?? null,
          // Rule revision 8: the explore prior updated by what this version's probes measured.
          gapMeasurements:
            revision >= 8
              ? standingGapMeasurements(state.probes, {
                  windows: state.windows ?? [],
                  changePointAt: state.lastChangePointAt ?? null,
                })
              : null,
          // Rule revision 10: a probe before a retrain priced by what it adds to those measurements,
          // which a credible step after them also lapses (the gap before a step says little after it).
          beforeRetrainMeasurements:
            revision >= 10
              ? standingGapMeasurements(state.probes, {
                  windows: state.windows ?? [],
                  changePointAt:
                    step !== null && step.z >= STEP_RULE_MIN_Z
                      ? Math.max(step.at, state.lastChangePointAt ?? step.at)
                      : (state.lastChangePointAt ?? null),
                })
              : null,
        })
      : null;
  if (probeFinding !== null && !reason.includes(probeFinding)) reason = `${reason}; ${probeFinding}`;
  if (probing?.hold != null) {
    fired = false;
    reason = heldTriggerReason(probing.hold, reason);
  }
  if (probing?.note !== undefined) reason = `${reason}; ${probing.note}`;
  return {
    fired,
    stepChangeAt: step?.at ?? null,
    ...(probing === null ? {} : { probe: probing.plan }),
    reason,
    thresholds: {
      valuePerQualityUnit: trigger.valuePerQualityUnit,
      horizon: trigger.horizon,
      retrainCost: trigger.retrainCost,
      deploymentRiskProbability: trigger.deploymentRisk.probability,
      deploymentRiskCost: trigger.deploymentRisk.cost,
      quantile: trigger.quantile,
      rule: trigger.rule,
    },
    inputs: {
      eventsPerHour,
      trafficSource: trigger.traffic.kind === 'fixed' ? 'fixed' : observed === null ? 'fallback' : 'observed',
      nowAgeHours,
      freshQuality,
      decayModel: fit.model,
      halfLifeHours: fit.halfLifeHours,
      expectedStalenessCost: economics.expectedStalenessCost,
      avoidableStalenessCost: economics.avoidableStalenessCost,
      accumulatedStalenessCost: accumulatedEstimate,
      accumulatedStalenessLowerBound: accumulated,
      accumulatedStalenessSd: accumulatedSd,
      attainableQuality: attainable.value,
      ...(revision >= 2 ? { stalenessYardstick: yardstick } : {}),
      attainableSource: attainable.source,
      stepChangeAt: step?.at ?? null,
      stepZ: step?.z ?? null,
      startedBelowAttainable: belowAttainable,
      cleanTrainingAt: cleanAt,
      netBenefit: economics.netBenefit,
      ...(probing === null ? {} : probing.inputs),
      ...(stepEvidence === undefined
        ? {}
        : {
            ruleRevision: revision,
            stepValue: stepEvidence?.value ?? null,
            stepLossRate: stepEvidence?.lossRate ?? null,
            stepExpectedHours: stepEvidence?.expectedHours ?? null,
          }),
    },
    economics,
  };
}
