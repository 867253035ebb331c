import type { Command } from 'commander';
import { loadConfig } from '../../platform/config.ts';
import { servicesDown, servicesStatus, servicesUp } from '../../local-services/stack.ts';
import { emit, table } from '../output.ts';

export function registerServicesCommand(program: Command): void {
  const services = program
    .command('services')
    .description('start, stop and check the local Temporal dev server and Kafka broker');
  const config = () => loadConfig({ file: program.opts<{ config?: string }>().config });
  const progress = (line: string) => process.stderr.write(`${line}\n`);

  services
    .command('up')
    .description('start local services that are not configured as external, and wait until healthy')
    .option('--json', 'print the resulting status as JSON')
    .action(async (opts: { json?: boolean }) => {
      const cfg = config();
      await servicesUp(cfg, { onProgress: progress });
      const status = await servicesStatus(cfg);
      emit(!!opts.json, status, () => renderStatus(status));
    });

  services
    .command('down')
    .description('stop the local services (clean shutdown, then SIGKILL after 15 s)')
    .action(async () => {
      await servicesDown(config(), undefined, progress);
    });

  services
    .command('status')
    .description(
      'each service with its address and health (embedded chDB: whether a daemon has it open); exit 1 if any is unhealthy',
    )
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const status = await servicesStatus(config());
      emit(!!opts.json, status, () => renderStatus(status));
      if (status.some((s) => s.healthy === false)) process.exitCode = 1;
    });
}

function renderStatus(status: Awaited<ReturnType<typeof servicesStatus>>): string {
  return table(
    ['service', 'mode', 'state', 'healthy', 'address', 'more'],
    status.map((s) => [
      s.name,
      s.mode,
      s.state,
      s.healthy === null ? '—' : s.healthy ? 'yes' : 'NO',
      s.address,
      [...Object.entries(s.extra ?? {}).map(([k, v]) => `${k}: ${v}`), s.pid ? `pid ${s.pid}` : '', s.detail ?? '']
        .filter(Boolean)
        .join(', '),
    ]),
  );
}
