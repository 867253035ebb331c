/**
 * The Temporal SDK's process-wide Runtime, with its logger routed to ours: the SDK's default
 * prints multi-line `[INFO] Worker state changed { ... }` blocks to stderr, which are neither
 * structured nor wanted in a command's output. Workflow `log.*` calls go through the same
 * logger, so the threshold is chosen per process.
 */
import { DefaultLogger, Runtime, type LogEntry, type LogLevel } from '@temporalio/worker';
import { subsystemLog, type Logger } from '../platform/logger.ts';

const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * Install the Runtime with `log` as its logger, passing on SDK messages from `threshold` up.
 * The worker's own INFO chatter (state changes, "no Nexus services") is demoted to debug;
 * workflow and activity INFO logs stay info. A no-op when the Runtime already exists in this
 * process (another worker, or a test that installed its own): the first one stays.
 * @returns whether this call installed it
 */
export function installTemporalRuntime(log: Logger, threshold: LogLevel = 'INFO'): boolean {
  if (Runtime._instance !== undefined) return false;
  const sdk = subsystemLog(log, 'temporal-sdk');
  Runtime.install({
    // The process entry points own their signals (the daemon's stop sequence, the worker's own
    // handler): by default the SDK shuts every worker down on SIGINT, SIGTERM, SIGQUIT and SIGUSR2,
    // so a SIGQUIT or SIGUSR2 left the daemon running with its worker stopped.
    shutdownSignals: [],
    // The SDK core's own (Rust) log lines go through the same logger, not to the console: left to
    // its default, core prints its warnings to stdout, where they broke `halflife replay --json`.
    telemetryOptions: { logging: { forward: {}, filter: { core: threshold, other: 'ERROR' } } },
    logger: new DefaultLogger(threshold, (entry: LogEntry) => {
      const meta = entry.meta ?? {};
      const level =
        entry.level === 'INFO' && (meta as { sdkComponent?: unknown }).sdkComponent === 'worker'
          ? 'debug'
          : PINO_LEVEL[entry.level];
      sdk[level](meta, entry.message);
    }),
  });
  return true;
}

/** The SDK level matching a pino level: what the daemon passes for its configured level. */
export function sdkLevelOf(level: string): LogLevel {
  switch (level) {
    case 'trace':
      return 'TRACE';
    case 'debug':
      return 'DEBUG';
    case 'info':
      return 'INFO';
    case 'warn':
      return 'WARN';
    default:
      return 'ERROR';
  }
}
