import type { Command } from 'commander';
import { loadConfig } from '../../platform/config.ts';
import { HalflifeError } from '../../platform/errors.ts';
import { connectTemporal } from '../../platform/temporal.ts';
import { emit } from '../output.ts';
import { formatInstant } from '../../detectors/texts/format.ts';

export function registerReplayCommand(program: Command): void {
  program
    .command('replay [workflow-id]')
    .description(
      "replay a workflow's recorded history against the current code, printing each decision as it is re-derived; exit 1 on nondeterminism",
    )
    .option('--run <run-id>', 'a specific run (default: the latest)')
    .option(
      '--history <file>',
      'replay a JSON history exported by `temporal workflow show --output json` or the Web UI instead of fetching it',
    )
    .option('--json', 'machine-readable output')
    .action(async (workflowId: string | undefined, opts: { run?: string; history?: string; json?: boolean }) => {
      const { loadHistoryFile, replayHistory } = await import('../../workers/replay.ts');
      if (!workflowId && !opts.history) throw new HalflifeError('name a workflow id, or pass --history <file>');
      let history;
      const id = workflowId ?? 'replayed-from-file';
      if (opts.history) {
        history = loadHistoryFile(opts.history);
      } else {
        const { client, connection } = await connectTemporal(
          loadConfig({ file: program.opts<{ config?: string }>().config }),
        );
        try {
          history = await client.workflow.getHandle(id, opts.run).fetchHistory();
        } finally {
          await connection.close();
        }
      }
      process.stderr.write(
        `replaying ${history.events?.length ?? 0} events of ${id} against the current workflow code...\n`,
      );
      const outcome = await replayHistory(history, id, (d) => {
        if (!opts.json) {
          const window = d.window ? ` window ${formatInstant(d.window.start)} → ${formatInstant(d.window.end)}` : '';
          const quality = d.quality === null ? '' : ` quality ${d.quality.toFixed(3)}`;
          process.stdout.write(`${formatInstant(d.at)}  ${d.kind.padEnd(18)}${window}${quality}\n    ${d.reason}\n`);
        }
      });
      emit(!!opts.json, outcome, () =>
        outcome.ok
          ? `replay OK: ${outcome.decisions.length} decisions re-derived; the current code is deterministic against this history`
          : `REPLAY FAILED (${outcome.error?.kind}${outcome.error?.eventId ? ` at event ${outcome.error.eventId}` : ''}): ${outcome.error?.message}`,
      );
      if (!outcome.ok) process.exitCode = 1;
    });
}
