import { describe, expect, it } from 'vitest';
import { validateScoringEvent } from '../../../platform/contracts.ts';
import { predictionKindIssue } from '../../../platform/prediction-kind.ts';

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
