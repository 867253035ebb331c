/**
 * The daemon's shutdown: the steps each part registered as it started, run once, last started
 * first. A signal (or several: a terminal's Ctrl-C reaches every process of the group, and npm
 * forwards it again) starts it; later signals only wait for it. Each step has a deadline, so one
 * part that hangs cannot keep the local services it was started after from being stopped.
 */
import type { Logger } from '../platform/logger.ts';

export interface ShutdownStep {
  name: string;
  /** Stop the part. Resolves 'escalated' when the part had to be forced (e.g. a child SIGKILLed). */
  run: () => Promise<void | 'escalated'>;
  /** Longest this step may take before the next one runs. @default the sequence's stepTimeoutMs */
  timeoutMs?: number;
  /**
   * Synchronous last resort, called when run() missed its deadline or the whole stop ran out of
   * time before the step ran: a child spawned detached would otherwise outlive this process.
   * @default none (the part lives in this process and ends with it)
   */
  kill?: () => void;
}

export interface ShutdownOptions {
  log: Logger;
  /** Default deadline of each step (ms). @default 60000 */
  stepTimeoutMs?: number;
  /**
   * Deadline of the whole stop (ms): past it, every step not yet done is killed (its `kill`) and
   * stop() resolves. Under systemd's default stop timeout (90 s), so the caller's own SIGKILL
   * does not come first and leave the local services running. @default 80000
   */
  deadlineMs?: number;
}

/** What went wrong while stopping one part. */
export interface StepFailure {
  part: string;
  /** `timeout`: missed its deadline (then killed); `error`: threw; `escalated`: had to be forced; `not-run`: the whole stop's deadline came first (killed). */
  reason: 'timeout' | 'error' | 'escalated' | 'not-run';
}

/** How the stop went: clean when no step failed. */
export interface ShutdownOutcome {
  clean: boolean;
  failures: StepFailure[];
}

interface RunState {
  /** The whole stop's deadline passed: the steps left were killed. */
  over: boolean;
  /** The step under way (taken off the list): the whole stop's deadline kills it with those not yet run. */
  current: ShutdownStep | undefined;
}

export class ShutdownSequence {
  readonly #steps: ShutdownStep[] = [];
  readonly #log: Logger;
  readonly #stepTimeoutMs: number;
  readonly #deadlineMs: number;
  #stopping: Promise<ShutdownOutcome> | undefined;

  constructor(options: ShutdownOptions) {
    this.#log = options.log;
    this.#stepTimeoutMs = options.stepTimeoutMs ?? 60_000;
    this.#deadlineMs = options.deadlineMs ?? 80_000;
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
  stop(): Promise<ShutdownOutcome> {
    this.#stopping ??= this.#runWithin();
    return this.#stopping;
  }

  async #runWithin(): Promise<ShutdownOutcome> {
    const failures: StepFailure[] = [];
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>(
      (resolve) => (timer = setTimeout(() => resolve('deadline'), this.#deadlineMs)),
    );
    const state: RunState = { over: false, current: undefined };
    try {
      const outcome = await Promise.race([this.#run(failures, state), deadline]);
      if (outcome === 'deadline') {
        state.over = true;
        // The step under way and every one not yet run: services among them are SIGKILLed here.
        const left = [...(state.current ? [state.current] : []), ...this.#steps.splice(0).reverse()];
        this.#log.error(
          { deadlineMs: this.#deadlineMs, parts: left.map((s) => s.name) },
          'the stop ran out of time: killing the parts not yet stopped',
        );
        for (const step of left) {
          failures.push({ part: step.name, reason: step === state.current ? 'timeout' : 'not-run' });
          this.#kill(step);
        }
      }
    } finally {
      clearTimeout(timer);
    }
    return { clean: failures.length === 0, failures };
  }

  async #run(failures: StepFailure[], state: RunState): Promise<void> {
    // Popped one at a time, so a step registered meanwhile is run too.
    for (let step = this.#steps.pop(); step !== undefined && !state.over; step = this.#steps.pop()) {
      state.current = step;
      const timeoutMs = step.timeoutMs ?? this.#stepTimeoutMs;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
      try {
        const outcome = await Promise.race([step.run().then((r) => r ?? ('done' as const)), deadline]);
        if (state.over) return;
        if (outcome === 'timeout') {
          this.#log.error({ part: step.name, timeoutMs }, 'did not stop in time: going on with the next part');
          failures.push({ part: step.name, reason: 'timeout' });
          this.#kill(step);
        } else if (outcome === 'escalated') {
          this.#log.warn({ part: step.name }, 'stopped by force');
          failures.push({ part: step.name, reason: 'escalated' });
        } else this.#log.info({ part: step.name }, 'stopped');
      } catch (err) {
        if (state.over) return;
        this.#log.error({ part: step.name, err }, 'failed to stop cleanly');
        failures.push({ part: step.name, reason: 'error' });
        this.#kill(step);
      } finally {
        clearTimeout(timer);
        state.current = undefined;
      }
    }
  }

  #kill(step: ShutdownStep): void {
    if (!step.kill) return;
    try {
      step.kill();
      this.#log.warn({ part: step.name }, 'killed');
    } catch (err) {
      this.#log.error({ part: step.name, err }, 'could not be killed');
    }
  }
}

/**
 * Stop on SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGUSR2 (`STOP_SIGNALS`; the last two are the
 * Temporal SDK's shutdown signals too, and some process managers' restart), then exit: 0 when
 * every part stopped cleanly, 1 when one failed, missed its deadline or had to be forced (the log
 * names it). Handlers stay installed, so
 * a repeated signal never falls through to Node's default (exit at once, leaving the local
 * services running); it is logged and the shutdown under way goes on, bounded by its deadline.
 * Returns a function that removes the handlers.
 */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2'];

export function stopOnSignals(sequence: ShutdownSequence, log: Logger, exit = process.exit): () => void {
  const signals = STOP_SIGNALS;
  let received = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    received++;
    if (received > 1) {
      log.warn({ signal }, 'already shutting down; the local services this daemon started are stopped last');
      return;
    }
    log.info({ signal }, 'shutting down');
    void sequence.stop().then((outcome) => {
      if (outcome.clean) log.info('stopped');
      else log.error({ failures: outcome.failures }, 'stopped, but not cleanly');
      exit(outcome.clean ? 0 : 1);
    });
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
