import { parseVectorSpec } from '../../platform/vector-features.ts';
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { archiveVersion } from '../../operations/archive-version.ts';
import {
  modelKindInput,
  readReferenceFile,
  registerModel,
  type ReferenceSource,
  type RegisterModelResult,
} from '../../operations/register-model.ts';
import { LocalArtifactStore } from '../../platform/registry/artifact-store.ts';
import { promoteVersionManually, type PromoteVersionResult } from '../../operations/promote-version.ts';
import { openPromotionContext, type PromotionContext } from '../../operations/promotion-context.ts';
import { MonitorClient } from '../../operations/monitor-control.ts';
import { rollbackProductionManually, type RollbackVersionResult } from '../../operations/rollback-version.ts';
import { servedByOf, servingStatus, servingSummary, type ServingStatus } from '../../operations/serving-status.ts';
import type { ClickHouse } from '../../platform/clickhouse/client.ts';
import { ClickHouseLineageRepository, type TrainingSnapshot } from '../../platform/clickhouse/lineage-repository.ts';
import { ClickHouseRegistryRepository } from '../../platform/clickhouse/registry-repository.ts';
import { loadConfig, type HalflifeConfig } from '../../platform/config.ts';
import { NotFoundError, ValidationError } from '../../platform/errors.ts';
import { createLogger } from '../../platform/logger.ts';
import { isModelStage, type ModelVersion, type StageChange, type StageEvent } from '../../platform/registry/types.ts';
import { emit, table } from '../output.ts';
import { formatInstant } from '../../detectors/texts/format.ts';
import { cliActor, viaStore } from '../store-access.ts';

/** Each scorer's routing of a model, next to the registry's request, and whether they agree. */
function servingRows(s: ServingStatus): string {
  const lines = [
    `requested: ${s.requested.production ? `${s.requested.production.version} (production, sha256 ${s.requested.production.sha256.slice(0, 12)})` : 'no production version'}${s.requested.canary.length ? `, canary ${s.requested.canary.map((c) => c.version).join(', ')}` : ''}`,
    `serving:   ${servingSummary(s)}`,
    `events:    ${s.scored.length ? s.scored.map((v) => `${v.version} ${v.events}`).join(', ') : 'none'} in the last 10 minutes`,
  ];
  if (s.scorers.length > 0)
    lines.push(
      table(
        ['scorer', 'live', 'serves', 'since', 'refused'],
        s.scorers.map((x) => [
          x.scorerId,
          x.live ? 'yes' : `no (last seen ${new Date(x.lastSeenAt).toISOString()})`,
          x.serving?.routes
            .filter((r) => r.share > 0)
            .map((r) => `${r.version}${r.share < 1 ? ` ${Math.round(r.share * 100)}%` : ''}`)
            .join(' + ') || 'nothing',
          x.serving ? new Date(x.serving.since).toISOString() : '',
          x.refusal ? `${x.refusal.version || 'withdrawal'}: ${x.refusal.reason}` : '',
        ]),
      ),
    );
  for (const d of s.disagreements) lines.push(`DISAGREES (${d.source}): ${d.reason}`);
  return lines.join('\n');
}

/**
 * `halflife models list|show|promote|rollback|archive`: the model registry from the command line.
 * While the daemon owns the embedded database these go through its API (/v1/models…); otherwise
 * they open the registry directly and record the access (source 'cli') in the access log.
 * Promotions and rollbacks are recorded as decisions either way.
 */

interface Common {
  json?: boolean;
  as?: string;
}

const enc = encodeURIComponent;

async function withPromotion<T>(
  ch: ClickHouse,
  config: HalflifeConfig,
  fn: (ctx: PromotionContext) => Promise<T>,
): Promise<T> {
  // The model's monitor hears how a promotion or rollback ended (its alert rules), when Temporal answers.
  const monitors = new MonitorClient(config);
  const { ctx, close } = openPromotionContext({
    clickhouse: ch.client,
    config,
    log: createLogger('cli', 'warn'),
    monitors,
  });
  try {
    return await fn(ctx);
  } finally {
    await close();
    await monitors.close();
  }
}

function versionRows(versions: ModelVersion[]): string {
  return table(
    ['version', 'stage', 'trainer', 'created', 'promoted', 'lineage', 'sha256'],
    versions.map((v) => [
      v.version,
      v.stage,
      v.trainer,
      formatInstant(v.createdAt),
      v.promotedAt ? formatInstant(v.promotedAt) : '',
      v.lineageId,
      v.sha256.slice(0, 12),
    ]),
  );
}

export function registerModelsCommand(program: Command): void {
  const config = () => loadConfig({ file: program.opts<{ config?: string }>().config });
  const models = program.command('models').description('the model registry: versions, stages, promotion and rollback');

  models
    .command('list [model]')
    .description('list models, or the versions of one model (newest first)')
    .option('--stage <stage>', 'only versions in this stage')
    .option('--as <name>', 'who is reading (access log, direct path); default: $USER')
    .option('--json', 'machine-readable output')
    .action(async (model: string | undefined, opts: Common & { stage?: string }) => {
      const stage = opts.stage;
      if (stage !== undefined && !isModelStage(stage))
        throw new ValidationError(
          `unknown stage ${stage}: use candidate, shadow, canary, production, archived, rejected or tainted`,
        );
      if (!model) {
        const cfg = config();
        const list = await viaStore(cfg, {
          method: 'GET',
          apiPath: '/v1/models',
          direct: async (ch) =>
            Promise.all(
              (await new ClickHouseRegistryRepository(ch.client).listModels()).map(async (m) => ({
                ...m,
                serving: await servingStatus(ch.client, cfg, m.modelId),
              })),
            ),
          access: { action: 'read', command: 'models list', actor: cliActor(opts.as) },
        });
        emit(!!opts.json, list, () =>
          list.length === 0
            ? 'no models registered'
            : table(
                ['model', 'versions', 'production', 'serving'],
                list.map((m) => [m.modelId, m.versions, m.production ?? '-', servingSummary(m.serving)]),
              ),
        );
        return;
      }
      const cfg = config();
      const answer = await viaStore(cfg, {
        method: 'GET',
        apiPath: `/v1/models/${enc(model)}${stage ? `?stage=${enc(stage)}` : ''}`,
        direct: async (ch) => {
          const versions = await new ClickHouseRegistryRepository(ch.client).listVersions(
            model,
            stage && isModelStage(stage) ? { stage } : {},
          );
          if (versions.length === 0 && !stage) throw new NotFoundError(`no model ${model} in the registry`);
          return { modelId: model, versions, serving: await servingStatus(ch.client, cfg, model) };
        },
        access: { action: 'read', command: 'models list', actor: cliActor(opts.as), modelId: model },
      });
      // JSON stays a list of versions (scripts read it); each says which scorers serve it.
      const versions = answer.versions.map((v) => ({ ...v, servedBy: servedByOf(answer.serving, v.version) }));
      emit(!!opts.json, versions, () =>
        [
          answer.versions.length === 0 ? `no versions of ${model}` : versionRows(answer.versions),
          '',
          servingRows(answer.serving),
        ].join('\n'),
      );
    });

  models
    .command('show <model> <version>')
    .description('one version: stage, artifact, trainer, params, metrics, training snapshot and stage history')
    .option('--as <name>', 'who is reading (access log, direct path); default: $USER')
    .option('--json', 'machine-readable output')
    .action(async (model: string, version: string, opts: Common) => {
      const cfg = config();
      const value = await viaStore<
        ModelVersion & {
          history: StageEvent[];
          snapshot: TrainingSnapshot | null;
          servedBy: ReturnType<typeof servedByOf>;
        }
      >(cfg, {
        method: 'GET',
        apiPath: `/v1/models/${enc(model)}/versions/${enc(version)}`,
        direct: async (ch) => {
          const registry = new ClickHouseRegistryRepository(ch.client);
          const v = await registry.requireVersion(model, version);
          const history = await registry.stageHistory(model, version);
          const snapshot = v.lineageId
            ? await new ClickHouseLineageRepository(ch.client).getSnapshot(v.lineageId)
            : null;
          return { ...v, history, snapshot, servedBy: servedByOf(await servingStatus(ch.client, cfg, model), version) };
        },
        access: {
          action: 'read',
          command: 'models show',
          actor: cliActor(opts.as),
          modelId: model,
          modelVersion: version,
        },
      });
      const v = value;
      const { history, snapshot, servedBy } = value;
      emit(!!opts.json, value, () =>
        [
          `${v.modelId} ${v.version}: ${v.stage}${v.stageReason ? ` (${v.stageReason})` : ''}`,
          `artifact   ${v.artifactUri}`,
          `sha256     ${v.sha256}`,
          `trainer    ${v.trainer}, code ${v.codeVersion}, seed ${v.seed}`,
          `params     ${JSON.stringify(v.params)}`,
          `metrics    ${JSON.stringify(v.metrics)}`,
          `features   numeric: ${v.features.numeric.join(', ') || '-'}; categorical: ${v.features.categorical.join(', ') || '-'}`,
          `created    ${formatInstant(v.createdAt)} by ${v.createdBy}${v.parentVersion ? `, parent ${v.parentVersion}` : ''}`,
          `promoted   ${v.promotedAt ? `${formatInstant(v.promotedAt)} by ${v.promotedBy}` : '-'}`,
          `served by  ${
            servedBy.scorers.length === 0
              ? 'no scorer'
              : servedBy.scorers
                  .map(
                    (x) =>
                      `${x.scorerId}${x.shadow ? ' (shadow)' : ` ${Math.round(x.share * 100)}%`}${x.live ? '' : ' (not live)'}`,
                  )
                  .join(', ')
          }; ${servedBy.recentEvents} event(s) in the last 10 minutes`,
          snapshot
            ? `training   snapshot ${snapshot.snapshotId}: ${snapshot.trainRows} rows (+${snapshot.holdoutRows} held out) from ${snapshot.window.start} to ${snapshot.window.end}, content ${snapshot.contentHash.slice(0, 16)}`
            : 'training   (no snapshot: imported)',
          '',
          table(
            ['at', 'from', 'to', 'actor', 'reason'],
            history.map((h) => [formatInstant(h.at), h.fromStage || '-', h.toStage, h.actor, h.reason]),
            { wrap: [4] },
          ),
        ].join('\n'),
      );
    });

  models
    .command('register <model>')
    .description(
      'register a version halflife did not train: an ONNX artifact (its inputs checked against the reference), or none for a monitor-only model served elsewhere',
    )
    .option('--artifact <file>', 'the ONNX model (omit for a monitor-only model: its events arrive with their version)')
    .option(
      '--reference <file>',
      'reference data, CSV or Parquet (.parquet): its columns check the inputs and become the drift reference',
    )
    .option(
      '--reference-window <from..to>',
      'reference from stored events of the model, e.g. 2026-03-01T00:00Z..2026-03-02T00:00Z (or epoch ms)',
    )
    .option('--categorical <columns>', 'comma-separated reference columns to read as categories')
    .option(
      '--stage <stage>',
      'candidate or production (production archives the current one; nothing is published to serving)',
      'candidate',
    )
    .option('--version <version>', 'the version name, v<n> (default: the next one)')
    .option(
      '--decision-threshold <score>',
      'the score at or above which the version predicts positive, e.g. 0.65 (label-free accuracy is estimated at it; default: none recorded, 0.5 assumed)',
    )
    .option(
      '--vector <name:dimension>',
      'declare a vector feature (embedding) and its exact dimension, e.g. --vector embedding:32 (repeat for several); events must send it as an array of that many numbers',
      (spec: string, specs: string[]) => [...specs, spec],
      [] as string[],
    )
    .option(
      '--kind <kind>',
      'binary, multiclass or regression, declared for the model: multiclass events send prediction.probabilities over --classes, regression events prediction.value (default: none declared, binary)',
    )
    .option('--classes <list>', "a multiclass model's classes in order, comma-separated, e.g. cat,dog,bird")
    .option('--reason <text>', 'why (recorded)')
    .option('--as <name>', 'who registers it (recorded); default: $USER')
    .option('--json', 'machine-readable output')
    .action(
      async (
        model: string,
        opts: Common & {
          kind?: string;
          classes?: string;
          vector: string[];
          artifact?: string;
          reference?: string;
          referenceWindow?: string;
          categorical?: string;
          stage: string;
          version?: string;
          decisionThreshold?: string;
          reason?: string;
        },
      ) => {
        const decisionThreshold = opts.decisionThreshold === undefined ? undefined : Number(opts.decisionThreshold);
        if (
          decisionThreshold !== undefined &&
          !(Number.isFinite(decisionThreshold) && decisionThreshold >= 0 && decisionThreshold <= 1)
        )
          throw new ValidationError(
            `--decision-threshold ${opts.decisionThreshold}: give the score at or above which the version predicts positive, a number between 0 and 1 (e.g. 0.65)`,
          );
        if (opts.stage !== 'candidate' && opts.stage !== 'production')
          throw new ValidationError(`--stage ${opts.stage}: a registered version starts as candidate or production`);
        if (opts.reference && opts.referenceWindow)
          throw new ValidationError('give --reference <file> or --reference-window <from..to>, not both');
        const vectorFeatures =
          opts.vector.length > 0 ? Object.fromEntries(opts.vector.map(parseVectorSpec)) : undefined;
        const classes = opts.classes
          ?.split(',')
          .map((c) => c.trim())
          .filter(Boolean);
        const kind = modelKindInput(opts.kind, classes);
        const cfg = config();
        const actor = cliActor(opts.as);
        const artifact = opts.artifact
          ? { name: path.basename(opts.artifact), bytes: readArtifact(opts.artifact) }
          : undefined;
        const categorical = opts.categorical
          ? opts.categorical
              .split(',')
              .map((c) => c.trim())
              .filter(Boolean)
          : undefined;
        const window = opts.referenceWindow ? parseWindow(opts.referenceWindow) : undefined;
        const stage = opts.stage;
        const result = await viaStore<RegisterModelResult>(cfg, {
          method: 'POST',
          apiPath: `/v1/models/${enc(model)}/versions`,
          body: {
            ...(opts.version ? { version: opts.version } : {}),
            ...(artifact
              ? { artifact: { name: artifact.name, base64: Buffer.from(artifact.bytes).toString('base64') } }
              : {}),
            ...(opts.reference
              ? {
                  reference: {
                    file: {
                      name: path.basename(opts.reference),
                      base64: readFileOrFail(opts.reference).toString('base64'),
                    },
                    ...(categorical ? { categorical } : {}),
                  },
                }
              : {}),
            ...(window ? { reference: { window } } : {}),
            stage,
            ...(decisionThreshold === undefined ? {} : { decisionThreshold }),
            ...(vectorFeatures ? { vectorFeatures } : {}),
            ...(opts.kind ? { kind: opts.kind, ...(classes ? { classes } : {}) } : {}),
            as: actor,
            ...(opts.reason ? { reason: opts.reason } : {}),
          },
          direct: async (ch) => {
            let reference: ReferenceSource | undefined;
            if (opts.reference)
              reference = { kind: 'file', table: await readReferenceFile(ch.client, opts.reference), categorical };
            if (window) reference = { kind: 'window', ...window };
            return registerModel(
              {
                clickhouse: ch.client,
                registry: new ClickHouseRegistryRepository(ch.client),
                artifacts: LocalArtifactStore.forDataDir(cfg.dataDir),
              },
              {
                modelId: model,
                ...(opts.version ? { version: opts.version } : {}),
                ...(artifact ? { artifact } : {}),
                ...(reference ? { reference } : {}),
                stage,
                ...(decisionThreshold === undefined ? {} : { decisionThreshold }),
                ...(vectorFeatures ? { vectorFeatures } : {}),
                ...kind,
                actor,
                ...(opts.reason ? { reason: opts.reason } : {}),
              },
            );
          },
          access: {
            action: 'write',
            command: 'models register',
            actor,
            modelId: model,
            detail: (r) => ({ version: r.version.version, sha256: r.version.sha256, referenceId: r.referenceId }),
          },
        });
        const v = result.version;
        emit(!!opts.json, result, () =>
          [
            `${model} ${v.version} registered as ${v.stage} by ${v.createdBy}${result.previousProduction ? ` (${result.previousProduction} archived)` : ''}`,
            result.monitorOnly
              ? 'artifact   none (monitor-only: served elsewhere)'
              : `artifact   ${v.artifactUri} (${result.convention} inputs)`,
            ...(result.monitorOnly ? [] : [`sha256     ${v.sha256}`]),
            `features   numeric: ${v.features.numeric.join(', ') || '-'}; categorical: ${v.features.categorical.join(', ') || '-'}`,
            `reference  ${result.referenceId ?? 'none (the monitor will use its first window)'}`,
            ...(kind.kind
              ? [
                  `kind       ${kind.kind.kind}${kind.kind.kind === 'multiclass' ? ` (${kind.kind.classes.join(', ')})` : ''}`,
                ]
              : []),
            ...(vectorFeatures
              ? [
                  `vectors    ${Object.entries(vectorFeatures)
                    .map(([n, d]) => `${n} (${d})`)
                    .join(', ')}`,
                ]
              : []),
          ].join('\n'),
        );
      },
    );

  const mutate = (name: string, description: string) =>
    models
      .command(name)
      .description(description)
      .option('--as <name>', 'who does it (recorded); default: $USER')
      .option('--actor <name>', 'same as --as (kept for scripts)')
      .option('--reason <text>', 'why (recorded)')
      .option('--json', 'machine-readable output');
  const who = (opts: Common & { actor?: string }) => cliActor(opts.as ?? opts.actor);

  mutate(
    'promote <model> <version>',
    'make a version production (the previous one is archived) and publish a 100% model update',
  ).action(async (model: string, version: string, opts: Common & { actor?: string; reason?: string }) => {
    const cfg = config();
    const actor = who(opts);
    const reason = opts.reason ?? 'promoted from the CLI';
    const result = await viaStore<PromoteVersionResult & { decisionId: string | null }>(cfg, {
      method: 'POST',
      apiPath: `/v1/models/${enc(model)}/versions/${enc(version)}/promote`,
      body: { as: actor, reason },
      direct: (ch) =>
        withPromotion(ch, cfg, (ctx) =>
          promoteVersionManually(ctx, { retrainId: `cli-${Date.now()}`, modelId: model, version, actor, reason }),
        ),
      access: {
        action: 'write',
        command: 'models promote',
        actor,
        modelId: model,
        modelVersion: version,
        detail: (r) => ({ decisionId: r.decisionId }),
      },
    });
    emit(!!opts.json, result, () =>
      result.alreadyPromoted
        ? `${model} ${version} was already production; serving: ${result.serving.summary}`
        : `${model} ${version} is production${result.previousVersion ? ` (${result.previousVersion} archived)` : ''}; serving: ${result.serving.summary}; decision ${result.decisionId}`,
    );
  });

  mutate('rollback <model>', 'return to the previous production version (the current one is rejected) and publish it')
    .option('--to <version>', 'the version to return to')
    .action(async (model: string, opts: Common & { actor?: string; reason?: string; to?: string }) => {
      const cfg = config();
      const actor = who(opts);
      const reason = opts.reason ?? 'rolled back from the CLI';
      const result = await viaStore<RollbackVersionResult & { decisionId: string | null }>(cfg, {
        method: 'POST',
        apiPath: `/v1/models/${enc(model)}/rollback`,
        body: { as: actor, reason, ...(opts.to ? { to: opts.to } : {}) },
        direct: (ch) =>
          withPromotion(ch, cfg, (ctx) =>
            rollbackProductionManually(ctx, {
              retrainId: `cli-${Date.now()}`,
              modelId: model,
              ...(opts.to ? { toVersion: opts.to } : {}),
              actor,
              reason,
            }),
          ),
        access: { action: 'write', command: 'models rollback', actor, modelId: model },
      });
      emit(
        !!opts.json,
        result,
        () =>
          `${model}: ${result.rolledBackVersion} rolled back, ${result.restoredVersion ?? 'no version'} is production${result.serving ? `; serving: ${result.serving.summary}` : ''}`,
      );
    });

  mutate('archive <model> <version>', 'retire a version that is not in production').action(
    async (model: string, version: string, opts: Common & { actor?: string; reason?: string }) => {
      const actor = who(opts);
      const reason = opts.reason ?? 'archived from the CLI';
      const change = await viaStore<StageChange>(config(), {
        method: 'POST',
        apiPath: `/v1/models/${enc(model)}/versions/${enc(version)}/archive`,
        body: { as: actor, reason },
        direct: (ch) =>
          archiveVersion(ch.client, new ClickHouseRegistryRepository(ch.client), {
            modelId: model,
            version,
            actor,
            reason,
          }),
        access: { action: 'write', command: 'models archive', actor, modelId: model, modelVersion: version },
      });
      emit(!!opts.json, change, () =>
        change.changed
          ? `${model} ${version}: ${change.previousStage} → archived`
          : `${model} ${version} was already archived`,
      );
    },
  );
}

function readFileOrFail(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ValidationError(
      `${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
}

function readArtifact(file: string): Uint8Array {
  const bytes = readFileOrFail(file);
  if (bytes.length === 0) throw new ValidationError(`${file}: the artifact is empty`);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** `<from>..<to>`: ISO-8601 date-times with a zone, or epoch milliseconds. */
function parseWindow(text: string): { start: number; end: number } {
  const parts = text.split('..');
  const at = (t: string | undefined): number => {
    const v = t === undefined ? Number.NaN : /^\d+$/.test(t.trim()) ? Number(t.trim()) : Date.parse(t.trim());
    if (!Number.isFinite(v))
      throw new ValidationError(
        `--reference-window ${text}: use <from>..<to> with ISO-8601 date-times (2026-03-01T00:00Z) or epoch milliseconds`,
      );
    return v;
  };
  if (parts.length !== 2) at(undefined);
  return { start: at(parts[0]), end: at(parts[1]) };
}
