import type { Command } from 'commander';
import { describeSettings, loadConfig } from '../../platform/config.ts';
import { SETTINGS_TABLE_HEADERS } from '../../platform/config-docs.ts';
import { emit, table } from '../output.ts';

export function registerConfigCommand(program: Command): void {
  program
    .command('config')
    .description('print the effective configuration (secrets hidden), or with --docs every setting')
    .option('--docs', 'list every setting, its environment variable and default')
    .option('--json', 'machine-readable output')
    .action((opts: { docs?: boolean; json?: boolean }) => {
      if (opts.docs) {
        const docs = describeSettings();
        emit(!!opts.json, docs, () =>
          table(
            [...SETTINGS_TABLE_HEADERS],
            docs.map((d) => [d.key, d.env, d.doc]),
          ),
        );
        return;
      }
      const config = loadConfig({ file: program.opts<{ config?: string }>().config });
      const shown = structuredClone(config);
      if (shown.api.token) shown.api.token = '(set)';
      if (shown.clickhouse.password) shown.clickhouse.password = '(set)';
      if (shown.ingest.provenanceKey) shown.ingest.provenanceKey = '(set)';
      emit(!!opts.json, shown, () => JSON.stringify(shown, null, 2));
    });
}
