// How long onnxruntime ran one batch, measured so that two runs are comparable whatever else the
// process and the machine did meanwhile (the live shadow compares a champion's and a challenger's
// latencies taken in the same batches). Plain JavaScript: runner threads load it too.
//
// Two things are not the model's time, and are left out:
// - the event loop's turn before the run: onnxruntime-node's public run() only queues the
//   inference with setImmediate (onnxruntime#19611). A clock started at the call counts whatever
//   runs first — for a run called from inside another run's continuation (the scorer's shadow run
//   after its champion's) a whole turn of the loop: timers, I/O callbacks, other immediates. So the
//   clock starts in an immediate queued right before onnxruntime's, which runs next to it
//   (timedRun). A run through the native binding (session.mjs 'direct') has no such turn
//   (timedSyncRun).
// - time this thread spent preempted, waiting on the CPU run queue while other processes ran
//   (Linux reports it per thread in /proc/thread-self/schedstat, run_delay, in ns): on a loaded
//   machine a single preemption adds milliseconds to a run of microseconds. Where the file cannot
//   be read the wall time is kept.
import { closeSync, openSync, readSync } from 'node:fs';
import { setImmediate } from 'node:timers';

/** The run-queue delay (ns) of a schedstat line ("<on-cpu ns> <run-queue ns> <slices>"), or NaN. */
export function runDelayNs(schedstat) {
  const field = String(schedstat).trim().split(/\s+/)[1];
  const ns = field === undefined ? Number.NaN : Number(field);
  return Number.isFinite(ns) && ns >= 0 ? ns : Number.NaN;
}

/**
 * A run's time (ms): its wall time less the time its thread waited on the run queue meanwhile;
 * the wall time when either reading is unknown. Never negative (the two clocks differ by ns).
 */
export function runTimeMs(wallMs, delayBeforeNs, delayAfterNs) {
  const waitedMs = (delayAfterNs - delayBeforeNs) / 1e6;
  if (!Number.isFinite(waitedMs) || waitedMs < 0) return wallMs;
  return Math.max(0, wallMs - waitedMs);
}

// This thread's schedstat, opened once per thread (module state is per thread): undefined until
// tried, null where it cannot be read.
let schedstat;
const buffer = Buffer.alloc(96);

function readRunDelayNs() {
  if (schedstat === undefined) {
    try {
      schedstat = openSync('/proc/thread-self/schedstat', 'r');
    } catch {
      schedstat = null;
    }
  }
  if (schedstat === null) return Number.NaN;
  try {
    // procfs regenerates the line on every read at offset 0: one system call, no reopening.
    const n = readSync(schedstat, buffer, 0, buffer.length, 0);
    return runDelayNs(buffer.toString('latin1', 0, n));
  } catch {
    closeSync(schedstat);
    schedstat = null;
    return Number.NaN;
  }
}

/**
 * Run `start()` (a call into onnxruntime-node's session.run) and time it as above: resolves to
 * { value, runMs }.
 */
export async function timedRun(start) {
  let t0 = Number.NaN;
  let delayBefore = Number.NaN;
  // Queued before start() queues onnxruntime's immediate, so it runs immediately before it.
  setImmediate(() => {
    delayBefore = readRunDelayNs();
    t0 = performance.now();
  });
  const began = performance.now();
  const value = await start();
  const t1 = performance.now();
  const delayAfter = Number.isNaN(delayBefore) ? Number.NaN : readRunDelayNs();
  // A run that settled before the marker fired (never with onnxruntime-node's deferral) keeps the wall time from the call.
  const wallMs = Number.isNaN(t0) ? t1 - began : t1 - t0;
  return { value, runMs: runTimeMs(wallMs, delayBefore, delayAfter) };
}

/**
 * {@link timedRun} of a synchronous run (onnxruntime-node's native binding, session.mjs): there
 * is no turn before it to leave out, only the time preempted. Returns { value, runMs }.
 */
export function timedSyncRun(run) {
  const delayBefore = readRunDelayNs();
  const t0 = performance.now();
  const value = run();
  const wallMs = performance.now() - t0;
  const delayAfter = Number.isNaN(delayBefore) ? Number.NaN : readRunDelayNs();
  return { value, runMs: runTimeMs(wallMs, delayBefore, delayAfter) };
}
