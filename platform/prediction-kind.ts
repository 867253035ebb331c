/**
 * The check of an event's prediction against its model's declared kind
 * (`halflife models register --kind`): a multiclass model's probabilities name exactly its
 * classes and its predicted class is one of them; a regression model sends its predicted number.
 * And of a label that names its model (`model_id`, optional on labels): a multiclass model's
 * label is one of its classes, a regression model's is a number.
 * The contract (contracts.ts) only checks shape; without this a misspelt class or a missing
 * class would be stored and counted as a wrong prediction in every window after. A model that
 * declared no kind is binary, and binary events are not checked further (clients from before
 * kinds existed keep working).
 */
import type { ScoringEventRow } from './contracts.ts';
import type { ValidationIssue } from './errors.ts';
import type { ModelKindDeclaration } from './clickhouse/model-kind-repository.ts';

/** The declared kind of the model, or undefined when it declares none (binary). */
export type ModelKindLookup = (modelId: string) => ModelKindDeclaration | undefined;

const listed = (classes: readonly string[]) => classes.map((c) => JSON.stringify(c)).join(', ');
const reRegister = (model: string, classes: readonly string[]) =>
  `halflife models register ${model} --kind multiclass --classes ${classes.join(',')}`;

export function predictionKindIssue(
  row: Pick<ScoringEventRow, 'model_id' | 'prediction_class' | 'prediction_value' | 'prediction_probabilities'>,
  declared: ModelKindDeclaration | undefined,
): ValidationIssue | undefined {
  if (!declared || declared.kind === 'binary') return undefined;
  const model = row.model_id;
  if (declared.kind === 'regression')
    return row.prediction_value === null
      ? {
          path: 'prediction.value',
          message: `model ${model} is a regression model: send its predicted number as prediction.value`,
        }
      : undefined;
  const classes = declared.classes;
  const probabilities = row.prediction_probabilities ?? {};
  const named = Object.keys(probabilities);
  if (named.length === 0 && row.prediction_class === null)
    return {
      path: 'prediction',
      message: `model ${model} is a multiclass model (classes ${listed(classes)}): send prediction.probabilities, one entry per class, or at least prediction.class`,
    };
  const declaredSet = new Set(classes);
  if (named.length > 0) {
    const unknown = named.find((c) => !declaredSet.has(c));
    if (unknown !== undefined)
      return {
        path: `prediction.probabilities.${unknown}`,
        message: `class ${JSON.stringify(unknown)} is not one of model ${model}'s classes (${listed(classes)}): fix the class name, or re-declare the classes (${reRegister(model, [...classes, unknown])})`,
      };
    const missing = classes.filter((c) => !(c in probabilities));
    if (missing.length > 0)
      return {
        path: 'prediction.probabilities',
        message: `no probability for ${listed(missing)} of model ${model}'s classes (${listed(classes)}): send one entry per declared class`,
      };
  }
  if (row.prediction_class !== null && !declaredSet.has(row.prediction_class))
    return {
      path: 'prediction.class',
      message: `class ${JSON.stringify(row.prediction_class)} is not one of model ${model}'s classes (${listed(classes)}): fix the class name, or re-declare the classes (${reRegister(model, [...classes, row.prediction_class])})`,
    };
  return undefined;
}

/**
 * Why a label naming `modelId` does not fit the model's declared kind, or undefined: a
 * multiclass model's label must be one of its classes (compared as text: a label sent as the
 * number 2 names the class "2"), a regression model's a JSON number (the contract already
 * refuses a number that is not finite). `label` is the label's value as sent. A model that
 * declared no kind is binary and its labels are not checked further.
 */
export function labelKindIssue(
  modelId: string,
  label: unknown,
  declared: ModelKindDeclaration | undefined,
): ValidationIssue | undefined {
  if (!declared || declared.kind === 'binary') return undefined;
  const sent = JSON.stringify(label);
  if (declared.kind === 'regression') {
    if (typeof label === 'number') return undefined;
    const numeric = typeof label === 'string' && label.trim() !== '' ? Number(label) : Number.NaN;
    const fix = Number.isFinite(numeric)
      ? `send it as a JSON number (${String(numeric)}, not ${sent})`
      : 'send the observed value as a finite JSON number';
    return {
      path: 'label',
      message: `label ${sent} of model ${modelId} is not a number, and ${modelId} is a regression model: ${fix}`,
    };
  }
  const classes = declared.classes;
  const value = String(label);
  if (classes.includes(value)) return undefined;
  return {
    path: 'label',
    message: `label ${sent} is not one of model ${modelId}'s classes (${listed(classes)}): send one of them, or re-declare the classes (${reRegister(modelId, [...classes, value])})`,
  };
}
