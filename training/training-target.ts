/**
 * What a model predicts, as training reads its labels: a binary outcome (0/1), one of a
 * multiclass model's declared classes, or a regression model's number. One function turns a
 * stored label into the number every trainer and metric uses (0/1; the class's index in the
 * declared order; the value), and one writes it into the training file (docs/trainers.md): 0/1,
 * the class name, the number.
 */
import type { ModelKindDeclaration } from '../platform/clickhouse/model-kind-repository.ts';

export type TrainingTarget = ModelKindDeclaration;

export const BINARY_TARGET: TrainingTarget = Object.freeze({ kind: 'binary' });

/** A label as 0/1, or null when it is not a binary outcome. */
export function binaryLabel(label: string, numeric: number | null): 0 | 1 | null {
  if (numeric === 0 || numeric === 1) return numeric;
  if (numeric !== null) return null;
  const s = label.trim().toLowerCase();
  if (s === '1' || s === 'true' || s === 'yes' || s === 'positive') return 1;
  if (s === '0' || s === 'false' || s === 'no' || s === 'negative') return 0;
  return null;
}

/**
 * A stored label as the target's number: 0/1 (binary), the class's index in the declared order
 * (multiclass), the value (regression); null when the label does not fit the model's kind (a class
 * the model does not declare, a label that is not a finite number).
 */
export function targetValue(target: TrainingTarget, label: string, numeric: number | null): number | null {
  if (target.kind === 'binary') return binaryLabel(label, numeric);
  if (target.kind === 'multiclass') {
    const index = target.classes.indexOf(label.trim());
    return index >= 0 ? index : null;
  }
  if (numeric !== null && Number.isFinite(numeric)) return numeric;
  const trimmed = label.trim();
  const parsed = trimmed === '' ? Number.NaN : Number(trimmed);
  return Number.isFinite(parsed) ? parsed : null;
}

/** The training file's label cell of a target value: the class name for a multiclass model, else the number. */
export function targetCell(target: TrainingTarget, value: number): number | string {
  return target.kind === 'multiclass' ? (target.classes[value] as string) : value;
}

/** What the model's label column must hold, for error messages. */
export function targetDescription(target: TrainingTarget): string {
  if (target.kind === 'binary') return '0 or 1';
  if (target.kind === 'multiclass') return `one of the declared classes ${target.classes.join(', ')}`;
  return 'a finite number';
}
