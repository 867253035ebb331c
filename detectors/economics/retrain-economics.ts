import { exponentialLoss } from '../decay/curve.ts';
import type { DecayFit } from '../decay/types.ts';
import type { EconomicsInput, RetrainEconomics } from './types.ts';

/**
 * Should we retrain now? Cost-aware in the spirit of Cara (Mahadevan & Mathioudakis 2024) with
 * the forecast-and-quantile rule of UPF (Regol et al. 2025).
 *
 * Forecast rule. Over the horizon H, keeping the current version (age A) costs
 *   V · traffic · ∫₀ᴴ (q_fresh − q(A + t)) dt
 * while a version retrained now costs retrainCost + riskCost and then itself ages:
 *   V · traffic · ∫₀ᴴ (q_fresh − q(t)) dt.
 * The difference is the *avoidable* staleness cost; retrain when it exceeds retrainCost + riskCost.
 * Subtracting the fresh version's own ageing matters: without it a slowly ageing model with a
 * long horizon would be retrained over and over for losses no retrain can avoid.
 *
 * Uncertainty. The decay fit's half-life profile is read as a pseudo-posterior over ln h (weights
 * ∝ exp(−deviance/2), flat in ln h); each profile point gives an avoidable cost, and the decision
 * uses the configured quantile of that distribution (0.5 = median; higher acts earlier when the
 * decay is uncertain). A linear fit uses its slope ± standard error the same way.
 *
 * Cumulative rule (Cara): retrain when the staleness cost accumulated since the last retrain
 * exceeds retrainCost + riskCost. It needs no forecast, so it is the fallback when there is no
 * decay fit. Under linear decay it is exactly the optimal periodic policy (the period T* that
 * minimises (C + V·r·T²/2)/T accumulates a cost of exactly C).
 */

const MAX_BREAK_EVEN_HOURS = 24 * 365;

interface Scenario {
  weight: number;
  stale: number;
  fresh: number;
}

/** Weigh staleness against retraining. Pure; every number that drove the answer is returned. */
export function evaluateRetrainEconomics(input: EconomicsInput): RetrainEconomics {
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
    const avoidable = weightedQuantile(scenarios.map((s) => ({ value: s.stale - s.fresh, weight: s.weight })), quantile) * rate;
    const stale = weightedQuantile(scenarios.map((s) => ({ value: s.stale, weight: s.weight })), quantile) * rate;
    const fresh = weightedQuantile(scenarios.map((s) => ({ value: s.fresh, weight: s.weight })), quantile) * rate;
    const totalWeight = scenarios.reduce((s, v) => s + v.weight, 0);
    const mean = (scenarios.reduce((s, v) => s + v.weight * (v.stale - v.fresh), 0) / totalWeight) * rate;
    const netBenefit = avoidable - hurdle;
    const breakEvenHours = breakEven(fit, freshFit, nowAge, rate, hurdle);
    const shouldRetrain = netBenefit > 0;
    return {
      ...base,
      shouldRetrain,
      rule: 'forecast',
      expectedStalenessCost: stale,
      freshStalenessCost: fresh,
      avoidableStalenessCost: avoidable,
      meanAvoidableStalenessCost: mean,
      netBenefit,
      breakEvenHours,
      reason: `${shouldRetrain ? 'retrain' : 'wait'}: retraining now would avoid ${money(avoidable)} of staleness over the next ${input.horizonHours} h (q${Math.round(quantile * 100)}, ${fit.model} decay) ${shouldRetrain ? '>' : '≤'} retrain ${money(input.retrainCost)} + risk ${money(riskCost)}`,
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
    reason: rule === 'forecast' ? `no decay forecast: ${fit.reason}` : `no decay forecast (${fit.reason}) and no accumulated staleness cost to compare`,
  };
}

/** A quality difference expressed as "how much worse", whatever the metric's direction. */
function directed(fit: DecayFit, difference: number): number {
  return fit.direction === 'higher-is-better' ? difference : -difference;
}

/** Loss (quality·hours, ≥ 0 means worse than fresh) of scenarios across the half-life uncertainty. */
function scenariosOf(fit: DecayFit, freshFit: DecayFit, nowAge: number, horizon: number, offset: number): Scenario[] {
  const freshLoss = (f: DecayFit): number => directedLoss(f, 0, horizon);
  if (fit.model === 'exponential' && fit.profile.length > 0) {
    const points = [...fit.profile].sort((a, b) => a.halfLifeHours - b.halfLifeHours);
    return points.map((p, i) => {
      const prev = points[i - 1]?.halfLifeHours ?? p.halfLifeHours;
      const next = points[i + 1]?.halfLifeHours ?? p.halfLifeHours;
      const span = Math.max(Math.log(next) - Math.log(prev), 1e-9);
      const curve = { q0: p.q0, floor: p.floor, halfLifeHours: p.halfLifeHours };
      const sign = fit.direction === 'higher-is-better' ? 1 : -1;
      const stale = sign * exponentialLoss(curve, nowAge, nowAge + horizon) + offset * horizon;
      // The fresh version ages like this scenario when it shares the fit, else like its own fit.
      const fresh = freshFit === fit ? sign * exponentialLoss(curve, 0, horizon) + offset * horizon : freshLoss(freshFit) + offset * horizon;
      return { weight: Math.exp(-p.deviance / 2) * span, stale: Math.max(0, stale), fresh: Math.max(0, fresh) };
    });
  }
  if (fit.model === 'linear' && fit.slopePerHour !== null) {
    // Loss is linear in the slope, so quantiles of the slope map to quantiles of the loss.
    const se = fit.slopeStdError ?? 0;
    const grid = [-2.5, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5];
    return grid.map((z) => {
      const variant: DecayFit = { ...fit, slopePerHour: fit.slopePerHour as number + z * se * (fit.direction === 'higher-is-better' ? 1 : -1) };
      return {
        weight: Math.exp((-z * z) / 2),
        stale: Math.max(0, directedLoss(variant, nowAge, nowAge + horizon) + offset * horizon),
        fresh: Math.max(0, (freshFit === fit ? directedLoss(variant, 0, horizon) : freshLoss(freshFit)) + offset * horizon),
      };
    });
  }
  return [{ weight: 1, stale: Math.max(0, directedLoss(fit, nowAge, nowAge + horizon) + offset * horizon), fresh: Math.max(0, freshLoss(freshFit) + offset * horizon) }];
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
 * Smallest wait t after which retraining now has paid for itself: the avoidable loss over t
 * (which grows with t, since the current version is always older than a fresh one) reaches the
 * hurdle. Bisection on the point estimate.
 */
function breakEven(fit: DecayFit, freshFit: DecayFit, nowAge: number, rate: number, hurdle: number): number | null {
  if (rate <= 0) return null;
  const avoidable = (t: number): number => rate * (directedLoss(fit, nowAge, nowAge + t) - directedLoss(freshFit, 0, t));
  if (avoidable(MAX_BREAK_EVEN_HOURS) < hurdle) return null;
  let lo = 0;
  let hi = MAX_BREAK_EVEN_HOURS;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (avoidable(mid) >= hurdle) hi = mid;
    else lo = mid;
  }
  return hi;
}

function money(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2);
}

