/**
 * Whether a retrain policy fits the kind of model it is for: its quality metric must apply to
 * the model's kind (registry: `halflife models register --kind`), and a multiclass or
 * regression model's policy must name one. Checked when a monitor starts and when its policy is
 * replaced, so a mismatch is refused with the fix rather than found by a silent monitor.
 */
import { policyQualityProblem } from '../detectors/quality/quality-metric.ts';
import type { RetrainPolicy } from '../detectors/policy/types.ts';
import type { ModelKindDeclaration } from '../platform/clickhouse/model-kind-repository.ts';
import { ValidationError } from '../platform/errors.ts';

/** Throws ValidationError naming the problem and the fix when `policy` does not fit a model of `kind`. */
export function assertPolicyFitsModel(
  policy: Pick<RetrainPolicy, 'model' | 'quality'>,
  kind: ModelKindDeclaration,
): void {
  const problem = policyQualityProblem(kind.kind, policy.quality);
  if (problem) throw new ValidationError(`policy for ${policy.model} (a ${kind.kind} model): ${problem}`);
}
