import { describe, expect, it } from 'vitest';
import { validateScoringEvent } from '../../../platform/contracts.ts';
import { labelKindIssue, predictionKindIssue } from '../../../platform/prediction-kind.ts';
import { prepareRecord } from '../../../workers/ingest/prepare-record.ts';

const rowWith = (prediction: Record<string, unknown>) => {
  const v = validateScoringEvent(
    {
      event_id: 'e1',
      model_id: 'm',
      model_version: 'v1',
      timestamp: Date.UTC(2026, 10, 1),
      features: { x: 1 },
      prediction,
    },
    { source: 'http', ref: 'test' },
  );
  if (!v.ok) throw new Error(v.reason);
  return v.value;
};
const multiclass = { kind: 'multiclass' as const, classes: ['cat', 'dog', 'bird'] };

describe("an event's prediction against its model's declared kind", () => {
  it('leaves undeclared and binary models to the contract alone', () => {
    expect(predictionKindIssue(rowWith({ class: 'anything' }), undefined)).toBeUndefined();
    expect(predictionKindIssue(rowWith({ value: 3 }), { kind: 'binary' })).toBeUndefined();
  });

  it('takes a multiclass event whose probabilities name exactly the classes, or whose class is one of them', () => {
    expect(
      predictionKindIssue(rowWith({ probabilities: { bird: 0.2, cat: 0.5, dog: 0.3 } }), multiclass),
    ).toBeUndefined();
    expect(predictionKindIssue(rowWith({ class: 'dog' }), multiclass)).toBeUndefined();
    expect(
      predictionKindIssue(rowWith({ probabilities: { bird: 0.2, cat: 0.5, dog: 0.3 }, class: 'cat' }), multiclass),
    ).toBeUndefined();
  });

  it('names the class it does not know, the class it misses, and how to fix each', () => {
    expect(predictionKindIssue(rowWith({ probabilities: { cat: 0.5, dgo: 0.3, bird: 0.2 } }), multiclass)).toEqual({
      path: 'prediction.probabilities.dgo',
      message: expect.stringMatching(
        /^class "dgo" is not one of model m's classes \("cat", "dog", "bird"\): fix the class name, or re-declare the classes \(halflife models register m --kind multiclass --classes cat,dog,bird,dgo\)$/,
      ),
    });
    expect(predictionKindIssue(rowWith({ probabilities: { cat: 0.5, dog: 0.5 } }), multiclass)?.message).toMatch(
      /^no probability for "bird" of model m's classes/,
    );
    expect(predictionKindIssue(rowWith({ class: 'fish' }), multiclass)?.path).toBe('prediction.class');
    expect(predictionKindIssue(rowWith({ score: 0.4 }), multiclass)?.message).toContain(
      'send prediction.probabilities, one entry per class, or at least prediction.class',
    );
  });

  it('asks a regression event for its predicted number', () => {
    expect(predictionKindIssue(rowWith({ value: -2.5 }), { kind: 'regression' })).toBeUndefined();
    expect(predictionKindIssue(rowWith({ score: 0.4 }), { kind: 'regression' })).toEqual({
      path: 'prediction.value',
      message: 'model m is a regression model: send its predicted number as prediction.value',
    });
  });
});

describe("a label naming its model, against the model's declared kind", () => {
  const label = (fields: Record<string, unknown>) => ({
    event_id: 'e1',
    timestamp: Date.UTC(2026, 10, 1),
    ...fields,
  });
  const kinds = (modelId: string) =>
    modelId === 'grades' ? multiclass : modelId === 'price' ? ({ kind: 'regression' } as const) : undefined;
  const prepare = (fields: Record<string, unknown>) =>
    prepareRecord(
      {
        source: 'http',
        topic: '',
        partition: -1,
        offset: '-1',
        key: null,
        value: Buffer.from(JSON.stringify(label(fields))),
        ref: 'test',
        parsed: { value: label(fields) },
      },
      'labels',
      { kinds },
    );

  it('takes a declared class, a regression number, and any label of a binary or undeclared model', () => {
    expect(labelKindIssue('grades', 'dog', multiclass)).toBeUndefined();
    expect(labelKindIssue('price', -3.25, { kind: 'regression' })).toBeUndefined();
    expect(labelKindIssue('m', 'anything', undefined)).toBeUndefined();
    expect(labelKindIssue('m', 'anything', { kind: 'binary' })).toBeUndefined();
    // A number names the class of the same text.
    expect(labelKindIssue('digits', 2, { kind: 'multiclass', classes: ['1', '2'] })).toBeUndefined();
  });

  it('names the value, the classes and the fix for a class the model does not declare', () => {
    expect(labelKindIssue('grades', 'fish', multiclass)).toEqual({
      path: 'label',
      message:
        'label "fish" is not one of model grades\'s classes ("cat", "dog", "bird"): send one of them, or re-declare the classes (halflife models register grades --kind multiclass --classes cat,dog,bird,fish)',
    });
  });

  it('names the value and the fix for a regression label that is not a number', () => {
    expect(labelKindIssue('price', '12.5', { kind: 'regression' })?.message).toBe(
      'label "12.5" of model price is not a number, and price is a regression model: send it as a JSON number (12.5, not "12.5")',
    );
    expect(labelKindIssue('price', true, { kind: 'regression' })?.message).toContain(
      'send the observed value as a finite JSON number',
    );
    expect(labelKindIssue('price', 'n/a', { kind: 'regression' })?.path).toBe('label');
  });

  it('dead-letters at ingest a label naming its model that does not fit it; stores one that does or names none', () => {
    const dead = prepare({ model_id: 'grades', label: 'fish' });
    expect(dead.kind).toBe('dead');
    if (dead.kind !== 'dead') return;
    expect(dead.row.reason).toMatch(/^label: label "fish" is not one of model grades's classes/);
    expect(dead.row.error_path).toBe('label');
    // A label's dead letter does not count in the model's (events') dead-letter rate.
    expect(dead.row.model_id).toBe('');
    expect(prepare({ model_id: 'price', label: '12.5' }).kind).toBe('dead');
    const stored = prepare({ model_id: 'grades', label: 'dog' });
    expect(stored.kind).toBe('label');
    if (stored.kind === 'label') expect(stored.row).not.toHaveProperty('model_id');
    expect(prepare({ model_id: 'price', label: 12.5 }).kind).toBe('label');
    // Without model_id nothing says which model: the label is stored as before.
    expect(prepare({ label: 'fish' }).kind).toBe('label');
    // A model_id that is not an identifier is the contract's to refuse.
    expect(prepare({ model_id: 'no spaces', label: 'dog' }).kind).toBe('dead');
  });
});
