// The thread of operations/dle-fit-thread.ts: fits a DLE estimator on the rows it was started
// with and posts the fitted model back. detectors/ is TypeScript, so this plain-JavaScript entry
// registers tsx's ESM loader (a runtime dependency) in this thread before importing it: the
// thread starts without the parent's loader flags, whether the parent runs under tsx or vitest.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { fitDle } = await import('../detectors/quality/dle.ts');
const { features, predictions, truth, options } = workerData;
parentPort.postMessage(fitDle({ features, predictions }, truth, options));
