// ONNX runner thread (plain JavaScript so it starts under plain Node, tsx and vitest alike).
// onnxruntime-node's run() blocks the thread it is called on (onnxruntime#19611), so sessions
// whose batches cost more than OnnxPool's in-process budget run here and the caller's event
// loop stays free. Protocol: see platform/onnx/pool.ts; the session itself: session.mjs.
import { parentPort, workerData } from 'node:worker_threads';
import { closeSession, openSession, runSession, sessionInfo } from './session.mjs';

const sessions = new Map();
const intraOpThreads = workerData?.intraOpThreads ?? 1;

parentPort.on('message', async (msg) => {
  const { id, op } = msg;
  try {
    if (op === 'load') {
      const model = await openSession(msg.bytes, msg.features, {
        intraOpThreads,
        output: msg.output,
        direct: msg.direct,
      });
      sessions.set(msg.key, model);
      parentPort.postMessage({ id, ok: true, info: sessionInfo(model) });
    } else if (op === 'run') {
      const model = sessions.get(msg.key);
      if (!model) throw new Error(`model ${msg.key} is not loaded in this runner`);
      const { scores, runMs } = await runSession(model, msg.rows, msg.numeric, msg.categorical, msg.clock);
      parentPort.postMessage({ id, ok: true, scores, runMs }, [scores.buffer]);
    } else if (op === 'unload') {
      const model = sessions.get(msg.key);
      sessions.delete(msg.key);
      await closeSession(model);
      parentPort.postMessage({ id, ok: true });
    } else {
      throw new Error(`unknown op ${op}`);
    }
  } catch (err) {
    parentPort.postMessage({ id, ok: false, error: String(err?.message ?? err) });
  }
});
