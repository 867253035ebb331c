/**
 * The paired per-event losses of a multiclass or regression champion and challenger on the same
 * labelled events, from each side's outputs however they were obtained: re-scored by both
 * versions in a replay, or as the scorer served them live (class probabilities by class name, a
 * predicted number). An event counts only when both sides gave a usable output, so the paired
 * loss verdict (loss-verdict.ts) compares the two models on exactly the same events.
 */
import { argmax } from '../quality/outputs-summary.ts';
import type { LossVerdictMetric } from './loss-verdict.ts';
import { perEventLosses } from './paired-loss.ts';

export type OutcomeKind = 'multiclass' | 'regression';

/** How far a served probability vector's sum may stray from 1 and still be compared. */
export const SERVED_PROBABILITY_SUM_TOLERANCE = 1e-3;

/**
 * A served class-probability map as a vector in the declared classes' order, as served (a replay's
 * re-scored vector is not rescaled either, so both sources give an event the same loss); null when a class is missing, an entry is not in [0, 1], or the sum is off by more than
 * {@link SERVED_PROBABILITY_SUM_TOLERANCE}.
 */
export function probabilityVector(
  probabilities: Readonly<Record<string, number>>,
  classes: readonly string[],
): number[] | null {
  const vector: number[] = [];
  let sum = 0;
  for (const c of classes) {
    const p = probabilities[c];
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) return null;
    vector.push(p);
    sum += p;
  }
  if (classes.length < 2 || Math.abs(sum - 1) > SERVED_PROBABILITY_SUM_TOLERANCE) return null;
  return vector;
}

/** A served numeric prediction as a one-entry output; null when it is not a finite number. */
export function valueOutput(value: number | null | undefined): number[] | null {
  return typeof value === 'number' && Number.isFinite(value) ? [value] : null;
}

/** One labelled event with each side's output: class probabilities in class order, or `[predicted value]`; null when that side gave none. */
export interface OutcomePairInput {
  /** The true class index (multiclass) or the true value (regression). */
  truth: number;
  champion: readonly number[] | null;
  challenger: readonly number[] | null;
}

export interface PairedOutcomes {
  /** Positions in the input of the paired events, in input order. */
  paired: number[];
  truth: number[];
  champion: number[][];
  challenger: number[][];
  /** Each paired event's loss under each side (for accuracy: 1 when wrong, 0 when right). */
  championLosses: number[];
  challengerLosses: number[];
  /** Multiclass: whether each side got each paired event's class right (McNemar). */
  correct?: { champion: boolean[]; challenger: boolean[] };
  /** Events a side gave no usable output for (left out of the pairs). */
  championMissing: number;
  challengerMissing: number;
}

/** Pair the events both sides have outputs for, and take each event's loss under `loss`. */
export function pairOutcomes(
  kind: OutcomeKind,
  loss: LossVerdictMetric,
  events: readonly OutcomePairInput[],
): PairedOutcomes {
  if (kind === 'regression' && (loss === 'logLoss' || loss === 'accuracy'))
    throw new RangeError(`a regression model is compared on squared or absolute error, not ${loss}`);
  if (kind === 'multiclass' && loss !== 'logLoss' && loss !== 'accuracy')
    throw new RangeError(`a multiclass model is compared on log loss or accuracy, not ${loss}`);
  const paired: number[] = [];
  const truth: number[] = [];
  const champion: number[][] = [];
  const challenger: number[][] = [];
  let championMissing = 0;
  let challengerMissing = 0;
  const usable = (output: readonly number[] | null): output is readonly number[] =>
    output !== null &&
    output.length > 0 &&
    output.every((v) => Number.isFinite(v)) &&
    (kind === 'regression' ? output.length === 1 : output.length >= 2);
  events.forEach((e, i) => {
    const a = usable(e.champion);
    const b = usable(e.challenger);
    if (!a) championMissing++;
    if (!b) challengerMissing++;
    if (!a || !b || !Number.isFinite(e.truth)) return;
    paired.push(i);
    truth.push(e.truth);
    champion.push([...(e.champion as readonly number[])]);
    challenger.push([...(e.challenger as readonly number[])]);
  });
  const lossesOf = (outputs: number[][]): number[] =>
    loss === 'accuracy'
      ? outputs.map((p, i) => (argmax(p) === truth[i] ? 0 : 1))
      : loss === 'logLoss'
        ? perEventLosses('logLoss', truth, outputs)
        : perEventLosses(
            loss,
            truth,
            outputs.map((p) => p[0] as number),
          );
  return {
    paired,
    truth,
    champion,
    challenger,
    championLosses: lossesOf(champion),
    challengerLosses: lossesOf(challenger),
    ...(kind === 'multiclass'
      ? {
          correct: {
            champion: champion.map((p, i) => argmax(p) === truth[i]),
            challenger: challenger.map((p, i) => argmax(p) === truth[i]),
          },
        }
      : {}),
    championMissing,
    challengerMissing,
  };
}
