import type { Command } from 'commander';
import { parseDuration } from '../../detectors/policy/duration.ts';
import { listAccess, type AccessRecord } from '../../platform/clickhouse/access-log-repository.ts';
import {
  modelHistory,
  productionLineage,
  scoredBy,
  trainedOn,
  type ModelHistory,
  type ProductionLineage,
  type ScoredBy,
  type TrainedOn,
} from '../../platform/clickhouse/audit-repository.ts';
import { loadConfig } from '../../platform/config.ts';
import { ValidationError } from '../../platform/errors.ts';
import { emit, table } from '../output.ts';
import { displayReason } from '../../detectors/texts/decision-reason.ts';
import { formatInstant } from '../../detectors/texts/format.ts';
import { cliActor, viaStore } from '../store-access.ts';

const enc = encodeURIComponent;

/** `--since`: a duration back from now (24h, 7d) or an ISO-8601 time. */
export function parseSince(text: string, now = Date.now()): number {
  const iso = Date.parse(text);
  if (/^\d{4}-\d{2}-\d{2}/.test(text) && Number.isFinite(iso)) return iso;
  try {
    return now - parseDuration(text);
  } catch {
    throw new ValidationError(
      `--since ${JSON.stringify(text)}: give a duration back from now (30m, 24h, 7d) or an ISO-8601 time`,
    );
  }
}

/** `halflife audit …`: the audit questions, each also an API call under /v1/audit. */
export function registerAuditCommand(program: Command): void {
  const config = () => loadConfig({ file: program.opts<{ config?: string }>().config });
  const audit = program
    .command('audit')
    .description('audit answers: who scored what, what trained what, who accessed what, how a model got here');
  const common = (c: Command) =>
    c
      .option('--as <name>', 'who is asking (access log, direct path); default: $USER')
      .option('--json', 'machine-readable output');

  common(
    audit.command('scored-by <event-id>').description('which model version (and artifact sha256) scored an event'),
  ).action(async (eventId: string, opts: { as?: string; json?: boolean }) => {
    const r = await viaStore<ScoredBy>(config(), {
      method: 'GET',
      apiPath: `/v1/audit/scored-by/${enc(eventId)}`,
      direct: (ch) => scoredBy(ch.client, eventId),
      access: { action: 'read', command: 'audit scored-by', actor: cliActor(opts.as) },
    });
    emit(!!opts.json, r, () =>
      r.scorings.length === 0
        ? `no scoring event ${eventId}`
        : table(
            ['scored at', 'model', 'version', 'sha256', 'stage now', 'shadow of', 'source'],
            r.scorings.map((s) => [
              formatInstant(s.scoredAt),
              s.modelId,
              s.version,
              s.sha256 ?? '(not in registry)',
              s.stage ?? '',
              s.shadowOf ?? '',
              s.source,
            ]),
          ),
    );
  });

  common(
    audit
      .command('trained-on <model> <version>')
      .description('which records (event and subject ids) trained a version'),
  )
    .option('--limit <n>', 'at most this many records', '10000')
    .action(async (model: string, version: string, opts: { as?: string; json?: boolean; limit: string }) => {
      const limit = Number(opts.limit);
      const r = await viaStore<TrainedOn>(config(), {
        method: 'GET',
        apiPath: `/v1/audit/trained-on/${enc(model)}/${enc(version)}?limit=${enc(opts.limit)}`,
        direct: (ch) => trainedOn(ch.client, model, version, limit),
        access: {
          action: 'read',
          command: 'audit trained-on',
          actor: cliActor(opts.as),
          modelId: model,
          modelVersion: version,
        },
      });
      emit(!!opts.json, r, () =>
        [
          `${r.modelId} ${r.version} (sha256 ${r.sha256.slice(0, 16)}…): ${r.snapshot ? `snapshot ${r.snapshot.snapshotId}, window ${r.snapshot.window.start} → ${r.snapshot.window.end}, ${r.snapshot.trainRows} train + ${r.snapshot.holdoutRows} holdout rows` : 'no training snapshot (imported)'}`,
          `${r.total} records${r.truncated ? ` (showing ${r.records.length}; --limit)` : ''}`,
          table(
            ['event id', 'subject id', 'split'],
            r.records.map((x) => [x.eventId, x.subjectId, x.split]),
          ),
        ].join('\n'),
      );
    });

  common(audit.command('accessed <model>').description('who read or changed a model, when, from where (newest first)'))
    .option('--since <when>', 'only since then: a duration back (24h, 7d) or an ISO time')
    .option('--limit <n>', 'at most this many entries', '1000')
    .action(async (model: string, opts: { as?: string; json?: boolean; since?: string; limit: string }) => {
      const since = opts.since ? parseSince(opts.since) : undefined;
      const rows = await viaStore<AccessRecord[]>(config(), {
        method: 'GET',
        apiPath: `/v1/audit/accessed/${enc(model)}?limit=${enc(opts.limit)}${since !== undefined ? `&since=${since}` : ''}`,
        direct: (ch) => listAccess(ch.client, { modelId: model, since, limit: Number(opts.limit) }),
        access: { action: 'read', command: 'audit accessed', actor: cliActor(opts.as), modelId: model },
      });
      emit(!!opts.json, rows, () =>
        rows.length === 0
          ? `no recorded access to ${model}`
          : table(
              ['at', 'who', 'role', 'via', 'action', 'what', 'version', 'status', 'from'],
              rows.map((a) => [
                formatInstant(a.at),
                a.actor || '(no token)',
                a.role,
                a.source,
                a.action,
                `${a.method} ${a.route}`,
                a.modelVersion,
                a.status,
                [a.ip, a.userAgent].filter(Boolean).join(' '),
              ]),
            ),
      );
    });

  common(audit.command('history <model>').description("a model's decisions and stage changes, oldest first")).action(
    async (model: string, opts: { as?: string; json?: boolean }) => {
      const h = await viaStore<ModelHistory>(config(), {
        method: 'GET',
        apiPath: `/v1/audit/history/${enc(model)}`,
        direct: (ch) => modelHistory(ch.client, model),
        access: { action: 'read', command: 'audit history', actor: cliActor(opts.as), modelId: model },
      });
      emit(!!opts.json, h, () =>
        table(
          ['at', 'type', 'kind', 'version', 'actor', 'decision id', 'reason'],
          h.entries.map((e) => [
            formatInstant(e.at),
            e.type,
            e.kind,
            e.version,
            e.actor,
            e.id,
            displayReason(e.reason),
          ]),
          { wrap: [6] },
        ),
      );
    },
  );

  common(
    audit.command('lineage <model>').description('the chain of decisions that led to the current production version'),
  ).action(async (model: string, opts: { as?: string; json?: boolean }) => {
    const l = await viaStore<ProductionLineage>(config(), {
      method: 'GET',
      apiPath: `/v1/audit/lineage/${enc(model)}`,
      direct: (ch) => productionLineage(ch.client, model),
      access: { action: 'read', command: 'audit lineage', actor: cliActor(opts.as), modelId: model },
    });
    emit(!!opts.json, l, () => renderLineage(l));
  });
}

export function renderLineage(l: ProductionLineage): string {
  if (!l.production) return `${l.modelId} has no production version`;
  const lines = [`${l.modelId}: production is ${l.production}`];
  for (const link of l.chain) {
    lines.push(
      '',
      `${link.version} (${link.stage}) sha256 ${link.sha256.slice(0, 16)}… trainer ${link.trainer}, created ${formatInstant(link.createdAt)}`,
    );
    if (link.snapshotId)
      lines.push(
        `  trained on snapshot ${link.snapshotId}${link.trainingWindow ? ` (${link.trainingWindow.start} → ${link.trainingWindow.end}, ${link.trainRows} rows)` : ''}`,
      );
    for (const d of link.preceding)
      lines.push(
        `  ${formatInstant(d.decidedAt)}  ${d.kind} by ${d.actor}: ${displayReason(d.reason)}  [${d.decisionId}]`,
      );
    if (link.retrainDecision)
      lines.push(
        `  ${formatInstant(link.retrainDecision.decidedAt)}  retrain decided by ${link.retrainDecision.actor}${link.retrainDecision.policy ? ` under ${link.retrainDecision.policy}` : ''}: ${displayReason(link.retrainDecision.reason)}  [${link.retrainDecision.decisionId}]`,
      );
    if (link.promoteDecision)
      lines.push(
        `  ${formatInstant(link.promoteDecision.decidedAt)}  promoted by ${link.promoteDecision.actor}: ${displayReason(link.promoteDecision.reason)}  [${link.promoteDecision.decisionId}]`,
      );
    else if (link.promotion)
      lines.push(
        `  ${formatInstant(link.promotion.at)}  became production by ${link.promotion.actor}: ${link.promotion.reason}`,
      );
    if (link.parentVersion) lines.push(`  replaced ${link.parentVersion} ↓`);
  }
  lines.push('', 'Explain any decision with `halflife explain <decision-id>`.');
  return lines.join('\n');
}
