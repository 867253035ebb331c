/**
 * Training a version on a training window's labelled rows, as every kind does: every k-th row
 * (k = 1/validationShare) is held out to measure the fresh version's quality, the rest train it.
 */
import type { HistoryRow } from './history-row.ts';
import type { Training } from './kind.ts';

/** Fewest labelled rows a training window needs. */
export const MIN_TRAINING_ROWS = 20;

/** What differs by kind: the class check, the fit, a prediction and quality. */
export interface HoldoutTrainer<Row extends HistoryRow<Prediction, Label>, Prediction, Label, Model> {
  /** Why the training rows cannot train a model of the kind (a single class), or null. */
  singleClass(train: readonly Row[]): string | null;
  fit(train: readonly Row[]): Model;
  predict(model: Model, row: Row): Prediction;
  quality(predictions: readonly Prediction[], labels: readonly (Label | null)[]): number | null;
}

export function trainWithHoldout<Row extends HistoryRow<Prediction, Label>, Prediction, Label, Model>(
  rows: readonly Row[],
  validationShare: number,
  trainer: HoldoutTrainer<Row, Prediction, Label, Model>,
): Training<Model> {
  const labelled = rows.filter((r) => r.label !== null);
  if (labelled.length < MIN_TRAINING_ROWS)
    return { error: `only ${labelled.length} labelled rows in the training window (need ${MIN_TRAINING_ROWS})` };
  const every = validationShare > 0 ? Math.max(2, Math.round(1 / validationShare)) : 0;
  const train: Row[] = [];
  const holdout: Row[] = [];
  labelled.forEach((r, i) => (every > 0 && i % every === every - 1 ? holdout : train).push(r));
  const problem = trainer.singleClass(train);
  if (problem !== null) return { error: problem };
  let model: Model;
  try {
    model = trainer.fit(train);
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
  const check = holdout.length > 0 ? holdout : train;
  const freshQuality = trainer.quality(
    check.map((r) => trainer.predict(model, r)),
    check.map((r) => r.label),
  );
  return { model, freshQuality, trainingRows: train.length, validationRows: holdout.length };
}
