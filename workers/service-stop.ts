/**
 * The daemon's shutdown step for one local service it started (or adopted): SIGTERM its process
 * group, SIGKILL the group after a grace, each signal logged. The service runs detached in its own
 * process group, so nothing else would stop it once this process has exited.
 */
import { killProcessGroup, stopProcess } from '../local-services/process.ts';
import type { LocalService } from '../local-services/service.ts';
import type { Logger } from '../platform/logger.ts';
import type { ShutdownStep } from './shutdown.ts';

export interface ServiceStopOptions {
  log: Logger;
  /** How long the service may take to exit after SIGTERM before its group is SIGKILLed (ms). @default 15000 */
  graceMs?: number;
  /** How long to wait for the group to go after SIGKILL (ms). @default 5000 */
  killWaitMs?: number;
}

export function serviceStopStep(
  service: Pick<LocalService, 'name' | 'pidFile'>,
  options: ServiceStopOptions,
): ShutdownStep {
  const { log, graceMs = 15_000, killWaitMs = 5_000 } = options;
  return {
    name: service.name,
    // Room for the grace, SIGKILL and its wait, and a loaded event loop; past it, `kill` below.
    timeoutMs: graceMs + killWaitMs + 10_000,
    run: async () => {
      const result = await stopProcess(service.pidFile, {
        graceMs,
        killWaitMs,
        onSignal: ({ pid, signal, members }) => {
          if (signal === 'SIGTERM')
            log.info({ part: service.name, pid, signal, members, graceMs }, 'asking it to exit');
          else
            log.warn(
              { part: service.name, pid, signal, members, graceMs },
              'still running after its grace: killing its process group',
            );
        },
      });
      return result === 'killed' ? 'escalated' : undefined;
    },
    kill: () => {
      const pid = killProcessGroup(service.pidFile);
      if (pid !== undefined) log.warn({ part: service.name, pid, signal: 'SIGKILL' }, 'killing its process group');
    },
  };
}
