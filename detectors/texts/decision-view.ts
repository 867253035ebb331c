/**
 * How a stored decision reads, whoever shows it (`halflife decisions`/`explain`, the API, the
 * dashboard): its reason without a repeated kind, and — for a cost-aware decision — the one
 * economics statement, from the recorded numbers and the trigger's recorded inputs. Pure: it
 * reads the record's JSON, so records written before these texts read the same way.
 */
import type { AccumulationFacts, RetrainEconomics } from '../economics/types.ts';
import { displayReason } from './decision-reason.ts';
import { describeEconomics, type EconomicsContext, type EconomicsStatement } from './economics-statement.ts';
import { probeStatement } from './probe-statement.ts';

/** The parts of a decision record these texts read (the repository's `DecisionRecord` fits). */
export interface StoredDecision {
  reason: string;
  statistics?: unknown;
  details?: unknown;
}

export interface DecisionTexts {
  /** The reason as people should read it (stored prefixes such as "retrain: retrain: " removed). */
  reasonText: string;
  /** The economics statement, when the decision carries cost-aware economics. */
  economics: EconomicsStatement | null;
  /** What the decision did with a challenger probe (scored, started, finished or used it); empty when nothing. */
  probe: string[];
}

type Json = Record<string, unknown>;
const object = (v: unknown): Json | null =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null;
const number = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The reason and economics statement of a stored decision. */
export function decisionTexts(d: StoredDecision): DecisionTexts {
  const statistics = object(d.statistics);
  const economics = economicsOf(statistics?.economics);
  return {
    reasonText: displayReason(d.reason),
    economics: economics === null ? null : describeEconomics(economics, economicsContext(d)),
    probe: probeStatement(d.details),
  };
}

/** A recorded economics object, when it has the fields the statement reads. */
export function economicsOf(value: unknown): RetrainEconomics | null {
  const e = object(value);
  if (e === null) return null;
  const inputs = object(e.inputs);
  if (
    typeof e.shouldRetrain !== 'boolean' ||
    typeof e.rule !== 'string' ||
    number(e.retrainCost) === null ||
    number(e.riskCost) === null ||
    number(e.restartValue) === null ||
    inputs === null
  )
    return null;
  return e as unknown as RetrainEconomics;
}

/** What the trigger recorded beside the economics (`details.inputs`) that the statement uses. */
export function economicsContext(d: StoredDecision): EconomicsContext {
  const inputs = object(object(d.details)?.inputs) ?? {};
  const decay = object(object(d.statistics)?.decay);
  const estimate = number(inputs.accumulatedStalenessCost);
  const sd = number(inputs.accumulatedStalenessSd);
  const lowerBound = number(inputs.accumulatedStalenessLowerBound);
  const accumulation: AccumulationFacts | null =
    estimate === null || sd === null || lowerBound === null
      ? null
      : {
          estimate,
          sd,
          lowerBound,
          yardstick: number(inputs.stalenessYardstick) ?? number(inputs.attainableQuality),
        };
  return {
    accumulation,
    cleanTrainingAt: number(inputs.cleanTrainingAt),
    stepAt: number(inputs.stepChangeAt),
    noForecastReason:
      decay !== null && decay.model === 'none' && typeof decay.reason === 'string' ? decay.reason : null,
  };
}
