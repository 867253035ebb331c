import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { closeRetrainActivities } from '../../activities/retrain.ts';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import type { HalflifeConfig } from '../../platform/config.ts';
import { createLogger, type Logger } from '../../platform/logger.ts';
import { installed } from '../../platform/paths.ts';
import { registerSearchAttributes } from '../../platform/temporal.ts';
import {
  createActivities,
  decisionLogSink,
  nonRetryableErrors,
  workflowBundle,
} from '../../workers/temporal-worker.ts';
import { testConfig, uniqueName } from './stack.ts';
import { halflifeDataConverter } from '../../platform/temporal-payload-codec.ts';

export type MonitorActivities = ReturnType<typeof createActivities>;

export interface MonitorHarnessOptions {
  /** Settings of the activities; its task queue is the worker's. @default testConfig with a unique task queue */
  config?: HalflifeConfig;
  /** Level of the activities' and the decision-log sink's logs. @default 'warn' */
  logLevel?: string;
}

/** Something the test owns that must be closed before chDB and the test server go away (a simulated world). */
export interface Closable {
  close(): Promise<void>;
}

/**
 * The ModelMonitor on the time-skipping test server: the installed test server with halflife's
 * search attributes, this file's own migrated chDB, and the real activities. Each test keeps its
 * own data, policies and timings; this owns only what every such test sets up and tears down.
 */
export interface MonitorHarness {
  readonly env: TestWorkflowEnvironment;
  readonly ch: ClickHouse;
  readonly config: HalflifeConfig;
  readonly log: Logger;
  readonly activities: MonitorActivities;
  /**
   * A worker on the config's task queue with the workflow bundle, the decision-log sink and the
   * non-retryable-errors interceptor.
   * @param activities what the worker runs (a test wraps `collectWindow` to emit traffic as windows close) @default the harness's activities
   */
  createWorker(activities?: MonitorActivities): Promise<Worker>;
  /** Closes the activities, then `owned` in order, then chDB and the test server. */
  teardown(...owned: (Closable | undefined)[]): Promise<void>;
}

export async function startMonitorHarness(options: MonitorHarnessOptions = {}): Promise<MonitorHarness> {
  const config = options.config ?? testConfig({ temporal: { taskQueue: uniqueName('tq') } });
  const log = createLogger('test', options.logLevel ?? 'warn');
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: installed.temporalTestServer } },
    client: { dataConverter: halflifeDataConverter({ compress: config.temporal.compressPayloads }) },
  });
  let ch: ClickHouse | undefined;
  try {
    await registerSearchAttributes(env.connection, 'default');
    ch = await openClickHouse(config);
    await applyMigrations(ch.client);
  } catch (error) {
    // beforeAll failed: nothing else will close what was opened.
    await ch?.close();
    await env.teardown();
    throw error;
  }
  const clickhouse = ch;
  const activities = createActivities({ config, clickhouse: clickhouse.client, log });
  return {
    env,
    ch: clickhouse,
    config,
    log,
    activities,
    async createWorker(workerActivities = activities) {
      return Worker.create({
        connection: env.nativeConnection,
        taskQueue: config.temporal.taskQueue,
        workflowBundle: await workflowBundle(),
        dataConverter: halflifeDataConverter({ compress: config.temporal.compressPayloads }),
        activities: workerActivities,
        sinks: decisionLogSink(log),
        interceptors: { activity: [nonRetryableErrors] },
      });
    },
    async teardown(...owned) {
      await closeRetrainActivities(activities);
      for (const o of owned) await o?.close();
      await clickhouse.close();
      await env.teardown();
    },
  };
}
