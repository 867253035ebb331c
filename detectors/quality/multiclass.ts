/** Multiclass accuracy with a Wilson interval (= sklearn accuracy_score). */
import { DEFAULT_CONFIDENCE_LEVEL, wilsonInterval } from './intervals.ts';
import { assertSameLength } from './types.ts';
import type { MetricEstimate } from './types.ts';

export function multiclassAccuracy(
  truth: readonly (string | number)[],
  predicted: readonly (string | number)[],
  level = DEFAULT_CONFIDENCE_LEVEL,
): MetricEstimate {
  assertSameLength(truth, predicted, 'multiclassAccuracy');
  const n = truth.length;
  if (n === 0) return { value: null, n, interval: null, note: 'no events' };
  let correct = 0;
  for (let i = 0; i < n; i++) if (truth[i] === predicted[i]) correct += 1;
  return { value: correct / n, n, interval: wilsonInterval(correct, n, level) };
}
