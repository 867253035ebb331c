import { adminToken, TokenStore, tokensFile } from '../platform/auth.ts';
import { openClickHouse, type ClickHouse } from '../platform/clickhouse/client.ts';
import { applyMigrations } from '../platform/clickhouse/migrations.ts';
import { loadConfig, type HalflifeConfig } from '../platform/config.ts';
import { createLogger, subsystemLog } from '../platform/logger.ts';
import { temporalAddress } from '../platform/temporal.ts';
import { acquireDaemonLock } from '../local-services/daemon-lock.ts';
import { servicesUp } from '../local-services/stack.ts';
import type { LocalService } from '../local-services/service.ts';
import { ClickHouseIngestRepository } from '../platform/clickhouse/ingest-repository.ts';
import { sweepInsertBodiesOfDeadProcesses } from '../platform/clickhouse/binary-insert.ts';
import { buildApi } from './api.ts';
import { IngestWorker } from './ingest/kafka-worker.ts';
import { ingestObservation } from './ingest/metrics.ts';
import { timestampWindowOf } from './ingest/prepare-record.ts';
import { Scorer, scoreRoute } from './scorer.ts';
import { ServingReportsConsumer } from './serving-reports/consumer.ts';
import { createTemporalWorker } from './temporal-worker.ts';
import { decisionRoutes } from './routes/decisions.ts';
import { ingestRoutes } from './routes/ingest.ts';
import { HttpIngestStages } from './ingest/http-stages.ts';
import { HttpIngestLog } from './ingest/http-log.ts';
import { operatorRoutes } from './routes/operator-api.ts';
import { metricsRoutes } from './metrics.ts';
import { watchWorkflowThreads } from './workflow-thread-memory.ts';
import { demoWanted, startDemo } from './demo.ts';
import { dashboardRoutes } from './routes/dashboard-data.ts';
import { alertRoutes } from './routes/alerts.ts';
import { ShutdownSequence, stopOnSignals } from './shutdown.ts';
import { serviceStopStep } from './service-stop.ts';
import { clickhouseReadiness, ingestReadiness, kafkaReadiness, temporalReadiness } from './readiness.ts';

export interface DaemonOptions {
  configFile?: string;
  /** Use this configuration instead of loading one (tests). */
  config?: HalflifeConfig;
  /** Stop on SIGINT/SIGTERM. @default true */
  handleSignals?: boolean;
}

/** A running daemon; `stop()` shuts everything down in reverse order of start. */
export interface Daemon {
  config: HalflifeConfig;
  apiUrl: string;
  stop(): Promise<void>;
}

/**
 * The halflife daemon: local services (unless configured as external), embedded or remote
 * ClickHouse with migrations applied, the ingest worker, the Temporal worker and the HTTP API,
 * in one process. Each part registers its own shutdown step.
 */
export async function runDaemon(options: DaemonOptions = {}): Promise<Daemon> {
  const config = options.config ?? loadConfig({ file: options.configFile });
  const log = createLogger('daemon', config.logLevel);
  const shutdown = new ShutdownSequence({ log });
  const stop = async () => {
    await shutdown.stop();
  };
  /** Start nothing more once a signal asked to stop (start-up may still be under way). */
  const startNothingMore = () => {
    if (shutdown.stopping) throw new StoppedDuringStartup();
  };

  // Signals are handled from the first moment: Ctrl-C during start-up must still stop the
  // services this process has already spawned (they run in their own process groups).
  if (options.handleSignals !== false) stopOnSignals(shutdown, log);

  try {
    // One daemon per data directory, checked before any service is started or adopted; released last.
    const releaseLock = acquireDaemonLock(config.dataDir);
    shutdown.add({ name: 'daemon lock', run: () => Promise.resolve(releaseLock()) });
    // What a predecessor killed mid-insert left in /dev/shm holds memory until reboot.
    sweepInsertBodiesOfDeadProcesses(log);

    await servicesUp(config, {
      onProgress: (line) => log.info(line),
      // Services this daemon starts (or adopts from one killed before it could stop them) are its own.
      owner: process.pid,
      // The local services are stopped last: a part that hangs while stopping cannot keep them running.
      onStarted: (service: LocalService) => shutdown.add(serviceStopStep(service, { log })),
    });
    startNothingMore();

    const clickhouse: ClickHouse = await openClickHouse(config);
    shutdown.add({ name: 'clickhouse', run: () => clickhouse.close() });
    const migrations = await applyMigrations(clickhouse.client);
    log.info(
      { kind: clickhouse.kind, schemaVersion: migrations.version, applied: migrations.applied },
      'clickhouse ready',
    );

    startNothingMore();

    const repository = ClickHouseIngestRepository.forIngest(clickhouse);
    const ingest = new IngestWorker({ config, repository, logger: subsystemLog(log, 'ingest') });
    await ingest.start();
    shutdown.add({ name: 'ingest', run: () => ingest.stop() });
    startNothingMore();
    // What the scorers serve (theirs and any other serving's reports), which promotions wait for.
    // Not awaited: a member left by a killed daemon can hold the group's join for a session timeout.
    const servingReports = new ServingReportsConsumer({ config, clickhouse: clickhouse.client, log });
    const reportsStarted = servingReports
      .start()
      .catch((err: unknown) => log.error({ err }, 'serving reports consumer failed to start'));
    shutdown.add({
      name: 'serving reports',
      run: async () => {
        await reportsStarted;
        await servingReports.stop();
      },
    });

    const {
      worker,
      connection,
      close: closeWorker,
      windowBatcher,
    } = await createTemporalWorker({
      config,
      clickhouse: clickhouse.client,
      log: subsystemLog(log, 'temporal-worker'),
    });
    const workerRun = worker.run();
    const workflowThreads = watchWorkflowThreads();
    shutdown.add({ name: 'workflow thread memory', run: () => Promise.resolve(workflowThreads.close()) });
    shutdown.add({
      name: 'temporal worker',
      run: async () => {
        // The SDK also reacts to SIGINT/SIGTERM itself and may already be stopping.
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await workerRun;
        await closeWorker();
      },
    });

    const scorer = new Scorer({ config, log });
    await scorer.start();
    shutdown.add({ name: 'scorer', run: () => scorer.stop() });
    startNothingMore();

    const tokens = new TokenStore();
    const admin = adminToken(config);
    tokens.add(admin.token, { name: 'admin', role: 'admin' });
    tokens.useFile(tokensFile(config));

    const httpIngestStages = new HttpIngestStages();
    // POSTs with ack=logged produce to the topics the ingest worker above consumes; closed after the API.
    const httpIngestLog = new HttpIngestLog(config, { logger: subsystemLog(log, 'http-ingest') });
    shutdown.add({ name: 'http ingest log', run: () => httpIngestLog.close() });
    const api = await buildApi({
      tokens,
      logger: log,
      readiness: {
        clickhouse: clickhouseReadiness(clickhouse, config),
        kafka: kafkaReadiness(config),
        temporal: temporalReadiness(config, connection, worker),
        ingest: ingestReadiness(ingest),
      },
      routes: [
        ...operatorRoutes({
          config,
          clickhouse: clickhouse.client,
          log,
          ingest: () => ingestObservation(ingest.metrics),
        }),
        ingestRoutes(repository, timestampWindowOf(config), httpIngestStages, {
          default: config.ingest.httpAcknowledge,
          log: httpIngestLog,
        }),
        decisionRoutes(clickhouse.client),
        alertRoutes(clickhouse.client),
        scoreRoute(scorer),
        metricsRoutes({
          config,
          clickhouse: clickhouse.client,
          log,
          ingest,
          httpIngestStages,
          scorer,
          windowReads: windowBatcher,
          queryScheduler: clickhouse.scheduler,
          temporalWorker: worker,
          workflowThreads,
        }),
        ...dashboardRoutes({
          config,
          clickhouse: clickhouse.client,
          log,
          ingest: () => ingestObservation(ingest.metrics),
        }),
      ],
    });
    await api.listen({ host: config.api.host, port: config.api.port });
    shutdown.add({ name: 'api', run: () => api.close() });
    const apiUrl = `http://${config.api.host}:${config.api.port}`;

    // The newcomer's demo (workers/demo.ts) on a fresh machine; Ctrl-C stops its traffic, its monitor stays in Temporal.
    const demo = (await demoWanted(config, clickhouse.client))
      ? await startDemo({ config, clickhouse: clickhouse.client, log })
      : null;
    if (demo) shutdown.add({ name: 'demo', run: () => demo.stop() });

    const banner = [
      'halflife is running.',
      `  API:          ${apiUrl}  (health: ${apiUrl}/healthz, readiness: ${apiUrl}/readyz)`,
      `  API token:    ${admin.file ? `in ${admin.file}` : 'from api.token / HALFLIFE_API_TOKEN'}`,
      `  Temporal:     ${temporalAddress(config)}${config.temporal.address ? '' : `  (Web UI: http://127.0.0.1:${config.services.temporalUiPort})`}`,
      `  Kafka:        ${config.kafka.brokers ?? `127.0.0.1:${config.services.kafkaPort}`}`,
      `  ClickHouse:   ${clickhouse.kind === 'embedded' ? `embedded chDB in ${config.clickhouse.path}` : config.clickhouse.url}`,
      ...(demo ? demo.banner(apiUrl) : []),
      'Press Ctrl-C to stop.',
    ];
    process.stderr.write(`\n${banner.join('\n')}\n\n`);

    return { config, apiUrl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Start-up was interrupted by a signal; the shutdown it started exits the process. */
export class StoppedDuringStartup extends Error {
  constructor() {
    super('stopped during start-up');
  }
}

// `tsx workers/daemon.ts` (what `npm start` runs) starts the daemon directly.
if (import.meta.url === `file://${process.argv[1]}`) {
  runDaemon().catch((err: unknown) => {
    if (err instanceof StoppedDuringStartup) return;
    process.stderr.write(`halflife: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(
      typeof (err as { exitCode?: unknown }).exitCode === 'number' ? (err as { exitCode: number }).exitCode : 1,
    );
  });
}
