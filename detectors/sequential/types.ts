/**
 * Shared shapes of the one-observation-at-a-time change detectors.
 *
 * Every detector serializes to plain JSON (no Infinity, no NaN, no class instances) so that a
 * Temporal workflow can carry its state across continue-as-new and restore it bit for bit.
 */

/** What every detector reports after one observation. */
export interface SequentialUpdate {
  /** True when this observation completed a change detection. */
  drift: boolean;
  /** Observations the detector has seen since it was created or last reset. */
  observations: number;
}

/** Plain-JSON snapshot of a detector: options plus internal state, versioned for migrations. */
export interface SerializedDetector<Kind extends string, Options, State> {
  kind: Kind;
  version: 1;
  options: Options;
  state: State;
}

/** A detector that can be fed one value at a time and frozen to JSON. */
export interface SequentialDetector<Update extends SequentialUpdate, Snapshot> {
  update(x: number): Update;
  serialize(): Snapshot;
}

/** Throws unless `x` is a finite number: a NaN would silently poison every running sum. */
export function assertFinite(x: number, detector: string): void {
  if (!Number.isFinite(x)) {
    throw new RangeError(`${detector}.update expects a finite number, got ${String(x)}`);
  }
}
