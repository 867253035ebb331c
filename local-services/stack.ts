import type { HalflifeConfig } from '../platform/config.ts';
import { DependencyError } from '../platform/errors.ts';
import { kafkaBroker } from './kafka.ts';
import { orphanedBy, portOpen, recordOwner, runningPid, stopProcess, waitFor, type StopOptions } from './process.ts';
import type { LocalService } from './service.ts';
import { temporalDevServer } from './temporal.ts';

/** One line of `halflife services status`. */
export interface ServiceStatus {
  name: string;
  address: string;
  /** `local`: run by halflife on this machine; `external`: configured address; `embedded`: a library in the daemon's process. */
  mode: 'local' | 'external' | 'embedded';
  /** null for the embedded engine: not a service, nothing to be healthy on its own. */
  healthy: boolean | null;
  /**
   * `in-daemon`: embedded, open in the daemon answering at the API address; `not-open`: embedded,
   * no daemon answers (it is opened by the daemon's process when it starts).
   */
  state: 'running' | 'stopped' | 'unhealthy' | 'port-busy' | 'in-daemon' | 'not-open';
  pid?: number;
  log?: string;
  extra?: Record<string, string>;
  detail?: string;
}

/** Local services for this configuration; a service with an external address configured is left out. */
export function localServices(config: HalflifeConfig): LocalService[] {
  const services: LocalService[] = [];
  if (!config.temporal.address) {
    services.push(
      temporalDevServer({
        dataDir: config.dataDir,
        port: config.services.temporalPort,
        uiPort: config.services.temporalUiPort,
        sqliteSync: config.services.temporalSqliteSync,
        namespace: config.temporal.namespace,
      }),
    );
  }
  if (!config.kafka.brokers) {
    services.push(
      kafkaBroker({
        dataDir: config.dataDir,
        port: config.services.kafkaPort,
        controllerPort: config.services.kafkaControllerPort,
        heap: config.services.kafkaHeap,
        partitions: config.kafka.partitions,
        maxMessageBytes: config.kafka.maxMessageBytes,
      }),
    );
  }
  return services;
}

export interface UpOptions {
  /** Called with progress lines. */
  onProgress?: (line: string) => void;
  /** Per-service start timeout. @default 90000 */
  timeoutMs?: number;
  /** Called as soon as a service process is spawned, before it is healthy (so a caller interrupted mid-start can still stop it). */
  onStarted?: (service: LocalService) => void;
  /**
   * The pid of the process that stops what it starts (the daemon): recorded beside each service it
   * starts, and services left running by an earlier owner that died are adopted (returned and passed
   * to `onStarted` as if started here). @default undefined (started services outlive the caller)
   */
  owner?: number;
  /** The services to start. @default localServices(config) */
  services?: LocalService[];
}

/**
 * Start every local service that is not already running and wait until each is healthy.
 * Returns the services this call started (so a caller can stop exactly those).
 */
export async function servicesUp(config: HalflifeConfig, options: UpOptions = {}): Promise<LocalService[]> {
  const progress = options.onProgress ?? (() => {});
  const started: LocalService[] = [];
  const services = options.services ?? localServices(config);
  for (const service of services) {
    if (runningPid(service.pidFile) !== undefined) {
      const deadOwner = options.owner === undefined ? undefined : orphanedBy(service.pidFile);
      if (deadOwner === undefined) {
        progress(`${service.name}: already running at ${service.address}`);
        continue;
      }
      // Its daemon was killed without stopping it: this one stops it when it exits.
      progress(`${service.name}: running at ${service.address}, left by daemon ${deadOwner} that exited; adopted`);
      recordOwner(service.pidFile, options.owner as number);
      started.push(service);
      options.onStarted?.(service);
      continue;
    }
    for (const port of service.ports) {
      if (await portOpen(port)) {
        throw new DependencyError(
          `${service.name}: port ${port} is already in use by another program. Stop it, or choose other ports (see \`halflife config --docs\`: services.*).`,
        );
      }
    }
    progress(`${service.name}: starting at ${service.address} (log: ${service.logFile})`);
    service.start();
    if (options.owner !== undefined) recordOwner(service.pidFile, options.owner);
    started.push(service);
    options.onStarted?.(service);
  }
  // Start both first, then wait: Kafka's JVM and Temporal boot in parallel.
  for (const service of services) {
    const t0 = Date.now();
    await waitFor(service.name, () => service.health(), options.timeoutMs ?? 90_000, service.logFile);
    if (started.includes(service)) progress(`${service.name}: healthy after ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  }
  return started;
}

/** Stop local services (all of them, or the given ones). */
export async function servicesDown(
  config: HalflifeConfig,
  only?: LocalService[],
  onProgress: (line: string) => void = () => {},
  /** Grace before SIGKILL and the like. @default stopProcess's defaults */
  stop: StopOptions = {},
): Promise<void> {
  const services = only ?? localServices(config);
  // Reverse order of start; each gets a clean SIGTERM first.
  for (const service of [...services].reverse()) {
    const result = await stopProcess(service.pidFile, stop);
    onProgress(`${service.name}: ${result}`);
  }
}

/** Health of every service halflife uses, local, external or embedded. */
export async function servicesStatus(config: HalflifeConfig): Promise<ServiceStatus[]> {
  const statuses: ServiceStatus[] = [];
  const local = localServices(config);
  for (const service of local) {
    const pid = runningPid(service.pidFile);
    const healthy = await service.health().catch(() => false);
    let state: ServiceStatus['state'] = pid === undefined ? 'stopped' : healthy ? 'running' : 'unhealthy';
    if (pid === undefined && (await portOpen(service.ports[0]!))) state = 'port-busy';
    statuses.push({
      name: service.name,
      address: service.address,
      mode: 'local',
      healthy: pid !== undefined && healthy,
      state,
      pid,
      log: service.logFile,
      extra: service.extra,
    });
  }
  if (config.temporal.address) statuses.push(await externalStatus('temporal', config.temporal.address));
  if (config.kafka.brokers) statuses.push(await externalStatus('kafka', config.kafka.brokers));
  statuses.push(
    config.clickhouse.url
      ? await remoteClickHouseStatus(config.clickhouse.url)
      : await embeddedClickHouseStatus(config),
  );
  return statuses;
}

/**
 * The embedded engine is a library, not a service: it is open only inside the daemon's process.
 * Say whether a daemon answers at the configured API address, and nothing about its health.
 */
async function embeddedClickHouseStatus(config: HalflifeConfig): Promise<ServiceStatus> {
  const api = `${config.api.host === '0.0.0.0' ? '127.0.0.1' : config.api.host}:${config.api.port}`;
  const daemon = await fetch(`http://${api}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
    (response) => response.ok,
    () => false,
  );
  return {
    name: 'clickhouse',
    address: config.clickhouse.path,
    mode: 'embedded',
    healthy: null,
    state: daemon ? 'in-daemon' : 'not-open',
    detail: daemon
      ? `embedded chDB, open in the daemon's process (API at ${api}; its readiness: /readyz)`
      : `embedded chDB, opened by the daemon's process (\`halflife start\`); no daemon answers at ${api}`,
  };
}

async function externalStatus(name: string, addresses: string): Promise<ServiceStatus> {
  const [first] = addresses.split(',');
  const [host, port] = (first ?? '').trim().split(':');
  const healthy = await portOpen(Number(port), host);
  return { name, address: addresses, mode: 'external', healthy, state: healthy ? 'running' : 'stopped' };
}

async function remoteClickHouseStatus(url: string): Promise<ServiceStatus> {
  let healthy = false;
  let detail: string | undefined;
  try {
    const response = await fetch(new URL('/ping', url), { signal: AbortSignal.timeout(2000) });
    healthy = response.ok;
  } catch (err) {
    detail = (err as Error).message;
  }
  return {
    name: 'clickhouse',
    address: url,
    mode: 'external',
    healthy,
    state: healthy ? 'running' : 'stopped',
    detail,
  };
}
