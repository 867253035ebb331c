import { exponentialLoss, predictQuality } from '../decay/curve.ts';
import type { DecayFit } from '../decay/types.ts';
import { describeEconomics } from '../texts/economics-statement.ts';
import { LATEST_TEXT_REVISION } from '../texts/revision.ts';
import type { EconomicsInput, RetrainEconomics } from './types.ts';

/**
 * Should we retrain now? Cost-aware in the spirit of Cara (Mahadevan & Mathioudakis 2024) with
 * the forecast-and-quantile rule of UPF (Regol et al. 2025).
 *
 * Forecast rule (renewal argument). Retraining restarts a cycle: a version serves from age 0 to
 * age A, costing C (retrain + expected deployment risk) plus R·L(A), where R = value × traffic
 * and L(A) = ∫₀ᴬ loss(a) da is its accumulated quality loss versus fresh. The long-run cost per
 * hour (C + R·L(A)) / A is smallest at the age where
 *     R · (A·loss(A) − L(A)) = C,
 * i.e. where the current staleness cost rate R·loss(A) has risen to the cycle's average cost
 * rate. The left side grows with A whenever quality keeps falling, so the rule is: retrain when
 * `restartValue` = R·(A·loss(A) − L(A)) exceeds C + risk. It reads loss(A) and L(A) off the decay
 * fit at the *current* age (a smoothed, noise-resistant view of what was observed) and uses
 * the fit's extrapolation only to say when that point will come (`breakEvenHours`). Under
 * linear decay it coincides with Cara's cumulative rule (A·rA − rA²/2 = rA²/2 = L(A)).
 *
 * A first version of this rule compared the staleness avoidable over a fixed horizon with C; in
 * simulation it retrained 3–7× more often than the oracle, because "retrain now versus not for
 * the whole horizon" ignores that one can also retrain a little later. The horizon figures are
 * still reported (`expectedStalenessCost`, `freshStalenessCost`, `avoidableStalenessCost`) for
 * people reading the decision.
 *
 * Uncertainty. The decay fit's half-life profile is read as a pseudo-posterior over ln h (weights
 * ∝ exp(−deviance/2), flat in ln h); each profile point gives a restart value, and the decision
 * uses the configured quantile (0.5 = median; higher acts earlier when the decay is uncertain).
 * A linear fit uses its slope ± standard error the same way.
 *
 * Cumulative rule (Cara): retrain when the staleness cost accumulated since the last retrain
 * exceeds C + risk. It needs no fit, so it is the fallback when there is none.
 *
 * What the cost-aware trigger feeds the cumulative rule (detectors/policy/triggers.ts with
 * economics/staleness.ts), and why — each fixes a cause measured on the decision benchmark
 * (bench/decisions.ts; tuned on seeds 101–105, reported on 1–3), where this rule went from
 * 2.04× to the numbers in BENCHMARKS.md of the DP oracle:
 * - Staleness is measured against the *attainable* quality — the median early-life quality of
 *   the recent versions — not the serving version's own validation quality, so a version trained
 *   across a change (validates low, serves low) is seen as stale.
 * - The accumulation is signed (windows better than attainable offset worse ones) and compared
 *   at one standard error below its estimate, so sampling noise and a slightly optimistic
 *   attainable value do not add up to a retrain (the clipped sum retrained on noise every 1–2 days).
 * - With a decay fit, `forecast-then-cumulative` still lets the cumulative rule retrain when the
 *   fit is blind: the version's quality stepped down (best single split of its windows, ≥ 4
 *   standard errors and better than a straight line) or it started below the attainable quality
 *   (`fitBlindSpot`). The fit describes smooth ageing; it cannot see either.
 * - After a step, the trigger waits until the training window no longer holds the old concept
 *   (step onset + training span, for spans ≤ 12 h): a retrain into a change trains a mixed model
 *   that is stale from the start. Detection delay then costs little: the wait is needed anyway.
 *
 * Rule revision 2 (`EconomicsInput.step`, set by the trigger; `MonitorSettings.ruleRevision`):
 * - Step rule: a credible step (≥ 6 standard errors) is priced for as long as it is expected to
 *   last (economics/staleness.ts `stepStaleness`) and retrains when that exceeds C + risk — a
 *   step is not ageing, so neither the renewal argument nor the past loss applies.
 * - The cumulative yardstick is the version's own early life when nothing says it is stale
 *   (`cumulativeYardstick`), and the decay fit widens its slope's error for runs of windows and
 *   shrinks its rate toward earlier versions' (decay/fit.ts, decay/population.ts).
 */

const MAX_BREAK_EVEN_HOURS = 24 * 365;

interface Scenario {
  weight: number;
  /** A·loss(A) − L(A) at the current age, in quality·hours. */
  restart: number;
  stale: number;
  fresh: number;
}

/**
 * Weigh staleness against retraining. Pure; every number that drove the answer is returned.
 * Under text revision 2 the `reason` is the economics statement (detectors/texts); revision 1
 * keeps the texts replayed histories recorded.
 */
export function evaluateRetrainEconomics(input: EconomicsInput): RetrainEconomics {
  const result = weighStaleness(input);
  if ((input.textRevision ?? LATEST_TEXT_REVISION) < 2) return result;
  const fit = input.fit;
  const canForecast = fit.model !== 'none' && fit.q0 !== null;
  const stated: RetrainEconomics = {
    ...result,
    ...(result.rule === 'forecast'
      ? {
          stalenessCostPerHour:
            input.valuePerQualityUnit * input.eventsPerHour * lossRate(fit, input.nowAgeHours ?? fit.nowAgeHours),
        }
      : {}),
    // Only the forecast-then-cumulative rule lets the cumulative figure decide because of a blind spot.
    fitBlindSpot:
      result.rule === 'cumulative' && canForecast && input.rule !== 'cumulative' ? (input.fitBlindSpot ?? null) : null,
    noForecastReason: canForecast ? null : fit.reason,
    accumulation: input.accumulation ?? null,
  };
  return { ...stated, reason: describeEconomics(stated).text };
}

function weighStaleness(input: EconomicsInput): RetrainEconomics {
  const result = forecastOrCumulative(input);
  const step = input.step;
  if (step === undefined) return result;
  const rule = input.rule ?? 'forecast-then-cumulative';
  const hurdle = result.retrainCost + result.riskCost;
  if (result.shouldRetrain || step === null || rule === 'forecast' || !(step.value > hurdle))
    return { ...result, step };
  // A step is not ageing: the version will not recover, and a retrain does not reset a clock
  // that runs out again (the renewal argument of the forecast rule does not apply).
  return {
    ...result,
    step,
    shouldRetrain: true,
    rule: 'step',
    netBenefit: step.value - hurdle,
    breakEvenHours: 0,
    reason: `retrain: ${step.description}; a quality loss of ${step.lossRate.toFixed(3)} per event (one standard error low) for the ${step.expectedHours.toFixed(1)} h it is expected to last costs ${money(step.value)} > retrain ${money(result.retrainCost)} + risk ${money(result.riskCost)} (${result.reason})`,
  };
}

function forecastOrCumulative(input: EconomicsInput): RetrainEconomics {
  const fit = input.fit;
  const freshFit = input.freshFit ?? fit;
  const nowAge = input.nowAgeHours ?? fit.nowAgeHours;
  const quantile = input.quantile ?? 0.5;
  const risk = input.deploymentRisk ?? { probability: 0, cost: 0 };
  const riskCost = risk.probability * risk.cost;
  const rate = input.valuePerQualityUnit * input.eventsPerHour;
  const rule = input.rule ?? 'forecast-then-cumulative';
  const freshQuality = input.freshQuality ?? fit.q0;
  const hurdle = input.retrainCost + riskCost;
  const accumulated = input.accumulatedStalenessCost ?? null;
  const inputs: RetrainEconomics['inputs'] = {
    horizonHours: input.horizonHours,
    eventsPerHour: input.eventsPerHour,
    valuePerQualityUnit: input.valuePerQualityUnit,
    quantile,
    nowAgeHours: nowAge,
    freshQuality,
    decayModel: fit.model,
    halfLifeHours: fit.halfLifeHours,
  };
  const base = {
    restartValue: 0,
    expectedStalenessCost: 0,
    freshStalenessCost: 0,
    avoidableStalenessCost: 0,
    meanAvoidableStalenessCost: 0,
    accumulatedStalenessCost: accumulated,
    retrainCost: input.retrainCost,
    riskCost,
    breakEvenHours: null,
    inputs,
  };

  const canForecast = fit.model !== 'none' && fit.q0 !== null && rule !== 'cumulative';
  if (canForecast) {
    const offset = freshQuality === null ? 0 : directed(fit, freshQuality - (fit.q0 as number));
    const scenarios = scenariosOf(fit, freshFit, nowAge, input.horizonHours, offset);
    const q = (f: (v: Scenario) => number): number =>
      weightedQuantile(
        scenarios.map((v) => ({ value: f(v), weight: v.weight })),
        quantile,
      ) * rate;
    const restartValue = q((v) => v.restart);
    const avoidable = q((v) => v.stale - v.fresh);
    const totalWeight = scenarios.reduce((s, v) => s + v.weight, 0);
    const mean = (scenarios.reduce((s, v) => s + v.weight * (v.stale - v.fresh), 0) / totalWeight) * rate;
    const netBenefit = restartValue - hurdle;
    const shouldRetrain = netBenefit > 0;
    const breakEvenHours = shouldRetrain ? 0 : breakEven(fit, nowAge, rate, hurdle);
    // What the forecast says, recorded whichever rule decides.
    const forecast = {
      ...base,
      restartValue,
      expectedStalenessCost: q((v) => v.stale),
      freshStalenessCost: q((v) => v.fresh),
      avoidableStalenessCost: avoidable,
      meanAvoidableStalenessCost: mean,
    };
    const blindSpot = input.fitBlindSpot ?? null;
    if (
      !shouldRetrain &&
      rule === 'forecast-then-cumulative' &&
      blindSpot !== null &&
      accumulated !== null &&
      accumulated > hurdle
    ) {
      // The fit describes smooth ageing; it cannot see a step or a version that started low.
      return {
        ...forecast,
        shouldRetrain: true,
        rule: 'cumulative',
        netBenefit: accumulated - hurdle,
        breakEvenHours: 0,
        reason: `retrain: ${blindSpot}, which the ${fit.model} decay fit cannot see; staleness cost accumulated against the attainable quality ${money(accumulated)} > retrain ${money(input.retrainCost)} + risk ${money(riskCost)} (the forecast alone would wait: restart value ${money(restartValue)})`,
      };
    }
    return {
      ...forecast,
      shouldRetrain,
      rule: 'forecast',
      netBenefit,
      breakEvenHours,
      reason: `${shouldRetrain ? 'retrain' : 'wait'}: staleness now costs ${money(rate * lossRate(fit, nowAge))}/h against a cycle average that makes restarting worth ${money(restartValue)} (q${Math.round(quantile * 100)}, ${fit.model} decay, age ${nowAge.toFixed(1)} h) ${shouldRetrain ? '>' : '≤'} retrain ${money(input.retrainCost)} + risk ${money(riskCost)}${shouldRetrain ? '' : breakEvenHours === null ? '; not within a year' : `; due in ${breakEvenHours.toFixed(1)} h`}`,
    };
  }
  if (rule !== 'forecast' && accumulated !== null) {
    const netBenefit = accumulated - hurdle;
    const shouldRetrain = netBenefit > 0;
    return {
      ...base,
      shouldRetrain,
      rule: 'cumulative',
      netBenefit,
      reason: `${shouldRetrain ? 'retrain' : 'wait'}: staleness cost accumulated since the last retrain ${money(accumulated)} ${shouldRetrain ? '>' : '≤'} retrain ${money(input.retrainCost)} + risk ${money(riskCost)}${fit.model === 'none' ? ` (no decay forecast: ${fit.reason})` : ''}`,
    };
  }
  return {
    ...base,
    shouldRetrain: false,
    rule: 'none',
    netBenefit: -hurdle,
    reason:
      rule === 'forecast'
        ? `no decay forecast: ${fit.reason}`
        : `no decay forecast (${fit.reason}) and no accumulated staleness cost to compare`,
  };
}

/** A quality difference expressed as "how much worse", whatever the metric's direction. */
function directed(fit: DecayFit, difference: number): number {
  return fit.direction === 'higher-is-better' ? difference : -difference;
}

/** The decay fit's uncertainty as weighted variants of the fit, each priced the same way. */
function scenariosOf(fit: DecayFit, freshFit: DecayFit, nowAge: number, horizon: number, offset: number): Scenario[] {
  const variants: { weight: number; fit: DecayFit }[] = [];
  if (fit.model === 'exponential' && fit.profile.length > 0) {
    const points = [...fit.profile].sort((a, b) => a.halfLifeHours - b.halfLifeHours);
    points.forEach((p, i) => {
      const prev = points[i - 1]?.halfLifeHours ?? p.halfLifeHours;
      const next = points[i + 1]?.halfLifeHours ?? p.halfLifeHours;
      const span = Math.max(Math.log(next) - Math.log(prev), 1e-9);
      variants.push({
        weight: Math.exp(-p.deviance / 2) * span,
        fit: { ...fit, q0: p.q0, floor: p.floor, halfLifeHours: p.halfLifeHours },
      });
    });
  } else if (fit.model === 'linear' && fit.slopePerHour !== null) {
    // Loss is linear in the slope, so quantiles of the slope map to quantiles of the loss.
    const se = fit.slopeStdError ?? 0;
    for (const z of [-2.5, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5]) {
      variants.push({
        weight: Math.exp((-z * z) / 2),
        fit: {
          ...fit,
          slopePerHour: (fit.slopePerHour as number) + z * se * (fit.direction === 'higher-is-better' ? 1 : -1),
        },
      });
    }
  } else variants.push({ weight: 1, fit });
  return variants.map(({ weight, fit: v }) => ({
    weight,
    restart: Math.max(0, nowAge * lossRate(v, nowAge) - directedLoss(v, 0, nowAge)),
    stale: Math.max(0, directedLoss(v, nowAge, nowAge + horizon) + offset * horizon),
    // The fresh version ages like this scenario when it shares the fit, else like its own fit.
    fresh: Math.max(0, directedLoss(freshFit === fit ? v : freshFit, 0, horizon) + offset * horizon),
  }));
}

/** Quality lost versus fresh at age `a` ("worse by", ≥ 0 while decaying). */
function lossRate(fit: DecayFit, a: number): number {
  const q = predictQuality(fit, a);
  if (q === null || fit.q0 === null) return 0;
  return Math.max(0, fit.direction === 'higher-is-better' ? fit.q0 - q : q - fit.q0);
}

/** ∫ (q0 − q(a)) da as "worse by", clamped for lines that would cross their bound. */
function directedLoss(fit: DecayFit, from: number, to: number): number {
  if (fit.model === 'none' || fit.q0 === null) return 0;
  const sign = fit.direction === 'higher-is-better' ? 1 : -1;
  if (fit.model === 'exponential' && fit.floor !== null && fit.halfLifeHours !== null) {
    return sign * exponentialLoss({ q0: fit.q0, floor: fit.floor, halfLifeHours: fit.halfLifeHours }, from, to);
  }
  const slope = -sign * (fit.slopePerHour ?? 0); // quality lost per hour, ≥ 0 when decaying
  const cap = fit.floor === null ? Number.POSITIVE_INFINITY : sign * (fit.q0 - fit.floor);
  // ∫ min(cap, slope·a) da from `from` to `to`.
  if (slope <= 0) return 0;
  const knee = cap / slope;
  const rampEnd = Math.min(to, Math.max(from, knee));
  const ramp = (slope * (rampEnd * rampEnd - from * from)) / 2;
  const flat = to > knee ? cap * (to - Math.max(from, knee)) : 0;
  return ramp + flat;
}

/** Quantile of a discrete weighted distribution (inverse of its cumulative weight). */
export function weightedQuantile(values: readonly { value: number; weight: number }[], q: number): number {
  const sorted = [...values].filter((v) => v.weight > 0 && Number.isFinite(v.value)).sort((a, b) => a.value - b.value);
  if (sorted.length === 0) return 0;
  const total = sorted.reduce((s, v) => s + v.weight, 0);
  let cumulative = 0;
  for (const v of sorted) {
    cumulative += v.weight;
    if (cumulative >= q * total) return v.value;
  }
  return (sorted[sorted.length - 1] as { value: number }).value;
}

/**
 * Hours until the restart condition R·(A·loss(A) − L(A)) ≥ hurdle will hold, by the fit's
 * extrapolation (bisection: the left side grows with age while quality falls).
 */
function breakEven(fit: DecayFit, nowAge: number, rate: number, hurdle: number): number | null {
  if (rate <= 0 || fit.model === 'none') return null;
  const value = (t: number): number =>
    rate * ((nowAge + t) * lossRate(fit, nowAge + t) - directedLoss(fit, 0, nowAge + t));
  if (value(MAX_BREAK_EVEN_HOURS) < hurdle) return null;
  let lo = 0;
  let hi = MAX_BREAK_EVEN_HOURS;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (value(mid) >= hurdle) hi = mid;
    else lo = mid;
  }
  return hi;
}

function money(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2);
}
