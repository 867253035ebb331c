import { describe, expect, it } from 'vitest';
import { assertPolicyFitsModel } from '../../../operations/policy-fits-model.ts';
import { parsePolicy } from '../../../platform/policy-file.ts';

const policy = (extra: Record<string, unknown>) =>
  parsePolicy({
    name: 'p',
    version: '1',
    model: 'm',
    trigger: { kind: 'threshold', metric: 'accuracy', threshold: 0.8 },
    ...extra,
  }).policy;

describe('a policy against the kind of its model', () => {
  it('a binary model takes any policy without a quality section, or with a binary metric', () => {
    expect(() => assertPolicyFitsModel(policy({}), { kind: 'binary' })).not.toThrow();
    expect(() => assertPolicyFitsModel(policy({ quality: { metric: 'auc' } }), { kind: 'binary' })).not.toThrow();
    expect(() =>
      assertPolicyFitsModel(policy({ quality: { metric: 'rmse', worthlessError: 3 } }), { kind: 'binary' }),
    ).toThrow(
      /policy for m \(a binary model\): quality metric "rmse" does not apply to a binary model: use one of accuracy, auc/,
    );
  });

  it('a multiclass or regression model needs its metric named, and retrains on it like a binary model', () => {
    const multiclass = { kind: 'multiclass' as const, classes: ['a', 'b', 'c'] };
    expect(() => assertPolicyFitsModel(policy({}), multiclass)).toThrow(/names its quality metric/);
    expect(() => assertPolicyFitsModel(policy({ quality: { metric: 'r2' } }), multiclass)).toThrow(
      /use one of accuracy, macro_f1, log_loss/,
    );
    // Retrain trains, shadow-tests and promotes these kinds: no person needs to stand in for it.
    expect(() => assertPolicyFitsModel(policy({ quality: { metric: 'log_loss' } }), multiclass)).not.toThrow();
    const approved = { guards: { approval: { required: true } } };
    expect(() =>
      assertPolicyFitsModel(policy({ quality: { metric: 'log_loss' }, ...approved }), multiclass),
    ).not.toThrow();
    expect(() =>
      assertPolicyFitsModel(policy({ quality: { metric: 'r2' }, trigger: { kind: 'manual' } }), { kind: 'regression' }),
    ).not.toThrow();
  });

  it('a policy file refuses mae or rmse without worthlessError', () => {
    expect(() => policy({ quality: { metric: 'rmse' } })).toThrow(/worthlessError/);
  });
});
