import type { Command } from 'commander';

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description(
      'run the daemon: local services (unless external), ingest, Temporal worker, HTTP API (what `npm start` runs)',
    )
    .action(async () => {
      const { runDaemon } = await import('../../workers/daemon.ts');
      await runDaemon({ configFile: program.opts<{ config?: string }>().config });
    });
}
