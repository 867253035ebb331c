import { Command, CommanderError } from 'commander';
import { registerAlertsCommand } from './commands/alerts.ts';
import { registerAuditCommand } from './commands/audit.ts';
import { registerBacktestCommand } from './commands/backtest.ts';
import { registerConfigCommand } from './commands/config.ts';
import { registerModelsCommand } from './commands/models.ts';
import { registerDriftCommand } from './commands/drift.ts';
import { registerGdprCommand } from './commands/gdpr.ts';
import { registerTokensCommand } from './commands/tokens.ts';
import { registerMonitorCommands } from './commands/monitor.ts';
import { registerReplayCommand } from './commands/replay.ts';
import { registerServicesCommand } from './commands/services.ts';
import { registerStartCommand } from './commands/start.ts';
import { fail } from './output.ts';

/** `halflife`: one command, a subcommand per job. Every subcommand has --help; most have --json. */
export function buildProgram(): Command {
  const program = new Command('halflife')
    .description('Drift monitoring and cost-aware retraining for ML models in production.')
    .option('-c, --config <file>', 'config file (default: ./halflife.yaml if present; env HALFLIFE_CONFIG)')
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: false })
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 failure, 2 bad configuration or usage, 3 invalid input, 4 dependency unavailable, 5 not found.',
    );
  registerStartCommand(program);
  registerServicesCommand(program);
  registerDriftCommand(program);
  registerMonitorCommands(program);
  registerAlertsCommand(program);
  registerReplayCommand(program);
  registerModelsCommand(program);
  registerAuditCommand(program);
  registerGdprCommand(program);
  registerTokensCommand(program);
  registerConfigCommand(program);
  registerBacktestCommand(program);
  return program;
}

async function main(): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
    fail(err, process.argv.includes('--json'));
  }
}

main().catch((err: unknown) => fail(err, process.argv.includes('--json')));
