/**
 * The daemon's shutdown: the steps each part registered as it started, run once, last started
 * first. A signal (or several: a terminal's Ctrl-C reaches every process of the group, and npm
 * forwards it again) starts it; later signals only wait for it. Each step has a deadline, so one
 * part that hangs cannot keep the local services it was started after from being stopped.
 */
import type { Logger } from '../platform/logger.ts';

export interface ShutdownStep {
  name: string;
  run: () => Promise<void>;
  /** Longest this step may take before the next one runs. @default the sequence's stepTimeoutMs */
  timeoutMs?: number;
}

export interface ShutdownOptions {
  log: Logger;
  /** Default deadline of each step (ms). @default 60000 */
  stepTimeoutMs?: number;
}

export class ShutdownSequence {
  readonly #steps: ShutdownStep[] = [];
  readonly #log: Logger;
  readonly #stepTimeoutMs: number;
  #stopping: Promise<void> | undefined;

  constructor(options: ShutdownOptions) {
    this.#log = options.log;
    this.#stepTimeoutMs = options.stepTimeoutMs ?? 60_000;
  }

  /** Whether stop() has been called: start-up should start nothing more. */
  get stopping(): boolean {
    return this.#stopping !== undefined;
  }

  /**
   * Register a part to stop. A part registered while stopping (start-up was still under way) is
   * stopped before stop() resolves.
   */
  add(step: ShutdownStep): void {
    this.#steps.push(step);
  }

  /** Run every step once, newest first; every call returns the same promise. */
  stop(): Promise<void> {
    this.#stopping ??= this.#run();
    return this.#stopping;
  }

  async #run(): Promise<void> {
    // Popped one at a time, so a step registered meanwhile is run too.
    for (let step = this.#steps.pop(); step !== undefined; step = this.#steps.pop()) {
      const timeoutMs = step.timeoutMs ?? this.#stepTimeoutMs;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
      try {
        const outcome = await Promise.race([step.run().then(() => 'done' as const), deadline]);
        if (outcome === 'timeout')
          this.#log.error({ part: step.name, timeoutMs }, 'did not stop in time: going on with the next part');
        else this.#log.info({ part: step.name }, 'stopped');
      } catch (err) {
        this.#log.error({ part: step.name, err }, 'failed to stop cleanly');
      } finally {
        clearTimeout(timer);
      }
    }
  }
}

/**
 * Stop on SIGINT, SIGTERM and SIGHUP, then exit 0. Handlers stay installed, so a repeated signal
 * never falls through to Node's default (exit at once, leaving the local services running); it
 * is logged and the shutdown under way goes on. Returns a function that removes the handlers.
 */
export function stopOnSignals(sequence: ShutdownSequence, log: Logger, exit = process.exit): () => void {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  let received = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    received++;
    if (received > 1) {
      log.warn({ signal }, 'already shutting down; the local services this daemon started are stopped last');
      return;
    }
    log.info({ signal }, 'shutting down');
    void sequence.stop().then(() => exit(0));
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
