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
  policy: Pick<RetrainPolicy, 'model' | 'quality' | 'trigger' | 'guards'>,
  kind: ModelKindDeclaration,
): void {
  const problem = policyQualityProblem(kind.kind, policy.quality) ?? retrainProblem(policy, kind);
  if (problem) throw new ValidationError(`policy for ${policy.model} (a ${kind.kind} model): ${problem}`);
}

/**
 * The Retrain workflow trains, shadows and promotes binary models only: a multiclass or
 * regression model's retrain decision must reach a person (approval, or the manual trigger)
 * rather than start a binary training run on its labels.
 */
function retrainProblem(policy: Pick<RetrainPolicy, 'trigger' | 'guards'>, kind: ModelKindDeclaration): string | null {
  if (kind.kind === 'binary' || policy.trigger.kind === 'manual' || policy.guards.approval.required) return null;
  return `halflife does not retrain ${kind.kind} models yet: set guards.approval.required: true (a retrain decision then asks a person) or use the manual trigger`;
}
