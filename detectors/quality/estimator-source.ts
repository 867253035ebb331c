/**
 * Which labelled rows a multiclass or regression version's label-free estimator is fitted on.
 *
 * A version's estimator is fitted on its own labelled events in its reference's window. A version
 * that a retrain trained and promoted has none: its reference is its training snapshot, whose
 * events carry the outputs of the version that served them. What it does have is its outputs on
 * the snapshot's held-out rows, scored at validation with their labels — the same (outputs,
 * label) pairs the estimator needs, from rows the version never trained on. So: the version's own
 * events when they are enough; else whichever of the two sources has more rows; the estimate's
 * reasons name the source, and a source below the estimator's minimum is said to be one.
 */

/** What the estimator was fitted on, recorded with every estimate it makes. */
export type EstimatorFit =
  | {
      source: 'reference-events';
      /** Labelled events of `version` in the reference's window that the estimator was fitted on. */
      rows: number;
      /** The version whose outputs they are ('' for all versions). */
      version: string;
    }
  | {
      source: 'validation-holdout';
      /** Held-out snapshot rows the estimator was fitted on. */
      rows: number;
      /** The version that scored them at validation. */
      version: string;
      /** The training snapshot they were held out of (null when unknown). */
      snapshotId: string | null;
    };

export interface EstimatorSourceInput {
  /** Labelled events of the version in the reference's window (as many as were read). */
  own: number;
  /** The version's stored held-out rows scored at validation. */
  holdout: number;
  /** Rows the estimator needs to be trusted (500 for CBPE, 1,000 for DLE). */
  minimum: number;
}

/**
 * The source to fit on: the version's own events when they reach the minimum; otherwise the
 * held-out rows when there are more of them; otherwise the own events when there are any; null
 * when neither has a row.
 */
export function chooseEstimatorSource(input: EstimatorSourceInput): EstimatorFit['source'] | null {
  if (input.own >= input.minimum) return 'reference-events';
  if (input.holdout > input.own) return 'validation-holdout';
  return input.own > 0 ? 'reference-events' : null;
}

/** "1,240": a count as people read it, in the CLI's form (en-US grouping, whatever the process's locale). */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/**
 * The reasons line naming the source an estimator of `method` was fitted on, and, below the
 * minimum, that it is too few: "CBPE fitted on 1,240 held-out snapshot rows scored by v3 at
 * validation (snapshot snap-…)".
 */
export function estimatorFitReasons(fit: EstimatorFit, method: 'CBPE' | 'DLE', minimum: number): string[] {
  const rows = formatCount(fit.rows);
  const line =
    fit.source === 'validation-holdout'
      ? `${method} fitted on ${rows} held-out snapshot rows scored by ${fit.version} at validation${
          fit.snapshotId ? ` (snapshot ${fit.snapshotId})` : ''
        }: the version has no labelled events of its own in its reference yet`
      : `${method} fitted on ${rows} labelled events${fit.version ? ` of version ${fit.version}` : ''} in the reference's window`;
  if (fit.rows >= minimum) return [line];
  const short =
    fit.source === 'validation-holdout'
      ? `the version's ${rows} held-out rows are fewer than the ${formatCount(minimum)} ${method} needs to be trusted`
      : `${rows} labelled events are fewer than the ${formatCount(minimum)} ${method} needs to be trusted`;
  return [line, short];
}

/** Why no estimator could be fitted: neither source has a usable row. */
export function noEstimatorReason(method: 'CBPE' | 'DLE', what: string, version: string): string {
  const of = version === '' ? '' : ` of version ${version}`;
  const holdout = version === '' ? '' : `, and no held-out snapshot rows were scored by ${version} at validation`;
  return `no ${method} estimator: the reference has no labelled events ${what}${of}${holdout}`;
}
