/**
 * The cost-aware trigger's use of challenger probes (rule revision 4): after the economics have
 * spoken, hold a retrain while a probe runs or after one found no better model, and decide
 * whether to start a probe — before a retrain, or to explore — by the value of what it would
 * tell (detectors/probes/schedule.ts; from rule revision 10, a probe before a retrain of a version
 * whose gap is already measured: probes/before-retrain-information.ts). Pure.
 */
import { chanceRetrainDoesNotHelp, type ProbeEvidence } from '../probes/evidence.ts';
import type { ResolvedProbePolicy } from '../probes/policy.ts';
import { gapPosterior, type GapMeasurement } from '../probes/gap-posterior.ts';
import { beforeRetrainValue, probeWindowsNeeded } from '../probes/schedule.ts';
import { plannedProbeSample, sampleExploreValue } from '../probes/sample-information.ts';
import { beforeRetrainSampleValue } from '../probes/before-retrain-information.ts';
import type { ProbePlan } from '../probes/types.ts';
import { formatInstant } from '../texts/format.ts';
import { HOUR_MS } from './duration.ts';
import { DEFAULT_RULE_REVISION, type DecisionValue, type PolicyState } from './state.ts';

export interface ProbeTriggerInput {
  state: PolicyState;
  /** Whether the economics (and the clean-window wait) say retrain now. */
  fired: boolean;
  policy: ResolvedProbePolicy;
  evidence: ProbeEvidence;
  /** Onset of a step the trigger localised, when it is credible enough to price (the step rule's bar), else null. */
  stepAt: number | null;
  /** Retrain + deployment risk. */
  hurdle: number;
  valuePerQualityUnit: number;
  eventsPerHour: number;
  nowAgeHours: number;
  /** What the staleness is priced against, and the latest window's quality. */
  yardstick: number | null;
  recentQuality: number | null;
  /** The version's own fresh quality when no measured version backs the attainable level, else null. */
  freshQuality: number | null;
  /** Whether the attainable level is the early-life quality of fresh versions measured in service. */
  attainableMeasured: boolean;
  /**
   * What this version's standing probes measured of the gap (rule revision 8): the explore value
   * is then taken under the prior updated by them (probes/gap-posterior.ts). @default null (the prior alone)
   */
  gapMeasurements?: readonly GapMeasurement[] | null;
  /**
   * Rule revision 10: this version's standing measurements of the gap as a probe before a retrain
   * sees them — as `gapMeasurements`, and lapsed too by a credible step after them. With any, the
   * probe is priced by what it can add to them (probes/before-retrain-information.ts). @default null
   */
  beforeRetrainMeasurements?: readonly GapMeasurement[] | null;
}

export interface ProbeTriggerOutcome {
  /** Why a firing trigger is held (prefixed to its reason), or null. */
  hold: string | null;
  /** Rule revision 10: why a firing trigger retrains without the probe revision 8 would buy first (added to its reason). @default undefined */
  note?: string;
  plan: ProbePlan | null;
  inputs: Record<string, DecisionValue>;
}

export function planProbe(input: ProbeTriggerInput): ProbeTriggerOutcome {
  const { state, policy, evidence } = input;
  const view = state.probes;
  const latest = evidence.latest;
  const inputs: Record<string, DecisionValue> = {
    probeCost: policy.probeCost,
    probeVerdict: latest?.verdict ?? null,
    probeGap: latest?.gap ?? null,
    probeGapLower: latest?.lower ?? null,
    probeGapUpper: latest?.upper ?? null,
    probeEvents: latest?.events ?? null,
    probeId: latest?.id ?? null,
    probeHeldUntil: null,
    probeInFlight: view?.inFlight?.id ?? null,
    probeGapStandsUntil: evidence.raisedUntil ?? null,
  };
  const out = (hold: string | null, plan: ProbePlan | null): ProbeTriggerOutcome => ({
    hold,
    plan,
    inputs: { ...inputs, probePlanned: plan?.kind ?? null, probeValue: plan?.value ?? null },
  });
  if (view?.inFlight) {
    return out(
      input.fired ? `waiting for the challenger probe started ${formatInstant(view.inFlight.startedAt)}` : null,
      null,
    );
  }
  // A credible step after the probe is new evidence: the hold and the back-off no longer apply.
  const newer = latest !== null && input.stepAt !== null && input.stepAt >= latest.completedAt;
  if (evidence.heldUntil !== null && latest !== null && !newer) {
    inputs.probeHeldUntil = evidence.heldUntil;
    const measured = `gap ${(latest.gap ?? 0).toFixed(3)}, 95% interval ${(latest.lower ?? 0).toFixed(3)} to ${(latest.upper ?? 0).toFixed(3)}, worth it from ${latest.plan.worthwhileGap.toFixed(3)}`;
    const what =
      latest.verdict === 'inconclusive'
        ? `a challenger trained on the training window of ${formatInstant(latest.startedAt)} measured a gap below the one a retrain needs on the same ${latest.events} events (${measured}): too few events to rule a worthwhile gap out, but the retrain is expected not to pay`
        : `a challenger trained on the training window of ${formatInstant(latest.startedAt)} did not beat it by a gap worth a retrain on the same ${latest.events} events (${measured})`;
    return out(
      input.fired
        ? `no fresh model shown to be better: ${what}; held until ${formatInstant(evidence.heldUntil)}`
        : null,
      null,
    );
  }
  // A standing gap needs no new probe; a lapsed one may be measured again.
  if (state.retrainInFlight === true || evidence.raisedAttainable !== null) return out(null, null);
  if (evidence.lapsed) inputs.probeLapsed = evidence.lapsed;
  if (evidence.backoffUntil !== null && !newer) {
    inputs.probeBackoffUntil = evidence.backoffUntil;
    return out(null, null);
  }

  const last = state.windows?.at(-1);
  const windowHours = last ? Math.max(0, last.end - last.start) / HOUR_MS : 1;
  const labelledPerWindow = last?.labelled ?? last?.events ?? 0;
  const windows = probeWindowsNeeded(policy.minPairedEvents, labelledPerWindow, policy.maxWindows);
  if (input.fired) {
    const loss =
      input.yardstick !== null && input.recentQuality !== null ? Math.max(0, input.yardstick - input.recentQuality) : 0;
    const chance = chanceRetrainDoesNotHelp(view, input.attainableMeasured);
    const blind = beforeRetrainValue({
      chanceUseless: chance,
      hurdle: input.hurdle,
      probeCost: policy.probeCost,
      stalenessPerHour: input.valuePerQualityUnit * input.eventsPerHour * loss,
      probeHours: windows * windowHours,
    });
    const cost = blind.cost;
    let value = blind.value;
    let reason = `probe first: a retrain of this model did not help with chance ${chance.toFixed(2)}, so checking saves ${value.toFixed(0)} in expectation against ${cost.toFixed(0)} for the probe and ${windows} window(s) of waiting`;
    inputs.probeChanceRetrainUseless = chance;
    // Rule revision 10: once this version's gap is measured, a new probe is worth what it can add to
    // that measurement, against the better of retraining and keeping the version without it.
    const measured = (state.ruleRevision ?? DEFAULT_RULE_REVISION) >= 10 ? (input.beforeRetrainMeasurements ?? []) : [];
    if (measured.length > 0) {
      const posterior = gapPosterior(Math.max(policy.priorGap, loss), measured);
      // The labels the next windows bring, as revision 9's explore sample: the latest window's alone
      // would be 0 while its labels are still due, a probe priced as measuring nothing.
      const sample = plannedProbeSample({
        minPairedEvents: policy.minPairedEvents,
        maxWindows: policy.maxWindows,
        labelledPerWindow: recentLabelledPerWindow(state),
        results: view?.results ?? [],
        quality: input.recentQuality,
      });
      const priced = beforeRetrainSampleValue({
        valuePerQualityUnit: input.valuePerQualityUnit,
        eventsServed: input.eventsPerHour * input.nowAgeHours,
        hurdle: input.hurdle,
        posterior,
        standardError: sample.standardError,
      });
      value = priced.value;
      inputs.probeGapPosteriorMean = posterior.mean;
      inputs.probeGapPosteriorSd = posterior.sd;
      inputs.probeSampleEvents = sample.events;
      inputs.probeSampleStandardError = Number.isFinite(sample.standardError) ? sample.standardError : null;
      inputs.probeSampleVarianceSource = sample.varianceSource;
      inputs.probeRetrainNowValue = priced.retrainNow;
      inputs.probeBeforeRetrainValue = priced.value;
      const measuredGap = `this version's probes measured the gap a fresh model finds at ${posterior.mean.toFixed(3)} ± ${posterior.sd.toFixed(3)}, so a retrain is expected to save ${(priced.retrainNow + input.hurdle).toFixed(0)} against ${input.hurdle.toFixed(0)}`;
      const measures = `a probe of ${sample.events} paired events measuring it to ± ${sample.standardError.toFixed(3)}`;
      // Not worth probing again: the measurement decides — keep the version, or retrain on it.
      const notWorth = `${measures} is worth ${value.toFixed(0)}, not its ${cost.toFixed(0)} (price and ${windows} window(s) of waiting)`;
      if (value <= cost && priced.retrainNow <= 0)
        return out(`no fresh model expected to pay: ${measuredGap}, and ${notWorth}`, null);
      if (value <= cost) return { ...out(null, null), note: `no probe first: ${measuredGap}, and ${notWorth}` };
      reason = `probe first: ${measuredGap}; ${measures} is worth ${value.toFixed(0)} against ${cost.toFixed(0)} for the probe and ${windows} window(s) of waiting`;
    }
    if (value <= cost) return out(null, null);
    // The retrain is for a loss of `loss`: a challenger ahead by less than half of it does not justify it.
    // Rule revision 8: nor one ahead by less than the gap at which the version's life so far (the
    // Lindy estimate of what is left) pays for the retrain — the cumulative and forecast rules fire
    // on a version's history, when its latest window may show no loss at all.
    const lifeGap =
      (state.ruleRevision ?? DEFAULT_RULE_REVISION) >= 8
        ? input.hurdle / Math.max(1e-9, input.valuePerQualityUnit * input.eventsPerHour * input.nowAgeHours)
        : 0;
    const plan: ProbePlan = {
      kind: 'before-retrain',
      value,
      cost,
      worthwhileGap: Math.max(loss / 2, lifeGap),
      windows,
      reason,
    };
    return out(plan.reason, plan);
  }
  // Explore: the gap's prior scale is the policy's, or the shortfall against the version's own
  // fresh quality when nothing measured backs the attainable level.
  const shortfall =
    input.freshQuality !== null && input.recentQuality !== null
      ? Math.max(0, input.freshQuality - input.recentQuality)
      : 0;
  const scale = Math.max(policy.priorGap, shortfall);
  const eventsServed = input.eventsPerHour * input.nowAgeHours;
  const measured = input.gapMeasurements ?? [];
  const posterior = measured.length > 0 ? gapPosterior(scale, measured) : null;
  // Rule revision 9: priced by what a probe of its size can measure, not as if it measured the gap exactly.
  const sample =
    (state.ruleRevision ?? DEFAULT_RULE_REVISION) >= 9
      ? plannedProbeSample({
          minPairedEvents: policy.minPairedEvents,
          maxWindows: policy.maxWindows,
          labelledPerWindow: recentLabelledPerWindow(state),
          results: view?.results ?? [],
          quality: input.recentQuality,
        })
      : null;
  // At σ = 0 (revisions up to 8) this is the value of knowing the gap exactly, as before.
  const value = sampleExploreValue({
    valuePerQualityUnit: input.valuePerQualityUnit,
    eventsServed,
    hurdle: input.hurdle,
    priorGap: scale,
    standardError: sample?.standardError ?? 0,
    posterior,
  });
  inputs.probeExploreValue = value;
  if (posterior !== null) {
    inputs.probeGapPosteriorMean = posterior.mean;
    inputs.probeGapPosteriorSd = posterior.sd;
  }
  if (sample !== null) {
    inputs.probeSampleEvents = sample.events;
    inputs.probeSampleStandardError = Number.isFinite(sample.standardError) ? sample.standardError : null;
    inputs.probeSampleVarianceSource = sample.varianceSource;
  }
  if (value <= policy.probeCost) return out(null, null);
  const prior =
    posterior === null
      ? `gap prior ${scale.toFixed(3)}`
      : `gap prior ${scale.toFixed(3)} updated by ${posterior.measurements} probe(s) of this version to ${posterior.mean.toFixed(3)} ± ${posterior.sd.toFixed(3)}`;
  const measures =
    sample === null
      ? ''
      : `, a probe of ${sample.events} paired events measuring it to ± ${sample.standardError.toFixed(3)}`;
  return out(null, {
    kind: 'explore',
    value,
    cost: policy.probeCost,
    // The gap at which the staleness served so far would pay for a retrain.
    worthwhileGap: input.hurdle / Math.max(1e-9, input.valuePerQualityUnit * input.eventsPerHour * input.nowAgeHours),
    reason: `probe: knowing whether a fresh model beats this one is worth ${value.toFixed(0)} (${prior}${measures}, ${Math.round(eventsServed)} events served) > probe cost ${policy.probeCost.toFixed(0)}`,
  });
}

/** Windows whose labels say how many a window brings (the latest may still be waiting for its own). */
const LABELLED_WINDOWS = 6;

/** Labelled events a window brings: the most among the latest windows (a window's events when it records no labels). */
function recentLabelledPerWindow(state: PolicyState): number {
  let most = 0;
  for (const w of (state.windows ?? []).slice(-LABELLED_WINDOWS)) most = Math.max(most, w.labelled ?? w.events);
  return most;
}
