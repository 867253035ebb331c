/**
 * The one statement of a cost-aware outcome: which figure the rule compared with the hurdle
 * (retrain cost + deployment risk), which way it went, and what a reader needs to trust it —
 * the rule, why other figures shown beside it do not decide, how a signed accumulation was
 * reached, when a retrain is due. The decision's reason, `halflife explain`, the API and the
 * dashboard's economics card all state it this way; it reads the numbers, not an earlier
 * text, so records written before it read the same.
 *
 * The verdict is a field; no sentence starts with it ("retrain: …", "wait: …"). The comparison
 * sign always agrees with the verdict: a "wait" never states a cost above the hurdle as the
 * deciding one.
 */
import type { AccumulationFacts, RetrainEconomics, StepFacts } from '../economics/types.ts';
import { unmeasuredText } from '../economics/staleness.ts';
import { formatHours, formatInstant, formatMoney } from './format.ts';

/**
 * - `retrain`: retraining pays now.
 * - `wait`: it does not pay yet.
 * - `wait-for-clean-data`: it pays, but the training window still holds data from before a step.
 * - `no-evidence`: neither a decay forecast nor an accumulated cost to compare.
 */
export type EconomicsVerdict = 'retrain' | 'wait' | 'wait-for-clean-data' | 'no-evidence';

/** What the trigger added to the economics (all optional: older records lack some of them). */
export interface EconomicsContext {
  /** How the accumulated cost was reached, when the economics record does not carry it. */
  accumulation?: AccumulationFacts | null;
  /** The trigger holds the retrain until the training window is clean of the step (epoch ms). */
  cleanTrainingAt?: number | null;
  /** Onset of that step (epoch ms). */
  stepAt?: number | null;
  /** Why there is no decay forecast (the decay fit's reason), when the record does not say. */
  noForecastReason?: string | null;
}

export interface EconomicsStatement {
  verdict: EconomicsVerdict;
  /** A short label for a card: "retrain pays", "wait", "retrain pays after clean data", "no evidence yet". */
  label: string;
  rule: RetrainEconomics['rule'];
  /** The figure the rule compared with the hurdle, or `null` when no rule could run. */
  compared: { what: string; value: number } | null;
  /** Retrain cost + deployment risk. */
  hurdle: { retrainCost: number; riskCost: number; total: number };
  /** The deciding comparison, one line. */
  headline: string;
  /** Further sentences, in reading order. */
  details: string[];
  /** `headline`, then `details`, as one text (the decision's reason). */
  text: string;
}

/** State a cost-aware outcome (see the module comment). */
export function describeEconomics(e: RetrainEconomics, context: EconomicsContext = {}): EconomicsStatement {
  const hurdle = { retrainCost: e.retrainCost, riskCost: e.riskCost, total: e.retrainCost + e.riskCost };
  const against = `retrain ${formatMoney(e.retrainCost)} + risk ${formatMoney(e.riskCost)}`;
  const compare = (value: number): string => `${formatMoney(value)} ${value > hurdle.total ? '>' : '≤'} ${against}`;
  const accumulation = e.accumulation ?? context.accumulation ?? null;
  const model = e.inputs.decayModel;
  const details: string[] = [];
  let compared: EconomicsStatement['compared'] = null;
  let headline: string;

  switch (e.rule) {
    case 'forecast': {
      compared = { what: 'what restarting the version is worth now', value: e.restartValue };
      headline = `restarting the version now is worth ${compare(e.restartValue)}`;
      const rate = e.stalenessCostPerHour;
      details.push(
        `forecast rule on the ${model} decay fit at age ${formatHours(e.inputs.nowAgeHours)}${rate === undefined ? '' : `: staleness now costs ${formatMoney(rate)}/h`} (quantile ${e.inputs.quantile})`,
      );
      if (!e.shouldRetrain)
        details.push(
          e.breakEvenHours === null
            ? 'not due within a year if the decay continues as fitted'
            : `due in ${formatHours(e.breakEvenHours)} if the decay continues as fitted`,
        );
      const accumulated = e.accumulatedStalenessCost;
      if (!e.shouldRetrain && accumulated !== null && accumulated > hurdle.total)
        details.push(
          `the staleness accumulated since the last retrain (${formatMoney(accumulated)}) is above the hurdle but does not decide: the decay fit sees this version's ageing (no step down, no start below the attainable quality), and the forecast weighs what a restart saves`,
        );
      break;
    }
    case 'cumulative': {
      const value = e.accumulatedStalenessCost ?? 0;
      compared = { what: 'staleness accumulated since the last retrain', value };
      headline = `staleness accumulated since the last retrain ${compare(value)}`;
      if (e.fitBlindSpot)
        details.push(
          `cumulative rule, because ${e.fitBlindSpot}, which the ${model} decay fit cannot see (the forecast alone would give ${formatMoney(e.restartValue)})`,
        );
      else if (model === 'none')
        details.push(
          `cumulative rule, with no decay forecast${noForecast(e, context) ? `: ${noForecast(e, context)}` : ''}`,
        );
      else details.push('cumulative rule');
      details.push(accumulationText(value, accumulation));
      break;
    }
    case 'step': {
      const step = e.step ?? null;
      const value = step?.value ?? e.netBenefit + hurdle.total;
      compared = { what: 'what the step down costs for as long as it is expected to last', value };
      headline =
        step === null
          ? `the step down costs ${compare(value)}`
          : `the step down costs ${compare(value)} over the ${formatHours(step.expectedHours)} it is expected to last`;
      if (step !== null) {
        details.push(step.change ? stepText(step.change) : step.description);
        details.push(
          `step rule: a quality loss of ${step.lossRate.toFixed(3)} per event (one standard error low) at ${formatMoney(e.inputs.eventsPerHour)} events/h`,
        );
      }
      break;
    }
    case 'none':
      headline = `no accumulated staleness cost to compare with ${against}, and no decay forecast${noForecast(e, context) ? `: ${noForecast(e, context)}` : ''}`;
      break;
  }

  let verdict: EconomicsVerdict = e.rule === 'none' ? 'no-evidence' : e.shouldRetrain ? 'retrain' : 'wait';
  const cleanAt = context.cleanTrainingAt ?? null;
  if (verdict === 'retrain' && cleanAt !== null) {
    // What holds the retrain comes first: the comparison says only why it will come.
    verdict = 'wait-for-clean-data';
    details.unshift(headline);
    headline = `waiting for a training window clean of the step${context.stepAt == null ? '' : ` at ${formatInstant(context.stepAt)}`}: clean from ${formatInstant(cleanAt)}`;
  }
  const label = {
    retrain: 'retrain pays',
    wait: 'wait',
    'wait-for-clean-data': 'retrain pays after clean data',
    'no-evidence': 'no evidence yet',
  }[verdict];
  return {
    verdict,
    label,
    rule: e.rule,
    compared,
    hurdle,
    headline,
    details,
    text: [headline, ...details].join('; '),
  };
}

/** The cumulative figure explained: how it is reached, and why it is negative when it is. */
export function accumulationText(value: number, a: AccumulationFacts | null): string {
  if (a !== null && a.estimate === 0 && a.sd === 0)
    return 'nothing accumulated yet: no measured window of this version';
  const yardstick = a?.yardstick == null ? 'the attainable quality' : `the attainable ${a.yardstick.toFixed(3)}`;
  const signed = `the sum is signed (windows better than ${yardstick} offset worse ones)`;
  const low =
    a === null
      ? 'and taken one standard error low'
      : `and taken one standard error low (estimate ${formatMoney(a.estimate)} less ${formatMoney(a.sd)})`;
  const negative =
    value >= 0
      ? ''
      : a === null || a.estimate < 0
        ? '; negative: the version has done better than that so far'
        : '; negative: its standard error is larger than the estimate, which is not evidence of staleness';
  return `${signed} ${low}, so sampling noise does not add up to a retrain${negative}`;
}

function stepText(s: StepFacts): string {
  const u = s.unmeasuredPersistence;
  return `quality stepped down from ${s.before.toFixed(3)} to ${s.after.toFixed(3)} at ${formatInstant(s.at)} (z ${s.z.toFixed(1)}), ${Math.abs(s.attainable - s.after).toFixed(3)} below the attainable ${s.attainable.toFixed(3)}; the version had served ${formatHours(s.ageAtStepHours)} before it${u === undefined ? '' : `; ${unmeasuredText(u, u.lastedHours, formatHours)}`}`;
}

function noForecast(e: RetrainEconomics, context: EconomicsContext): string | null {
  return e.noForecastReason ?? context.noForecastReason ?? null;
}
