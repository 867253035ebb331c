import { NativeConnection, Worker } from '@temporalio/worker';
import type { ClickHouseClient } from '@clickhouse/client';
import { availableParallelism } from 'node:os';
import { createAlertActivities } from '../activities/alerts.ts';
import { createMonitorActivities, createWindowBatcher } from '../activities/monitor.ts';
import type { WindowBatcher } from '../activities/window-batcher.ts';
import { closeRetrainActivities, createRetrainActivities } from '../activities/retrain.ts';
import type { HalflifeConfig } from '../platform/config.ts';
import { subsystemLog, type Logger } from '../platform/logger.ts';
import { ConfigError, NotFoundError, ValidationError } from '../platform/errors.ts';
import { ApplicationFailure } from '@temporalio/common';
import type {
  ActivityExecuteInput,
  ActivityInboundCallsInterceptor,
  ActivityInterceptors,
  Next,
} from '@temporalio/worker';
import type { WorkflowInfo } from '@temporalio/workflow';
import type { DerivedDecision } from '../workflows/messages.ts';
import { temporalAddress } from '../platform/temporal.ts';
import { halflifeDataConverter } from '../platform/temporal-payload-codec.ts';
import { withQueryPriority } from '../platform/clickhouse/query-scheduler.ts';
import { installTemporalRuntime, sdkLevelOf } from './temporal-runtime.ts';
import { workflowBundle } from './workflow-bundle.ts';

export { workflowBundle } from './workflow-bundle.ts';

export interface TemporalWorkerDeps {
  config: HalflifeConfig;
  clickhouse: ClickHouseClient;
  log: Logger;
  /** Connection to use (tests pass the test environment's). @default a new connection to temporal.address */
  connection?: NativeConnection;
}

/** Every activity the workflows call, bound to this process's ClickHouse, Kafka and artifact store. */
export function createActivities(deps: TemporalWorkerDeps & { batcher?: WindowBatcher }) {
  return {
    ...createMonitorActivities({
      clickhouse: deps.clickhouse,
      log: subsystemLog(deps.log, 'monitor-activities'),
      config: deps.config,
      batcher: deps.batcher,
    }),
    ...createRetrainActivities({
      clickhouse: deps.clickhouse,
      config: deps.config,
      log: subsystemLog(deps.log, 'retrain-activities'),
    }),
    ...createAlertActivities({ clickhouse: deps.clickhouse, log: subsystemLog(deps.log, 'alerts') }),
  };
}

/** The Temporal worker: ModelMonitor, Retrain and AlertEpisode workflows plus their activities on one task queue. */
export async function createTemporalWorker(
  deps: TemporalWorkerDeps,
): Promise<{ worker: Worker; connection: NativeConnection; close: () => Promise<void>; windowBatcher: WindowBatcher }> {
  // Before the first connection: the SDK's logs go to ours, at our level.
  installTemporalRuntime(deps.log, sdkLevelOf(deps.config.logLevel));
  const connection = deps.connection ?? (await NativeConnection.connect({ address: temporalAddress(deps.config) }));
  const windowBatcher = createWindowBatcher(deps.clickhouse);
  const activities = createActivities({ ...deps, batcher: windowBatcher });
  const worker = await Worker.create({
    connection,
    namespace: deps.config.temporal.namespace,
    taskQueue: deps.config.temporal.taskQueue,
    maxConcurrentActivityTaskExecutions: maxConcurrentActivities(deps.config),
    maxConcurrentLocalActivityExecutions: maxConcurrentLocalActivities(deps.config),
    ...workflowCacheOptions(deps.config),
    workflowBundle: await workflowBundle(),
    dataConverter: halflifeDataConverter({ compress: deps.config.temporal.compressPayloads }),
    activities,
    sinks: decisionLogSink(deps.log),
    interceptors: { activity: [nonRetryableErrors, backgroundQueries] },
  });
  logWorkflowStackTraces(deps.config, deps.log);
  // Stops the runner threads and the Kafka producer the retrain activities started.
  const close = async () => {
    await closeRetrainActivities(activities);
    if (!deps.connection) await connection.close();
  };
  return { worker, connection, close, windowBatcher };
}

/** Set by platform/temporal-stack-traces-off.cjs where it was preloaded (in every thread of the process). */
const workflowStackTracesOff = (): boolean =>
  (globalThis as Record<symbol, unknown>)[Symbol.for('halflife.workflowStackTracesOff')] === true;

/**
 * Whether the workflow threads keep stack traces is settled by how the process was started (the
 * preload), not by the setting alone: say which, and when the two disagree, why.
 */
function logWorkflowStackTraces(config: Pick<HalflifeConfig, 'temporal'>, log: Logger): void {
  const wanted = config.temporal.workflowStackTraces;
  const off = workflowStackTracesOff();
  if (wanted === !off) log.info({ workflowStackTraces: wanted }, `workflow stack traces ${wanted ? 'on' : 'off'}`);
  else if (off)
    log.warn(
      { workflowStackTraces: false, setting: 'temporal.workflowStackTraces' },
      'workflow stack traces off: this process was started with platform/temporal-stack-traces-off.cjs preloaded',
    );
  else
    log.warn(
      { workflowStackTraces: true, setting: 'temporal.workflowStackTraces' },
      'temporal.workflowStackTraces is false, but stack traces stay on: the setting takes effect only where the process starts with platform/temporal-stack-traces-off.cjs preloaded (workers/daemon.sh, i.e. `npm start`, does so)',
    );
}

/**
 * Activities at once: monitor window reads mostly wait for their batch (a few milliseconds of
 * engine time each), so the limit is about memory, not CPU; retrains are one per model at a time.
 * It must leave room beyond a full batch of window reads waiting to fill (up to the batcher's
 * `maxBatch` of 32 slots for up to its fill wait) for the ticks' other activities, or a fleet's
 * decisions queue behind its reads.
 */
export function maxConcurrentActivities(config: Pick<HalflifeConfig, 'temporal'>): number {
  return config.temporal.maxConcurrentActivities ?? Math.max(128, 32 * availableParallelism());
}

/**
 * Local activities at once: the monitors' window reads (runs with `window-read-local-activity`),
 * which wait for their batch as they did as regular activities, so sized the same way and by the
 * same setting (the SDK's own default is 100 on any machine). A tick's decision record (runs with
 * `decision-record-local-activity`) runs after its read, in the same task, so it needs no more.
 * @default `temporal.maxConcurrentActivities`: 32 per CPU core, at least 128
 */
export function maxConcurrentLocalActivities(config: Pick<HalflifeConfig, 'temporal'>): number {
  return maxConcurrentActivities(config);
}

/**
 * The workflow cache: each cached workflow keeps its state in the worker's workflow thread and
 * the SDK's core between tasks. The SDK sizes its default from the V8 heap limit (2,310 on a
 * 4 GB heap), which says nothing about the fleet; halflife sets it (temporal.maxCachedWorkflows)
 * and the monitors beyond it replay their history at their next tick.
 * Workflow tasks at once: a task keeps its slot until the SDK completes it, and a task whose local
 * activity (a window read, waiting up to 2 s for its batch) runs is not complete, so the SDK's 40
 * for tasks at work plus one per local activity the worker runs at once — and at most as many as the
 * cache holds (the SDK requires it).
 */
export function workflowCacheOptions(config: Pick<HalflifeConfig, 'temporal'>): {
  maxCachedWorkflows: number;
  maxConcurrentWorkflowTaskExecutions: number;
} {
  const cache = config.temporal.maxCachedWorkflows;
  return {
    maxCachedWorkflows: cache,
    maxConcurrentWorkflowTaskExecutions: Math.min(SDK_WORKFLOW_TASKS + maxConcurrentLocalActivities(config), cache),
  };
}

/** The SDK's default for workflow tasks at once: the tasks at work, not waiting for a local activity. */
const SDK_WORKFLOW_TASKS = 40;

/**
 * Bad input and missing things do not get better by retrying: such errors fail the activity
 * for good (the workflow sees them at once) instead of being retried forever.
 */
export const nonRetryableErrors = (): ActivityInterceptors => ({
  inbound: {
    async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>) {
      try {
        return await next(input);
      } catch (err) {
        if (err instanceof ValidationError || err instanceof NotFoundError || err instanceof ConfigError) {
          throw ApplicationFailure.create({ message: err.message, type: err.name, nonRetryable: true, cause: err });
        }
        throw err;
      }
    },
  },
});

/**
 * Activities (monitor statistics, training, shadow evaluation) read ClickHouse in the background:
 * in the embedded engine their parameterised queries wait while ingest's or the API's are queued
 * (platform/clickhouse/query-scheduler.ts).
 */
export const backgroundQueries = (): ActivityInterceptors => ({
  inbound: {
    execute: (input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>) =>
      withQueryPriority('background', () => next(input)),
  },
});

/** The monitor reports each decision through a sink; the live worker logs it (replay prints it instead). */
export function decisionLogSink(log: Logger) {
  return {
    decisions: {
      derived: {
        fn: (info: WorkflowInfo, decision: DerivedDecision) =>
          log.info(
            {
              workflowId: info.workflowId,
              runId: info.runId,
              modelId: decision.modelId,
              decisionId: decision.decisionId,
              kind: decision.kind,
              ...(decision.window ? { windowStart: decision.window.start, windowEnd: decision.window.end } : {}),
            },
            decision.reason,
          ),
        callDuringReplay: false,
      },
    },
  };
}
