/**
 * The V8 heap of the Temporal SDK's workflow thread. Every cached workflow lives in that
 * thread's own isolate, which `process.memoryUsage()` (the main thread's isolate) does not
 * count. Node 20 has no `Worker.getHeapStatistics()`, and the SDK does not expose its thread,
 * so the main thread's inspector reaches it (the `NodeWorker` domain, no port opened) and asks
 * its runtime for the heap's size: no code runs in the thread, and the other worker threads
 * (the scorer's pool, training) are let go as soon as they are seen.
 */
import { Session } from 'node:inspector';

/** Bytes. */
export interface ThreadHeap {
  used: number;
  total: number;
}

export interface WorkflowThreadMemory {
  /** The workflow threads' V8 heaps, summed; null before the SDK has started its thread, or without an inspector. */
  heap(): Promise<ThreadHeap | null>;
  close(): void;
}

/** How the SDK's workflow thread is recognised: the script it runs (@temporalio/worker's workflow-worker-thread). */
const WORKFLOW_THREAD = /workflow-worker-thread/;
/** A thread that does not answer within this long is left out of the sample. */
const ANSWER_TIMEOUT_MS = 2_000;

interface AttachedWorker {
  sessionId: string;
  workerInfo: { url: string; title: string };
}

/** Starts watching for the SDK's workflow thread(s); `heap()` reads their V8 heaps. */
export function watchWorkflowThreads(): WorkflowThreadMemory {
  let session: Session;
  try {
    session = new Session();
    session.connect();
  } catch {
    // Node built without the inspector: the figure is unknown, not an error.
    return { heap: () => Promise.resolve(null), close: () => {} };
  }
  const workflowSessions = new Set<string>();
  const pending = new Map<number, (reply: { result?: { usedSize: number; totalSize: number } }) => void>();
  let nextId = 1;

  session.on('NodeWorker.attachedToWorker', ({ params }: { params: AttachedWorker }) => {
    if (WORKFLOW_THREAD.test(params.workerInfo.url) || WORKFLOW_THREAD.test(params.workerInfo.title)) {
      workflowSessions.add(params.sessionId);
    } else {
      session.post('NodeWorker.detach', { sessionId: params.sessionId }, () => {});
    }
  });
  session.on('NodeWorker.detachedFromWorker', ({ params }: { params: { sessionId: string } }) => {
    workflowSessions.delete(params.sessionId);
  });
  session.on('NodeWorker.receivedMessageFromWorker', ({ params }: { params: { message: string } }) => {
    const reply = JSON.parse(params.message) as { id?: number; result?: { usedSize: number; totalSize: number } };
    if (reply.id === undefined) return;
    pending.get(reply.id)?.(reply);
    pending.delete(reply.id);
  });
  // Attaches to the threads running now and to those started later.
  session.post('NodeWorker.enable', { waitForDebuggerOnStart: false }, () => {});

  const threadHeap = (sessionId: string) =>
    new Promise<ThreadHeap | null>((resolve) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        resolve(null);
      }, ANSWER_TIMEOUT_MS);
      timer.unref();
      pending.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply.result ? { used: reply.result.usedSize, total: reply.result.totalSize } : null);
      });
      const message = JSON.stringify({ id, method: 'Runtime.getHeapUsage' });
      session.post('NodeWorker.sendMessageToWorker', { sessionId, message }, (err) => {
        if (!err) return;
        clearTimeout(timer);
        pending.delete(id);
        resolve(null);
      });
    });

  return {
    async heap() {
      if (workflowSessions.size === 0) return null;
      const heaps = (await Promise.all([...workflowSessions].map(threadHeap))).filter((h) => h !== null);
      if (heaps.length === 0) return null;
      return heaps.reduce((sum, h) => ({ used: sum.used + h.used, total: sum.total + h.total }));
    },
    close() {
      for (const resolve of pending.values()) resolve({});
      pending.clear();
      session.disconnect();
    },
  };
}
