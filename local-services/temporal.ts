import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { installed, serviceDirs } from '../platform/paths.ts';
import { SEARCH_ATTRIBUTES } from '../platform/temporal.ts';
import type { LocalService } from './service.ts';
import { freePortWithSides, portOpen, startProcess } from './process.ts';

export interface TemporalDevServerOptions {
  dataDir: string;
  /** gRPC frontend port. @default 7233 */
  port: number;
  /** Web UI port. @default 8233 */
  uiPort: number;
  namespace: string;
  /** Serve the Web UI. @default true */
  ui?: boolean;
  /** SQLite `synchronous` of the store, which runs in WAL mode. @default 'normal' */
  sqliteSync?: 'full' | 'normal';
}

/** The dev server's HTTP and metrics ports, relative to its gRPC port. */
const SIDE_PORT_OFFSETS = { http: 10, metrics: 11 } as const;

/** The dev server's Prometheus metrics port for its gRPC port. */
export const temporalMetricsPort = (port: number): number => port + SIDE_PORT_OFFSETS.metrics;

/** A free gRPC port whose HTTP and metrics side ports are free too (for tests and throwaway stacks). */
export const freeTemporalPort = (): Promise<number> => freePortWithSides(Object.values(SIDE_PORT_OFFSETS));

/** The `temporal server start-dev` process (SQLite-backed, persistent across restarts). */
export function temporalDevServer(options: TemporalDevServerOptions): LocalService {
  const dirs = serviceDirs(options.dataDir);
  const address = `127.0.0.1:${options.port}`;
  return {
    name: 'temporal',
    address,
    extra: options.ui === false ? {} : { ui: `http://127.0.0.1:${options.uiPort}` },
    logFile: path.join(dirs.logs, 'temporal.log'),
    pidFile: path.join(dirs.run, 'temporal.pid'),
    ports: [options.port, ...(options.ui === false ? [] : [options.uiPort])],
    start() {
      mkdirSync(path.dirname(dirs.temporalDb), { recursive: true });
      const args = [
        'server',
        'start-dev',
        '--db-filename',
        dirs.temporalDb,
        '--ip',
        '127.0.0.1',
        '--port',
        String(options.port),
        // Pin the side ports too, so two stacks on one machine do not collide.
        '--http-port',
        String(options.port + SIDE_PORT_OFFSETS.http),
        '--metrics-port',
        String(options.port + SIDE_PORT_OFFSETS.metrics),
        '--namespace',
        options.namespace,
        '--log-level',
        'warn',
        // SQLite's default rollback journal syncs several times per commit, and every workflow
        // task is commits: a 1,000-model fleet saturated the store at ~40 commits/s of ~22 ms
        // each (BENCHMARKS.md, "Fleet"). WAL appends one record per commit (persistent: set once).
        '--sqlite-pragma',
        'journal_mode=wal',
        '--sqlite-pragma',
        `synchronous=${options.sqliteSync ?? 'normal'}`,
        ...Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
      ];
      if (options.ui === false) args.push('--headless');
      // The UI's news feed would reach outside this machine.
      else args.push('--ui-port', String(options.uiPort), '--ui-ip', '127.0.0.1', '--ui-disable-news-fetch');
      return startProcess(installed.temporalCli, args, { logFile: this.logFile, pidFile: this.pidFile });
    },
    async health() {
      if (!(await portOpen(options.port))) return false;
      const connection = await Connection.connect({ address, connectTimeout: 2000 });
      try {
        const response = await connection.healthService.check({});
        return response.status === 1; // SERVING
      } finally {
        await connection.close();
      }
    },
  };
}
