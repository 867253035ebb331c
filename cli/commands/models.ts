import os from 'node:os';
import type { Command } from 'commander';
import { closeRetrainActivities, createRetrainActivities } from '../../activities/retrain.ts';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { ClickHouseLineageRepository } from '../../platform/clickhouse/lineage-repository.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { ClickHouseRegistryRepository } from '../../platform/clickhouse/registry-repository.ts';
import { loadConfig, type HalflifeConfig } from '../../platform/config.ts';
import { DependencyError, ValidationError } from '../../platform/errors.ts';
import { createLogger } from '../../platform/logger.ts';
import { isModelStage, type ModelVersion } from '../../platform/registry/types.ts';
import { emit, table } from '../output.ts';

/**
 * `halflife models list|show|promote|rollback|archive`: the model registry from the command line.
 * These commands open the registry directly. The embedded ClickHouse belongs to one process, so
 * while a daemon owns it they stop with a clear error (stop the daemon, or use the API).
 */

interface Common {
  json?: boolean;
}

async function daemonAnswers(config: HalflifeConfig): Promise<boolean> {
  const host = config.api.host === '0.0.0.0' ? '127.0.0.1' : config.api.host;
  try {
    return (await fetch(`http://${host}:${config.api.port}/healthz`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

async function withRegistry<T>(program: Command, fn: (ch: ClickHouse, config: HalflifeConfig) => Promise<T>): Promise<T> {
  const config = loadConfig({ file: program.opts<{ config?: string }>().config });
  const locked = 'the embedded database is in use by another process (the daemon?): stop the daemon or use the API';
  if (!config.clickhouse.url && (await daemonAnswers(config))) throw new DependencyError(locked);
  let ch: ClickHouse;
  try {
    ch = await openClickHouse(config);
  } catch (err) {
    const message = (err as Error).message;
    throw new DependencyError(/lock|in use|busy|already/i.test(message) ? `${locked} (${message})` : `cannot open ClickHouse: ${message}`, { cause: err });
  }
  try {
    await applyMigrations(ch.client);
    return await fn(ch, config);
  } finally {
    await ch.close();
  }
}

const actorDefault = () => `user:${os.userInfo().username}`;

function versionRows(versions: ModelVersion[]): string {
  return table(
    ['version', 'stage', 'trainer', 'created', 'promoted', 'lineage', 'sha256'],
    versions.map((v) => [v.version, v.stage, v.trainer, v.createdAt, v.promotedAt ?? '', v.lineageId, v.sha256.slice(0, 12)]),
  );
}

export function registerModelsCommand(program: Command): void {
  const models = program.command('models').description('the model registry: versions, stages, promotion and rollback');

  models
    .command('list [model]')
    .description('list models, or the versions of one model (newest first)')
    .option('--stage <stage>', 'only versions in this stage')
    .option('--json', 'machine-readable output')
    .action(async (model: string | undefined, opts: Common & { stage?: string }) => {
      if (opts.stage !== undefined && !isModelStage(opts.stage)) throw new ValidationError(`unknown stage ${opts.stage}: use candidate, shadow, canary, production, archived, rejected or tainted`);
      await withRegistry(program, async (ch) => {
        const registry = new ClickHouseRegistryRepository(ch.client);
        if (!model) {
          const list = await registry.listModels();
          emit(!!opts.json, list, () => (list.length === 0 ? 'no models registered' : table(['model', 'versions', 'production'], list.map((m) => [m.modelId, m.versions, m.production ?? '-']))));
          return;
        }
        const versions = await registry.listVersions(model, opts.stage && isModelStage(opts.stage) ? { stage: opts.stage } : {});
        emit(!!opts.json, versions, () => (versions.length === 0 ? `no versions of ${model}` : versionRows(versions)));
      });
    });

  models
    .command('show <model> <version>')
    .description('one version: stage, artifact, trainer, params, metrics, training snapshot and stage history')
    .option('--json', 'machine-readable output')
    .action(async (model: string, version: string, opts: Common) => {
      await withRegistry(program, async (ch) => {
        const registry = new ClickHouseRegistryRepository(ch.client);
        const v = await registry.requireVersion(model, version);
        const history = await registry.stageHistory(model, version);
        const snapshot = v.lineageId ? await new ClickHouseLineageRepository(ch.client).getSnapshot(v.lineageId) : null;
        const value = { ...v, history, snapshot };
        emit(!!opts.json, value, () =>
          [
            `${v.modelId} ${v.version}: ${v.stage}${v.stageReason ? ` (${v.stageReason})` : ''}`,
            `artifact   ${v.artifactUri}`,
            `sha256     ${v.sha256}`,
            `trainer    ${v.trainer}, code ${v.codeVersion}, seed ${v.seed}`,
            `params     ${JSON.stringify(v.params)}`,
            `metrics    ${JSON.stringify(v.metrics)}`,
            `features   numeric: ${v.features.numeric.join(', ') || '-'}; categorical: ${v.features.categorical.join(', ') || '-'}`,
            `created    ${v.createdAt} by ${v.createdBy}${v.parentVersion ? `, parent ${v.parentVersion}` : ''}`,
            `promoted   ${v.promotedAt ? `${v.promotedAt} by ${v.promotedBy}` : '-'}`,
            snapshot
              ? `training   snapshot ${snapshot.snapshotId}: ${snapshot.trainRows} rows (+${snapshot.holdoutRows} held out) from ${snapshot.window.start} to ${snapshot.window.end}, content ${snapshot.contentHash.slice(0, 16)}`
              : 'training   (no snapshot: imported)',
            '',
            table(['at', 'from', 'to', 'actor', 'reason'], history.map((h) => [h.at, h.fromStage || '-', h.toStage, h.actor, h.reason])),
          ].join('\n'),
        );
      });
    });

  const mutate = (name: string, description: string) =>
    models.command(name).description(description).option('--actor <name>', 'who does it (recorded)').option('--reason <text>', 'why (recorded)').option('--json', 'machine-readable output');

  mutate('promote <model> <version>', 'make a version production (the previous one is archived) and publish a 100% model update').action(
    async (model: string, version: string, opts: Common & { actor?: string; reason?: string }) => {
      await withRegistry(program, async (ch, config) => {
        const acts = createRetrainActivities({ clickhouse: ch.client, config, log: createLogger('cli', 'warn') });
        try {
          const result = await acts.promoteVersion({ retrainId: `cli-${Date.now()}`, modelId: model, version, actor: opts.actor ?? actorDefault(), reason: opts.reason ?? 'promoted from the CLI' });
          emit(!!opts.json, result, () => (result.alreadyPromoted ? `${model} ${version} was already production` : `${model} ${version} is production${result.previousVersion ? ` (${result.previousVersion} archived)` : ''}`));
        } finally {
          await closeRetrainActivities(acts);
        }
      });
    },
  );

  mutate('rollback <model>', 'return to the previous production version (the current one is rejected) and publish it').option('--to <version>', 'the version to return to').action(
    async (model: string, opts: Common & { actor?: string; reason?: string; to?: string }) => {
      await withRegistry(program, async (ch, config) => {
        const registry = new ClickHouseRegistryRepository(ch.client);
        const current = await registry.productionVersion(model);
        if (!current) throw new ValidationError(`${model} has no production version to roll back`);
        const acts = createRetrainActivities({ clickhouse: ch.client, config, log: createLogger('cli', 'warn') });
        try {
          const result = await acts.rollbackVersion({ retrainId: `cli-${Date.now()}`, modelId: model, version: current.version, ...(opts.to ? { toVersion: opts.to } : {}), actor: opts.actor ?? actorDefault(), reason: opts.reason ?? 'rolled back from the CLI' });
          emit(!!opts.json, result, () => `${model}: ${result.rolledBackVersion} rolled back, ${result.restoredVersion} is production`);
        } finally {
          await closeRetrainActivities(acts);
        }
      });
    },
  );

  mutate('archive <model> <version>', 'retire a version that is not in production').action(async (model: string, version: string, opts: Common & { actor?: string; reason?: string }) => {
    await withRegistry(program, async (ch) => {
      const registry = new ClickHouseRegistryRepository(ch.client);
      const v = await registry.requireVersion(model, version);
      if (v.stage === 'production') throw new ValidationError(`${model} ${version} is in production: promote another version or roll back first`);
      const change = await registry.setStage(model, version, 'archived', opts.actor ?? actorDefault(), opts.reason ?? 'archived from the CLI');
      emit(!!opts.json, change, () => (change.changed ? `${model} ${version}: ${change.previousStage} → archived` : `${model} ${version} was already archived`));
    });
  });
}
