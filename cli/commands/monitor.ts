import os from 'node:os';
import type { UpdateDefinition } from '@temporalio/common';
import type { Command } from 'commander';
import { reassessStatus } from '../../detectors/monitor/health.ts';
import { changedBarsText } from '../../detectors/policy/data-quality-bars.ts';
import { MonitorClient } from '../../operations/monitor-control.ts';
import { servingStatus, type ServingStatus } from '../../operations/serving-status.ts';
import { getDecision, listDecisions } from '../../platform/clickhouse/decisions-repository.ts';
import { modelKindOf, type ModelKindDeclaration } from '../../platform/clickhouse/model-kind-repository.ts';
import { assertPolicyFitsModel } from '../../operations/policy-fits-model.ts';
import { loadConfig, type HalflifeConfig } from '../../platform/config.ts';
import { NotFoundError, ValidationError } from '../../platform/errors.ts';
import { loadPolicyOption } from '../policy-option.ts';
import {
  approveUpdate,
  forceRetrainUpdate,
  pauseUpdate,
  rejectUpdate,
  resumeUpdate,
  setPolicyUpdate,
} from '../../workflows/messages.ts';
import type { ModelMonitorInput } from '../../workflows/monitor/input.ts';
import { daemonIngest } from '../daemon-ingest.ts';
import { readFromStore } from '../store-access.ts';
import { renderDecision } from '../explain.ts';
import { renderDecisionList, renderStatuses } from '../decision-tables.ts';
import { emit } from '../output.ts';
import type { DecisionRecord } from '../../platform/clickhouse/decisions-repository.ts';
import type { RetrainPolicy } from '../../detectors/policy/types.ts';

interface CommonOptions {
  json?: boolean;
  as?: string;
  reason?: string;
}

/** Monitors, approvals, retrains, policies and decisions: the daily operations on models. */
export function registerMonitorCommands(program: Command): void {
  const config = () => loadConfig({ file: program.opts<{ config?: string }>().config });
  const actor = (opts: CommonOptions) => opts.as ?? process.env.USER ?? os.userInfo().username ?? 'cli';

  const monitor = program
    .command('monitor')
    .description('start, inspect, pause and resume model monitors (Temporal workflows)');

  monitor
    .command('start <model>')
    .description('start the monitor of a model with a retrain policy (no-op if it already runs)')
    .requiredOption('-p, --policy <file>', 'retrain policy YAML (see examples/policies)')
    .option('--cadence <duration>', 'window length and tick interval', '1h')
    .option('--settle <duration>', 'wait after a window closes, for late events', '1m')
    .option('--json', 'machine-readable output')
    .action(async (model: string, opts: { policy: string; cadence: string; settle: string; json?: boolean }) => {
      const loaded = loadPolicyOption(opts.policy);
      if (loaded.policy.model !== model)
        throw new ValidationError(
          `policy ${opts.policy} is for model "${loaded.policy.model}", not "${model}": fix its \`model\` field`,
        );
      await checkPolicyFitsModel(config(), loaded.policy);
      const input: ModelMonitorInput = {
        modelId: model,
        policy: loaded.policy,
        policyRef: loaded.ref,
        cadence: opts.cadence,
        settle: opts.settle,
      };
      const started = await withMonitors(config(), (monitors) => monitors.start(input));
      const result = { ...started, policy: loaded.ref };
      emit(
        !!opts.json,
        result,
        () =>
          `monitor of ${model} running as workflow ${started.workflowId} with policy ${loaded.ref.name} v${loaded.ref.version}`,
      );
    });

  monitor
    .command('status [model]')
    .description('status of one monitor, or of every running monitor')
    .option('--json', 'machine-readable output')
    .action(async (model: string | undefined, opts: CommonOptions) => {
      const cfg = config();
      const [bare, ingest] = await Promise.all([
        withMonitors(cfg, async (monitors) => (model ? [await monitors.status(model)] : monitors.statuses())),
        daemonIngest(cfg),
      ]);
      // What actually scores each model, next to the version its monitor evaluates (null: not readable).
      const statuses = await Promise.all(
        bare.map(async (s) => {
          const serving = await readFromStore<ServingStatus>(
            cfg,
            `/v1/models/${encodeURIComponent(s.modelId)}/serving`,
            (ch) => servingStatus(ch.client, cfg, s.modelId),
            'monitor status',
          ).catch(() => null);
          // The monitor's health with what is observed here added: ingest as the daemon sees it, and
          // whether serving agrees with the registry (one rule: detectors/monitor/health.ts).
          const servingDisagreement = serving ? serving.agreement === 'disagrees' : null;
          return { ...reassessStatus(s, { ingest, servingDisagreement }), serving };
        }),
      );
      emit(!!opts.json, model ? statuses[0] : statuses, () => renderStatuses(statuses));
    });

  for (const [name, description] of [
    ['pause', 'pause a monitor: no windows evaluated, no retrains started'],
    ['resume', 'resume a paused monitor'],
  ] as const) {
    monitor
      .command(`${name} <model>`)
      .description(description)
      .option('--reason <text>', 'why (recorded with the decision)')
      .option('--as <name>', 'who is acting (recorded); default: $USER')
      .option('--json', 'machine-readable output')
      .action(async (model: string, opts: CommonOptions) => {
        const status = await update(config(), model, name === 'pause' ? pauseUpdate : resumeUpdate, {
          actor: actor(opts),
          reason: opts.reason,
        });
        emit(!!opts.json, status, () => renderStatuses([status]));
      });
  }

  program
    .command('retrain <model>')
    .description('ask the monitor for a retrain now (guards still apply unless --force)')
    .option('--force', 'override cooldown, budget, blackout and data-quality guards (never one-at-a-time)')
    .option('--reason <text>', 'why (recorded)')
    .option('--as <name>', 'who is acting (recorded); default: $USER')
    .option('--json', 'machine-readable output')
    .action(async (model: string, opts: CommonOptions & { force?: boolean }) => {
      const result = await update(config(), model, forceRetrainUpdate, {
        actor: actor(opts),
        reason: opts.reason,
        force: opts.force,
      });
      emit(!!opts.json, result, () => `retrain requested; decision ${result.decisionId} (halflife explain it)`);
    });

  for (const [name, definition] of [
    ['approve', approveUpdate],
    ['reject', rejectUpdate],
  ] as const) {
    program
      .command(`${name} <model>`)
      .description(`${name} the retrain a monitor is waiting on`)
      .option('--reason <text>', 'why (recorded)')
      .option('--as <name>', 'who is acting (recorded); default: $USER')
      .option('--json', 'machine-readable output')
      .action(async (model: string, opts: CommonOptions) => {
        const result: { decisionId: string } = await update<{ decisionId: string }, { actor: string; reason?: string }>(
          config(),
          model,
          definition,
          { actor: actor(opts), reason: opts.reason },
        );
        emit(!!opts.json, result, () => `${name}d; decision ${result.decisionId}`);
      });
  }

  const policy = program.command('policy').description('validate and apply retrain policies');
  policy
    .command('validate <file>')
    .description('check a policy file against the schema (exit 3 with every problem named)')
    .option('--json', 'machine-readable output')
    .action((file: string, opts: CommonOptions) => {
      const loaded = loadPolicyOption(file, 'policy file');
      emit(!!opts.json, loaded, () =>
        [
          `${file}: valid — policy ${loaded.ref.name} v${loaded.ref.version} for model ${loaded.policy.model}, ${loaded.policy.trigger.kind} trigger, sha256 ${loaded.ref.hash}`,
          ...alertVariablesText(loaded.policy),
          ...dataQualityText(loaded.policy),
        ].join('\n'),
      );
    });
  policy
    .command('apply <model> <file>')
    .description("replace a running monitor's policy (recorded as a decision)")
    .option('--reason <text>', 'why (recorded)')
    .option('--as <name>', 'who is acting (recorded); default: $USER')
    .option('--json', 'machine-readable output')
    .action(async (model: string, file: string, opts: CommonOptions) => {
      const loaded = loadPolicyOption(file, 'policy file');
      await checkPolicyFitsModel(config(), loaded.policy);
      const ref = await update(config(), model, setPolicyUpdate, {
        policy: loaded.policy,
        ref: loaded.ref,
        actor: actor(opts),
        reason: opts.reason,
      });
      emit(!!opts.json, ref, () => `policy ${loaded.ref.name} v${loaded.ref.version} applied to ${model}`);
    });

  program
    .command('explain <decision-id>')
    .description('a decision with its full provenance, as an account a person can follow')
    .option('--json', 'the stored decision record')
    .action(async (decisionId: string, opts: CommonOptions) => {
      const decision = await readFromStore<DecisionRecord | undefined>(
        config(),
        `/v1/decisions/${encodeURIComponent(decisionId)}`,
        (ch) => getDecision(ch.client, decisionId),
      );
      if (!decision)
        throw new NotFoundError(`no decision ${decisionId}: list them with \`halflife decisions --model <id>\``);
      emit(!!opts.json, decision, () => renderDecision(decision));
    });

  program
    .command('decisions')
    .description("a model's decision history, newest first")
    .option('--model <id>', 'only this model')
    .option('--kind <kinds>', 'comma-separated kinds, e.g. retrain,promote')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'machine-readable output')
    .action(async (opts: { model?: string; kind?: string; limit: string; json?: boolean }) => {
      const params = new URLSearchParams({
        limit: opts.limit,
        ...(opts.model ? { model: opts.model } : {}),
        ...(opts.kind ? { kind: opts.kind } : {}),
      });
      const decisions = await readFromStore<DecisionRecord[]>(config(), `/v1/decisions?${params}`, (ch) =>
        listDecisions(ch.client, {
          modelId: opts.model,
          kinds: opts.kind?.split(',') as DecisionRecord['kind'][] | undefined,
          limit: Number(opts.limit),
        }),
      );
      emit(!!opts.json, decisions, () => renderDecisionList(decisions));
    });
}

async function withMonitors<T>(config: HalflifeConfig, fn: (monitors: MonitorClient) => Promise<T>): Promise<T> {
  const monitors = new MonitorClient(config);
  try {
    return await fn(monitors);
  } finally {
    await monitors.close();
  }
}

/** Send an Update to a model's monitor; a validator's refusal is a MonitorRefusedError naming the reason. */
function update<Ret, Arg>(
  config: HalflifeConfig,
  model: string,
  definition: UpdateDefinition<Ret, [Arg]>,
  arg: Arg,
): Promise<Ret> {
  return withMonitors(config, (monitors) => monitors.update(model, definition, arg));
}

/** The alert receivers' environment variables, and whether this shell has them (the worker's environment is what counts). */
function alertVariablesText(policy: RetrainPolicy): string[] {
  const alerts = policy.alerts;
  if (!alerts) return [];
  const names = alerts.receivers.flatMap((r) => [r.url, r.token, r.signingKey].flatMap((v) => (v ? [v.env] : [])));
  const variables = names.map((name) => `${name} (${process.env[name] ? 'set' : 'not set'} here)`);
  return [
    `alerts: ${alerts.rules.length} rule(s) (${alerts.rules.map((r) => r.name).join(', ')}) to ${alerts.receivers.length} receiver(s)${alerts.receivers.length ? ` (${alerts.receivers.map((r) => `${r.name}: ${r.format}`).join(', ')})` : ': recorded and shown, not sent'}`,
    ...(variables.length ? [`the worker's environment needs: ${variables.join(', ')}`] : []),
  ];
}

/** The data-quality bars the policy moves from their defaults. */
function dataQualityText(policy: RetrainPolicy): string[] {
  const changed = changedBarsText(policy.dataQuality);
  return policy.dataQuality ? [`data-quality bars: ${changed ?? 'the defaults'}`] : [];
}

/** Refuse a policy whose quality metric does not fit the model's declared kind (read from the store). */
async function checkPolicyFitsModel(cfg: HalflifeConfig, policy: RetrainPolicy): Promise<void> {
  const kind = await readFromStore<ModelKindDeclaration>(
    cfg,
    `/v1/models/${encodeURIComponent(policy.model)}/kind`,
    (ch) => modelKindOf(ch.client, policy.model),
    'models kind',
  );
  assertPolicyFitsModel(policy, kind);
}
