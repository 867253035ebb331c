/**
 * The segment SLO rule in the retrain decision: a breach (evaluate-segments.ts) names the
 * segments in the decision's inputs and, when the policy's `segments.slo.action` is `retrain`,
 * fires the trigger like any other (the guards still apply: a breach does not skip cooldown,
 * budget, data quality or approval).
 */
import type { DecisionValue } from '../policy/state.ts';
import type { SegmentPolicy, SegmentSloBreach } from './types.ts';

/**
 * The breaches in words: `country=DE at 0.712 (n=412, upper 0.748) below 0.8`; a quality derived
 * from another metric names it: `country=DE at 0.412 (log_loss 0.887, n=412, upper 0.448) below 0.5`.
 */
export function segmentSloStatement(breaches: readonly SegmentSloBreach[]): string {
  return breaches
    .map((b) => {
      const figure = b.figure ? `${b.figure.metric} ${b.figure.value.toFixed(3)}, ` : '';
      return `${b.segment} at ${b.value.toFixed(3)} (${figure}n=${b.n}, upper ${b.upper.toFixed(3)}) below ${b.slo}`;
    })
    .join(', ');
}

/** What a trigger outcome becomes with the segment SLO rule applied (the input is not modified). */
export function withSegmentSlo<T extends { fired: boolean; reason: string; inputs: Record<string, DecisionValue> }>(
  outcome: T,
  policy: SegmentPolicy | undefined,
  breaches: readonly SegmentSloBreach[] | null | undefined,
): T {
  if (!policy?.slo || !breaches || breaches.length === 0) return outcome;
  const statement = `segment quality below its SLO: ${segmentSloStatement(breaches)}`;
  const inputs = {
    ...outcome.inputs,
    segmentSloBreaches: breaches.map((b) => b.segment).join(','),
    segmentSlo: policy.slo.min,
  };
  if (policy.slo.action === 'retrain' && !outcome.fired)
    return { ...outcome, fired: true, reason: `${statement} (policy trigger: ${outcome.reason})`, inputs };
  return { ...outcome, reason: `${outcome.reason}; ${statement}`, inputs };
}
