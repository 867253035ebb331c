import type { Command } from 'commander';
import { createToken, isRole, readTokensFile, revokeToken, tokensFile } from '../../platform/auth.ts';
import { loadConfig } from '../../platform/config.ts';
import { ValidationError } from '../../platform/errors.ts';
import { emit, table } from '../output.ts';
import { formatInstant } from '../../detectors/texts/format.ts';
import { cliActor } from '../store-access.ts';

/**
 * `halflife tokens create|list|revoke`: named API tokens with a role, kept hashed in
 * `<dataDir>/tokens.json` (mode 0600). Managing them needs write access to the data directory,
 * i.e. the admin's account on the daemon's machine; the running daemon picks changes up within
 * a second.
 */
export function registerTokensCommand(program: Command): void {
  const config = () => loadConfig({ file: program.opts<{ config?: string }>().config });
  const tokens = program
    .command('tokens')
    .description('API tokens with roles (viewer, operator, admin), stored hashed in <dataDir>/tokens.json');

  tokens
    .command('create <name>')
    .description('create a token; it is printed once and only its sha256 is kept')
    .requiredOption('--role <role>', 'viewer (reads), operator (acts on models and monitors) or admin (everything)')
    .option('--as <name>', 'who creates it (recorded); default: $USER')
    .option('--json', 'machine-readable output')
    .action((name: string, opts: { role: string; as?: string; json?: boolean }) => {
      if (!isRole(opts.role)) throw new ValidationError(`role ${opts.role}: use viewer, operator or admin`);
      const { token, entry } = createToken(tokensFile(config()), name, opts.role, cliActor(opts.as));
      const { sha256: _digest, ...shown } = entry;
      emit(
        !!opts.json,
        { ...shown, token },
        () =>
          `token ${entry.name} (${entry.role}, id ${entry.id}):\n${token}\nStore it now: it is not shown again. Send it as \`Authorization: Bearer <token>\`.`,
      );
    });

  tokens
    .command('list')
    .description('named tokens with role, creation and revocation (never the tokens themselves)')
    .option('--all', 'include revoked tokens')
    .option('--json', 'machine-readable output')
    .action((opts: { all?: boolean; json?: boolean }) => {
      const entries = readTokensFile(tokensFile(config()))
        .tokens.filter((t) => opts.all || !t.revokedAt)
        .map(({ sha256: _digest, ...t }) => t);
      emit(!!opts.json, entries, () =>
        entries.length === 0
          ? 'no named tokens (the admin token is in <dataDir>/api-token or HALFLIFE_API_TOKEN)'
          : table(
              ['name', 'role', 'id', 'created', 'by', 'revoked'],
              entries.map((t) => [
                t.name,
                t.role,
                t.id,
                formatInstant(t.createdAt),
                t.createdBy,
                t.revokedAt ? `${formatInstant(t.revokedAt)} by ${t.revokedBy}` : '',
              ]),
            ),
      );
    });

  tokens
    .command('revoke <name-or-id>')
    .description('revoke a token (the running daemon refuses it within a second)')
    .option('--as <name>', 'who revokes it (recorded); default: $USER')
    .option('--json', 'machine-readable output')
    .action((nameOrId: string, opts: { as?: string; json?: boolean }) => {
      const revoked = revokeToken(tokensFile(config()), nameOrId, cliActor(opts.as)).map(
        ({ sha256: _digest, ...t }) => t,
      );
      emit(!!opts.json, revoked, () => revoked.map((t) => `revoked ${t.name} (${t.role}, id ${t.id})`).join('\n'));
    });
}
