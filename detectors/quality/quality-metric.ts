/**
 * The quality metric a monitor tracks, by the kind of model, and how each becomes the monitor's
 * *quality*: a number in [0, 1] where higher is better.
 *
 * Why one bounded orientation: everything after the window's measurement — the SLO comparison,
 * the decay fit (its fresh quality and floor are bounded by the metric's range), the attainable
 * quality, the change detector (drops), the economics (staleness cost = value × events ×
 * quality lost, with binomial standard errors on quality) and health — reads quality as a share
 * in [0, 1] that falls as a model goes stale. Carrying a direction through all of them would
 * change every rule; a monotone transform changes none, and the transform is stated with each
 * value (the metric's own figure is kept beside it):
 *
 * - accuracy, macro_f1, auc: already in [0, 1], higher is better — quality is the metric;
 * - log_loss (lower is better): quality = exp(−log loss), the geometric mean of the probability
 *   the model gave the true class (1 for a perfect model, 1/K for a uniform guess over K classes);
 * - r2: quality = R² clipped to [0, 1] (a model no better than predicting the mean scores 0);
 * - mae, rmse (lower is better, in the target's units): quality = 1 − error / worthlessError,
 *   clipped to [0, 1], where `worthlessError` (the policy's `quality.worthlessError`) is the error
 *   at which the model is of no use, e.g. the error of always predicting the mean. Quality is
 *   then linear in the error, so the cost-aware trigger's `valuePerQualityUnit` is the money lost
 *   per event per `worthlessError` of extra error.
 *
 * A threshold or SLO written in the metric's own units is converted by {@link qualityOfMetric}.
 */

export type ModelKind = 'binary' | 'multiclass' | 'regression';

export const BINARY_METRICS = ['accuracy', 'auc'] as const;
export const MULTICLASS_METRICS = ['accuracy', 'macro_f1', 'log_loss'] as const;
export const REGRESSION_METRICS = ['mae', 'rmse', 'r2'] as const;

export type BinaryMetric = (typeof BINARY_METRICS)[number];
export type MulticlassMetric = (typeof MULTICLASS_METRICS)[number];
export type RegressionMetric = (typeof REGRESSION_METRICS)[number];
export type QualityMetric = BinaryMetric | MulticlassMetric | RegressionMetric;

export const QUALITY_METRICS: readonly QualityMetric[] = [
  ...new Set<QualityMetric>([...BINARY_METRICS, ...MULTICLASS_METRICS, ...REGRESSION_METRICS]),
];

/** The metrics a model of `kind` can be monitored on. */
export function metricsOfKind(kind: ModelKind): readonly QualityMetric[] {
  return kind === 'binary' ? BINARY_METRICS : kind === 'multiclass' ? MULTICLASS_METRICS : REGRESSION_METRICS;
}

/** The metric a model of `kind` is monitored on when its policy names none. */
export function defaultMetricOf(kind: ModelKind): QualityMetric {
  return kind === 'regression' ? 'rmse' : 'accuracy';
}

/** Whether the metric's own figure falls as the model improves. */
export function isLossMetric(metric: QualityMetric): boolean {
  return metric === 'log_loss' || metric === 'mae' || metric === 'rmse';
}

/** Whether the metric is computed from the window's outcome sums (multiclass or regression), not the score histogram. */
export function isBeyondBinary(metric: string): metric is 'macro_f1' | 'log_loss' | RegressionMetric {
  return metric === 'macro_f1' || metric === 'log_loss' || metric === 'mae' || metric === 'rmse' || metric === 'r2';
}

/**
 * Why `metric` cannot be used for a model of `kind` (with the metrics that can), or null when it
 * can. `worthlessError` is required for mae and rmse (see the module comment).
 */
export function metricProblem(kind: ModelKind, metric: string, worthlessError?: number | null): string | null {
  const allowed = metricsOfKind(kind);
  if (!(allowed as readonly string[]).includes(metric))
    return `quality metric "${metric}" does not apply to a ${kind} model: use one of ${allowed.join(', ')}`;
  if ((metric === 'mae' || metric === 'rmse') && !(worthlessError !== undefined && worthlessError !== null))
    return `quality metric "${metric}" needs quality.worthlessError: the ${metric} (in the target's units) at which the model is of no use, e.g. the spread of the target`;
  if (
    worthlessError !== undefined &&
    worthlessError !== null &&
    !(worthlessError > 0 && Number.isFinite(worthlessError))
  )
    return `quality.worthlessError must be a positive number, got ${String(worthlessError)}`;
  return null;
}

/** The monitor's quality (in [0, 1], higher is better) of a figure of `metric` in its own units. */
export function qualityOfMetric(metric: QualityMetric, value: number, worthlessError?: number | null): number {
  switch (metric) {
    case 'log_loss':
      return Math.exp(-Math.max(0, value));
    case 'r2':
      return clamp01(value);
    case 'mae':
    case 'rmse': {
      const scale = worthlessError ?? null;
      if (scale === null || !(scale > 0)) throw new RangeError(`${metric} needs a positive worthlessError`);
      return clamp01(1 - value / scale);
    }
    default:
      return value;
  }
}

/** How the metric's figure becomes quality, in words (recorded with decisions). */
export function qualityTransformText(metric: QualityMetric, worthlessError?: number | null): string {
  switch (metric) {
    case 'log_loss':
      return 'quality = exp(−log loss)';
    case 'r2':
      return 'quality = R² clipped to [0, 1]';
    case 'mae':
    case 'rmse':
      return `quality = 1 − ${metric} / ${String(worthlessError)} (clipped to [0, 1])`;
    default:
      return `quality = ${metric}`;
  }
}

/**
 * A metric interval in quality units: the transform is monotone, so the bounds map to bounds
 * (swapped for a loss).
 */
export function qualityInterval(
  metric: QualityMetric,
  interval: { lower: number; upper: number },
  worthlessError?: number | null,
): { lower: number; upper: number } {
  const a = qualityOfMetric(metric, interval.lower, worthlessError);
  const b = qualityOfMetric(metric, interval.upper, worthlessError);
  return { lower: Math.min(a, b), upper: Math.max(a, b) };
}

function clamp01(v: number): number {
  return Math.min(1, Math.max(0, v));
}

/** Why a kind declaration is invalid (naming the fix), or null: a multiclass model lists at least two distinct classes, other kinds none. */
export function kindDeclarationProblem(kind: string, classes: readonly string[]): string | null {
  if (kind !== 'binary' && kind !== 'multiclass' && kind !== 'regression')
    return `model kind "${kind}" is not one of binary, multiclass, regression`;
  if (kind !== 'multiclass')
    return classes.length > 0 ? `a ${kind} model has no class list: drop the classes or declare it multiclass` : null;
  if (classes.length < 2) return 'a multiclass model lists its classes, at least two (e.g. --classes cat,dog,bird)';
  if (new Set(classes).size !== classes.length) return `the class list repeats a class: ${classes.join(', ')}`;
  if (classes.some((c) => c.length === 0)) return 'a class name is empty';
  return null;
}

/**
 * Why a policy's quality section does not fit the model's kind, or null. A multiclass or
 * regression model's policy must name its metric (the monitor would otherwise fall back to a
 * default the team did not choose, and challenger probes measure the gap in the named metric).
 */
export function policyQualityProblem(
  kind: ModelKind,
  quality: { metric: string; worthlessError?: number } | undefined,
): string | null {
  if (quality === undefined)
    return kind === 'binary'
      ? null
      : `a ${kind} model's policy names its quality metric: add quality: { metric: ${metricsOfKind(kind).join(' | ')} }`;
  return metricProblem(kind, quality.metric, quality.worthlessError);
}
