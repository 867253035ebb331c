import { fitDecay } from '../decay/fit.ts';
import { accumulatedStalenessCost } from '../economics/cumulative.ts';
import { evaluateRetrainEconomics } from '../economics/retrain-economics.ts';
import type { RetrainEconomics } from '../economics/types.ts';
import { HOUR_MS, durationHours, parseDuration } from './duration.ts';
import type { DecisionValue, PolicyState, WindowSummary } from './state.ts';
import type { CostAwareTrigger, DriftTrigger, PeriodicTrigger, PolicyTrigger, ThresholdTrigger } from './types.ts';

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
}

/** How many recent windows the observed-traffic estimate averages over. */
const TRAFFIC_WINDOWS = 6;

export function evaluateTrigger(trigger: PolicyTrigger, state: PolicyState, now: number): TriggerOutcome {
  switch (trigger.kind) {
    case 'cost-aware':
      return costAware(trigger, state, now);
    case 'threshold':
      return threshold(trigger, state);
    case 'periodic':
      return periodic(trigger, state, now);
    case 'drift-triggered':
      return drift(trigger, state);
    case 'manual':
      return { fired: false, reason: 'manual policy: retrains only when a person asks', thresholds: {}, inputs: {}, economics: null };
  }
}

/** Windows that belong wholly to the version in service (started at or after the last retrain). */
export function windowsSinceRetrain(state: PolicyState): WindowSummary[] {
  const since = state.lastRetrainAt ?? Number.NEGATIVE_INFINITY;
  return (state.windows ?? []).filter((w) => w.start >= since);
}

/** Count the trailing run of windows satisfying `hit`, among windows where `measured` holds. */
function trailingRun(windows: readonly WindowSummary[], measured: (w: WindowSummary) => boolean, hit: (w: WindowSummary) => boolean): number {
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
  const usable = (w: WindowSummary): boolean =>
    w.quality != null && (trigger.metric === 'quality' || w.quality.metric === trigger.metric) && (trigger.acceptEstimated || w.quality.source === 'realised');
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
    reason: latest === null
      ? `no ${trigger.acceptEstimated ? '' : 'realised '}${trigger.metric} measured since the last retrain`
      : `${trigger.metric} ${latest.value.toFixed(4)} (${latest.source}); ${run} consecutive window(s) ${worse} ${trigger.threshold}, need ${trigger.consecutiveWindows}`,
    thresholds: { metric: trigger.metric, direction: trigger.direction, threshold: trigger.threshold, consecutiveWindows: trigger.consecutiveWindows, acceptEstimated: trigger.acceptEstimated },
    inputs: { latestValue: latest?.value ?? null, latestSource: latest?.source ?? null, consecutiveBreaches: run },
    economics: null,
  };
}

function periodic(trigger: PeriodicTrigger, state: PolicyState, now: number): TriggerOutcome {
  const since = state.lastRetrainAt ?? state.versionTrainedAt ?? null;
  const everyMs = parseDuration(trigger.every);
  const thresholds = { every: trigger.every };
  if (since === null) return { fired: false, reason: 'version age unknown (no retrain or training time recorded)', thresholds, inputs: { ageHours: null }, economics: null };
  const age = now - since;
  const fired = age >= everyMs;
  return {
    fired,
    reason: `version is ${(age / HOUR_MS).toFixed(1)} h old; retrain every ${trigger.every}`,
    thresholds,
    inputs: { ageHours: age / HOUR_MS, dueAt: since + everyMs },
    economics: null,
  };
}

function drift(trigger: DriftTrigger, state: PolicyState): TriggerOutcome {
  const windows = windowsSinceRetrain(state);
  const drifted = (w: WindowSummary): boolean =>
    trigger.signal === 'dataset-drift' ? w.drift?.datasetDrift === true : (w.drift?.driftedShare ?? 0) >= trigger.share;
  const run = trailingRun(windows, (w) => w.drift != null, drifted);
  const latest = [...windows].reverse().find((w) => w.drift != null)?.drift ?? null;
  const what = trigger.signal === 'dataset-drift' ? 'dataset drift' : `≥ ${(trigger.share * 100).toFixed(0)}% of features drifted`;
  return {
    fired: run >= trigger.consecutiveWindows,
    reason: latest === null ? 'no drift evaluated since the last retrain' : `${what} in ${run} consecutive window(s), need ${trigger.consecutiveWindows}`,
    thresholds: { signal: trigger.signal, share: trigger.share, consecutiveWindows: trigger.consecutiveWindows },
    inputs: { consecutiveDriftedWindows: run, latestDatasetDrift: latest?.datasetDrift ?? null, latestDriftedShare: latest?.driftedShare ?? null },
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

function costAware(trigger: CostAwareTrigger, state: PolicyState, now: number): TriggerOutcome {
  const observed = observedTraffic(state);
  const eventsPerHour = trigger.traffic.kind === 'fixed' ? trigger.traffic.eventsPerHour : observed ?? trigger.traffic.fallbackPerHour;
  const fit = state.decay ?? fitDecay([]);
  const trainedAt = state.versionTrainedAt ?? state.lastRetrainAt ?? null;
  const nowAgeHours = trainedAt !== null ? Math.max(0, (now - trainedAt) / HOUR_MS) : fit.nowAgeHours;
  const freshQuality = state.freshQuality ?? fit.q0;
  const accumulated =
    freshQuality === null
      ? null
      : accumulatedStalenessCost(
          // All windows: the accumulation prorates a window that straddles the retrain.
          (state.windows ?? []).map((w) => ({ start: w.start, end: w.end, events: w.events, quality: w.quality?.value ?? null })),
          { freshQuality, valuePerQualityUnit: trigger.valuePerQualityUnit, sinceMs: state.lastRetrainAt ?? undefined, direction: fit.direction },
        );
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
    rule: trigger.rule,
  });
  return {
    fired: economics.shouldRetrain,
    reason: economics.reason,
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
      accumulatedStalenessCost: accumulated,
      netBenefit: economics.netBenefit,
    },
    economics,
  };
}
