/**
 * A DLE fit (seven boosted-tree fits: seconds on thousands of reference rows) in a worker thread,
 * so the thread that called it keeps serving — in the all-in-one daemon that thread also runs
 * ingest, the API and the scorer. The rows go in as plain arrays and the fitted `DleModel` comes
 * back by structured clone (it is plain data: options, numbers and arrays), value for value the
 * model `fitDle` gives on this thread, since the fit is seeded.
 *
 * One fit runs at a time per process (a fit is once per reference, and two at once would only
 * share the same cores); each gets a fresh thread, terminated when it answers: an idle pooled
 * thread would hold its loader and heap for the rare next reference, and starting one costs far
 * less than the fit. A fit that throws, a thread that fails to start or exits without answering,
 * rejects with an Error saying so, for the caller to report.
 */
import { Worker } from 'node:worker_threads';
import type { DleModel, DleOptions, RegressionRows } from '../detectors/quality/dle.ts';

export interface DleFitThreadOptions {
  /** The thread's entry: a module that fits `workerData` and posts the model (tests swap it). @default dle-fit-worker.mjs */
  workerUrl: URL;
}

const DEFAULT_WORKER_URL = new URL('./dle-fit-worker.mjs', import.meta.url);

/** The fit running now (or the last one): the next waits for it to settle. */
let previous: Promise<unknown> = Promise.resolve();

/** `fitDle(reference, truth, options)`, fitted in a worker thread. */
export function fitDleInThread(
  reference: RegressionRows,
  truth: readonly number[],
  options: Partial<DleOptions> = {},
  threadOptions: Partial<DleFitThreadOptions> = {},
): Promise<DleModel> {
  const workerUrl = threadOptions.workerUrl ?? DEFAULT_WORKER_URL;
  const fit = previous.then(() => fitInNewThread(reference, truth, options, workerUrl));
  previous = fit.catch(() => undefined);
  return fit;
}

function fitInNewThread(
  reference: RegressionRows,
  truth: readonly number[],
  options: Partial<DleOptions>,
  workerUrl: URL,
): Promise<DleModel> {
  return new Promise<DleModel>((resolve, reject) => {
    let worker: Worker;
    try {
      worker = new Worker(workerUrl, {
        // Without the parent's loader flags (tsx, vitest): the entry registers its own.
        execArgv: [],
        workerData: {
          features: reference.features,
          predictions: reference.predictions,
          truth,
          options,
        },
      });
    } catch (error) {
      reject(new Error(`the DLE fit's thread did not start: ${messageOf(error)}`));
      return;
    }
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      outcome();
      void worker.terminate().catch(() => undefined);
    };
    worker.once('message', (model: DleModel) => settle(() => resolve(model)));
    worker.once('error', (error) => settle(() => reject(new Error(`the DLE fit failed: ${messageOf(error)}`))));
    worker.once('exit', (code) =>
      settle(() => reject(new Error(`the DLE fit's thread exited with code ${code} before answering`))),
    );
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
