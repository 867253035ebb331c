/**
 * A benchmark's stop request: the first SIGINT or SIGTERM asks the run to end early — start
 * nothing more (no registration, no monitor start), stop the load generator, report what was
 * measured, stop the daemon. Later signals are only logged, so the daemon's own stop is never cut
 * short by a second Ctrl-C.
 */
export class RunStop {
  #reason: string | undefined;
  readonly #reactions: (() => unknown)[] = [];
  #resolve!: () => void;
  /** Resolves at the first request. */
  readonly requested: Promise<void> = new Promise<void>((resolve) => (this.#resolve = resolve));

  constructor(private readonly log: (line: string) => void) {}

  get stopping(): boolean {
    return this.#reason !== undefined;
  }

  /** Why the run was asked to end, once it was. */
  get reason(): string | undefined {
    return this.#reason;
  }

  /** Ask the run to end; only the first request counts. */
  request(reason: string): void {
    if (this.#reason !== undefined) {
      this.log(`${reason}: already stopping — the daemon and its services are being stopped`);
      return;
    }
    this.#reason = reason;
    this.log(`${reason}: ending the run early; the report covers what was measured so far`);
    this.#resolve();
    for (const react of this.#reactions.splice(0)) void Promise.resolve().then(react);
  }

  /** Run `react` at the first request (at once, if it was already made). */
  onStop(react: () => unknown): void {
    if (this.stopping) void Promise.resolve().then(react);
    else this.#reactions.push(react);
  }

  /** Turn the first SIGINT or SIGTERM into a request. Returns a function that removes the handlers. */
  onSignals(signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM']): () => void {
    const handler = (signal: NodeJS.Signals) => this.request(signal);
    for (const signal of signals) process.on(signal, handler);
    return () => {
      for (const signal of signals) process.off(signal, handler);
    };
  }
}

/**
 * Run `task(i)` for i in [0, n), `concurrency` at a time; once `stop` is requested no task is
 * started (those running finish). Returns how many tasks were started.
 */
export async function inPool(
  n: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
  stop?: RunStop,
): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < n && !stop?.stopping) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, n)) }, worker));
  return next;
}
