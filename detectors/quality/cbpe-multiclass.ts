/**
 * Label-free estimation for multiclass classifiers: confidence-based, one-vs-rest (in the spirit
 * of NannyML's multiclass CBPE).
 *
 * Each class's probability is checked and, when that helps, recalibrated one-vs-rest on the
 * labelled reference exactly as the binary estimator does (cbpe.ts: isotonic when it lowers the
 * cross-fitted ECE); an event's calibrated vector is renormalised to sum to 1 (uniform when every
 * entry is 0). If those probabilities q are calibrated, an event predicted ŷ has true class t with
 * probability q_t, so the *expected* confusion matrix of an unlabelled window is
 * E[C[t][ŷ]] = Σ_{events predicted ŷ} q_t. Accuracy is its diagonal share; macro-F1 comes from its
 * per-class one-vs-rest F1, as for realised counts (multiclass-f1.ts).
 *
 * Intervals are the sampling spread of the *realised* metric if calibration holds: accuracy's is
 * normal (Σ q_ŷ(1 − q_ŷ)/n²); macro-F1's comes from drawing every event's true class from q
 * (seeded, percentile). Like binary CBPE it is blind to concept drift (P(y|x) changing).
 */
import { Random } from '../random.ts';
import { fitCbpe, CBPE_DEFAULTS, type CbpeModel, type CbpeOptions } from './cbpe.ts';
import { twoSidedZ } from './distributions.ts';
import { DEFAULT_BOOTSTRAP_SEED, DEFAULT_CONFIDENCE_LEVEL, percentileInterval } from './intervals.ts';
import { macroF1FromConfusion } from './multiclass-f1.ts';
import { assertProbabilityVector } from './multiclass-log-loss.ts';
import { calibrate } from './recalibration.ts';
import { assertSameLength } from './types.ts';
import type { MetricEstimate } from './types.ts';

export interface MulticlassCbpeOptions extends Pick<
  CbpeOptions,
  'recalibration' | 'maxEce' | 'hosmerLemeshowAlpha' | 'minReferenceSize' | 'eceBins'
> {
  /** @default 0.95 */
  level: number;
  /** Draws of the window's true classes for the macro-F1 interval. @default 200 */
  macroF1Draws: number;
  /** @default 20240611 */
  seed: number;
}

export const MULTICLASS_CBPE_DEFAULTS: Readonly<MulticlassCbpeOptions> = Object.freeze({
  recalibration: CBPE_DEFAULTS.recalibration,
  maxEce: CBPE_DEFAULTS.maxEce,
  hosmerLemeshowAlpha: CBPE_DEFAULTS.hosmerLemeshowAlpha,
  minReferenceSize: CBPE_DEFAULTS.minReferenceSize,
  eceBins: CBPE_DEFAULTS.eceBins,
  level: DEFAULT_CONFIDENCE_LEVEL,
  macroF1Draws: 200,
  seed: DEFAULT_BOOTSTRAP_SEED,
});

/** Everything needed to estimate later windows: plain JSON. */
export interface MulticlassCbpeModel {
  classes: number;
  options: MulticlassCbpeOptions;
  /** One-vs-rest binary CBPE per class: its calibrator and its calibration check. */
  perClass: CbpeModel[];
  trustworthy: boolean;
  reasons: string[];
}

export interface MulticlassCbpeEstimate {
  n: number;
  trustworthy: boolean;
  reasons: string[];
  /** expectedConfusion[t][p]: expected events of true class t predicted p. */
  expectedConfusion: number[][];
  accuracy: MetricEstimate;
  macroF1: MetricEstimate;
}

const argmax = (row: readonly number[]) => row.reduce((best, p, k) => (p > (row[best] as number) ? k : best), 0);

/** Fit on a labelled reference: true class indices and the model's class-probability vectors. */
export function fitMulticlassCbpe(
  referenceTruth: readonly number[],
  referenceProbabilities: readonly (readonly number[])[],
  options: Partial<MulticlassCbpeOptions> = {},
): MulticlassCbpeModel {
  const o: MulticlassCbpeOptions = { ...MULTICLASS_CBPE_DEFAULTS, ...options };
  assertSameLength(referenceTruth, referenceProbabilities, 'fitMulticlassCbpe');
  const classes = referenceProbabilities[0]?.length ?? 0;
  if (classes < 2)
    throw new RangeError(
      `fitMulticlassCbpe needs class-probability vectors with at least 2 entries (got ${classes}); pass one vector per reference event`,
    );
  referenceProbabilities.forEach((row, i) => {
    if (row.length !== classes)
      throw new RangeError(`reference event ${i} has ${row.length} class probabilities, not ${classes}`);
    assertProbabilityVector(row, `reference event ${i}'s class probabilities`);
  });
  const perClass = Array.from({ length: classes }, (_, k) =>
    fitCbpe(
      referenceTruth.map((t) => (t === k ? 1 : 0)),
      referenceProbabilities.map((row) => row[k] as number),
      {
        recalibration: o.recalibration,
        maxEce: o.maxEce,
        hosmerLemeshowAlpha: o.hosmerLemeshowAlpha,
        minReferenceSize: o.minReferenceSize,
        eceBins: o.eceBins,
        level: o.level,
      },
    ),
  );
  const reasons = perClass.flatMap((m, k) => m.check.reasons.map((r) => `class ${k}: ${r}`));
  return { classes, options: o, perClass, trustworthy: perClass.every((m) => m.check.trustworthy), reasons };
}

/** The calibrated, renormalised probability vector of one event. */
export function calibratedClassProbabilities(model: MulticlassCbpeModel, probabilities: readonly number[]): number[] {
  const q = probabilities.map((p, k) => calibrate(model.perClass[k]!.calibrator, p));
  const sum = q.reduce((a, b) => a + b, 0);
  return sum > 0 ? q.map((x) => x / sum) : q.map(() => 1 / model.classes);
}

/**
 * Estimate accuracy and macro-F1 of an unlabelled window. `predicted` is the class the model
 * served for each event (@default the largest probability).
 */
export function estimateMulticlassCbpe(
  model: MulticlassCbpeModel,
  probabilities: readonly (readonly number[])[],
  predicted?: readonly number[],
): MulticlassCbpeEstimate {
  const k = model.classes;
  const n = probabilities.length;
  if (predicted !== undefined) assertSameLength(probabilities, predicted, 'estimateMulticlassCbpe');
  const expected = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const calibrated: number[][] = [];
  const served: number[] = [];
  let correct = 0;
  let varianceSum = 0;
  probabilities.forEach((row, i) => {
    if (row.length !== k) throw new RangeError(`event ${i} has ${row.length} class probabilities, not ${k}`);
    assertProbabilityVector(row, `event ${i}'s class probabilities`);
    const yHat = predicted?.[i] ?? argmax(row);
    if (!(Number.isInteger(yHat) && yHat >= 0 && yHat < k))
      throw new RangeError(`event ${i}'s predicted class ${String(yHat)} is not a class index in [0, ${k - 1}]`);
    const q = calibratedClassProbabilities(model, row);
    for (let t = 0; t < k; t++) expected[t]![yHat]! += q[t] as number;
    const right = q[yHat] as number;
    correct += right;
    varianceSum += right * (1 - right);
    calibrated.push(q);
    served.push(yHat);
  });
  const level = model.options.level;
  if (n === 0) {
    const empty: MetricEstimate = { value: null, n: 0, interval: null, note: 'no events' };
    return {
      n,
      trustworthy: model.trustworthy,
      reasons: [...model.reasons],
      expectedConfusion: expected,
      accuracy: empty,
      macroF1: empty,
    };
  }
  const accuracy = correct / n;
  const half = (twoSidedZ(level) * Math.sqrt(varianceSum)) / n;

  // The realised macro-F1's spread if calibration holds: draw each event's true class from q.
  const random = new Random(model.options.seed);
  const draw = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const replicates: (number | null)[] = [];
  for (let b = 0; b < model.options.macroF1Draws; b++) {
    for (const row of draw) row.fill(0);
    for (let i = 0; i < n; i++) {
      const q = calibrated[i] as number[];
      const u = random.next();
      let t = 0;
      let cumulative = q[0] as number;
      while (u >= cumulative && t < k - 1) cumulative += q[++t] as number;
      draw[t]![served[i] as number]! += 1;
    }
    replicates.push(macroF1FromConfusion(draw));
  }
  return {
    n,
    trustworthy: model.trustworthy,
    reasons: [...model.reasons],
    expectedConfusion: expected,
    accuracy: {
      value: accuracy,
      n,
      interval: { lower: Math.max(0, accuracy - half), upper: Math.min(1, accuracy + half), level, method: 'normal' },
    },
    macroF1: { value: macroF1FromConfusion(expected), n, ...percentileInterval(replicates, level) },
  };
}
