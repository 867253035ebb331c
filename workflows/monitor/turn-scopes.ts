/**
 * Cancellation scopes that let a long run's turns be garbage-collected.
 *
 * Why: the SDK links every timer, activity, condition and child to the scope it starts in by a
 * handler on that scope's `cancelRequested` promise, and each handler's closure keeps what it was
 * started with (an activity's arguments, a condition's scope). The workflow's root scope is never
 * cancelled, so in a monitor running at the root every handler of every tick stays reachable until
 * the run ends: a heap snapshot of the workflow thread at N = 20 showed each tick's window
 * evaluation, decision record and activity options kept, ~23 kB a monitor a tick, i.e. ~11 MB a
 * monitor by the 500th tick of a run. A settled promise drops its handlers, so each turn of the
 * loop runs in a scope of its own that is cancelled once the turn has finished: nothing of the
 * turn is pending then, so the cancellation issues no command (an activity's, timer's or
 * condition's handler does nothing once it has completed) and replay is unchanged. A released
 * turn still leaves its scope and cancellation error (~3.3 kB, measured at N = 100) on its parent's
 * handlers, so the turns' scopes hang from an epoch scope, itself released every
 * {@link DEFAULT_TURNS_PER_EPOCH} turns: a monitor keeps at most an epoch's turns and one scope per
 * epoch, ~150 kB by the 500th tick of a run instead of ~11 MB.
 *
 * Work that outlives its turn — a child workflow, or the callback on its result — must start in
 * {@link outlivingTurn}: a cancelled turn would otherwise cancel the child, and an activity started
 * from a cancelled scope fails at once.
 */
import { CancellationScope } from '@temporalio/workflow';

/** Turns whose scopes one epoch scope holds before it is released. */
export const DEFAULT_TURNS_PER_EPOCH = 16;

export class TurnScopes {
  readonly #turnsPerEpoch: number;
  #epoch: CancellationScope | null = null;
  #turnsInEpoch = 0;

  /** @param turnsPerEpoch @default {@link DEFAULT_TURNS_PER_EPOCH} */
  constructor(turnsPerEpoch: number = DEFAULT_TURNS_PER_EPOCH) {
    this.#turnsPerEpoch = turnsPerEpoch;
  }

  /**
   * Runs one turn in a scope of its own and releases the scope when the turn returns. A turn that
   * throws keeps its scope: what it started may still be running, and the run is failing anyway.
   */
  async run<T>(turn: () => Promise<T>): Promise<T> {
    const scope = new CancellationScope({ cancellable: true, parent: this.#epochScope() });
    const result = await scope.run(turn);
    scope.cancel();
    this.#turnsInEpoch += 1;
    return result;
  }

  /** The epoch scope for the next turn; a full epoch is released first (every turn in it has finished). */
  #epochScope(): CancellationScope {
    if (this.#epoch && this.#turnsInEpoch >= this.#turnsPerEpoch) {
      this.#epoch.cancel();
      this.#epoch = null;
    }
    if (!this.#epoch) {
      // Created from the loop, at the root: a cancellation of the workflow still reaches every turn.
      this.#epoch = new CancellationScope({ cancellable: true, parent: CancellationScope.current() });
      this.#turnsInEpoch = 0;
    }
    return this.#epoch;
  }
}

/**
 * Starts work that outlives the current turn (a child workflow and the callbacks on its result) in a
 * scope the turn's release does not cancel.
 */
export function outlivingTurn<T>(start: () => Promise<T>): Promise<T> {
  return CancellationScope.nonCancellable(start);
}
