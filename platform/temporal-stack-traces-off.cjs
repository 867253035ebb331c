/**
 * Preloaded (`node --require`) by workers/daemon.sh when `temporal.workflowStackTraces` is false:
 * turns off the Temporal SDK's workflow stack traces in every thread of the process.
 *
 * Why: @temporalio/worker installs a promise hook in its workflow thread that, for every promise a
 * workflow creates, captures and formats a stack trace (for the `__stack_trace` query). Replaying a
 * monitor's recorded history costs ~28% less CPU without it (BENCHMARKS.md "The SDK's workflow
 * stack traces"), and the SDK has no option to turn it off. It does have a path for runtimes without promise hooks: when
 * `v8.promiseHooks.createHook` throws, it runs without stack traces and answers the query with
 * "Workflow stack traces are not enabled on this worker". This makes that call throw — only that
 * call: other callers of createHook are passed through.
 *
 * CommonJS for `--require`, which Node runs in every worker thread too (`--import` runs only in the
 * main thread): it must run in the workflow thread before the SDK installs its hook there.
 */
'use strict';
const v8 = require('node:v8');

/**
 * The SDK module that installs the hook: @temporalio/worker/lib/workflow/vm-shared.js, or its
 * source, src/workflow/vm-shared.ts, where source maps are on (tsx turns them on: the daemon's stack
 * traces name the SDK's TypeScript sources).
 */
const SDK_CALLER = /[\\/]@temporalio[\\/]worker[\\/](?:lib|src)[\\/]workflow[\\/]vm-shared\.[jt]s\b/;
/** What the SDK prints, once a thread, when it runs without the hook: the daemon logs it, structured. */
const SDK_NOTICE = 'v8.promiseHooks.createHook is not available; stack trace collection will be disabled.';

const createHook = v8.promiseHooks.createHook;
v8.promiseHooks.createHook = function createHookUnlessTemporalStackTraces(hooks) {
  if (SDK_CALLER.test(new Error().stack ?? '')) throw new Error('halflife: workflow stack traces are off');
  return createHook.call(this, hooks);
};

const warn = console.warn;
console.warn = function warnUnlessSdkNotice(...args) {
  if (args.length === 1 && args[0] === SDK_NOTICE) return;
  return warn.apply(this, args);
};

/** Read by workers/temporal-worker.ts to log whether stack traces are off in this process. */
globalThis[Symbol.for('halflife.workflowStackTracesOff')] = true;
