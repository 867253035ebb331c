import type { Command } from 'commander';
import { eraseSubject, type ErasureReport } from '../../operations/erase-subject.ts';
import { MonitorClient } from '../../operations/monitor-control.ts';
import { openPromotionContext } from '../../operations/promotion-context.ts';
import { createLogger } from '../../platform/logger.ts';
import { loadConfig } from '../../platform/config.ts';
import { LocalArtifactStore } from '../../platform/registry/artifact-store.ts';
import { emit, table } from '../output.ts';
import { cliActor, viaStore } from '../store-access.ts';

/** `halflife gdpr erase --subject <id>`: the right to erasure, with a report of what it did. */
export function registerGdprCommand(program: Command): void {
  const config = () => loadConfig({ file: program.opts<{ config?: string }>().config });
  const gdpr = program.command('gdpr').description('data-subject requests (GDPR): erasure');

  gdpr
    .command('erase')
    .description(
      "delete a subject's scoring events, labels, dead letters, shadow results and training lineage; taint every version trained on them and withdraw a tainted version from serving; ask their monitors to retrain without them",
    )
    .requiredOption('--subject <id>', 'the subject id (subject_id of the scoring events)')
    .option('--dry-run', 'report what would be deleted and tainted; change nothing')
    .option('--as <name>', 'who asks (recorded); default: $USER')
    .option('--json', 'machine-readable output')
    .action(async (opts: { subject: string; dryRun?: boolean; as?: string; json?: boolean }) => {
      const cfg = config();
      const actor = cliActor(opts.as);
      const report = await viaStore<ErasureReport>(cfg, {
        method: 'POST',
        apiPath: '/v1/gdpr/erase',
        body: { subject: opts.subject, dryRun: !!opts.dryRun, as: actor },
        direct: async (ch) => {
          const monitors = new MonitorClient(cfg);
          const promotion = openPromotionContext({
            clickhouse: ch.client,
            config: cfg,
            log: createLogger('cli', 'warn'),
          });
          try {
            return await eraseSubject(ch.client, {
              subjectId: opts.subject,
              dryRun: !!opts.dryRun,
              actor,
              artifacts: LocalArtifactStore.forDataDir(cfg.dataDir),
              monitors,
              promotion: promotion.ctx,
            });
          } finally {
            await promotion.close();
            await monitors.close();
          }
        },
        // Never the subject id: its digest and the counts.
        access: {
          action: 'write',
          command: 'gdpr erase',
          actor,
          detail: (r) => ({
            erasureId: r.erasureId,
            subjectDigest: r.subjectDigest,
            dryRun: r.dryRun,
            deleted: r.deleted,
            tainted: r.tainted.length,
            withdrawals: r.withdrawals.map((w) => ({ modelId: w.modelId, action: w.action })),
          }),
        },
      });
      emit(!!opts.json, report, () => renderErasure(report));
    });
}

export function renderErasure(r: ErasureReport): string {
  const lines = [
    `${r.dryRun ? 'DRY RUN — nothing was changed. ' : ''}Erasure ${r.erasureId} (subject sha256 ${r.subjectDigest.slice(0, 16)}…)`,
    '',
    r.dryRun ? 'Would delete:' : 'Deleted:',
    table(
      ['table', 'rows', ...(r.remaining ? ['remaining'] : [])],
      Object.entries(r.deleted).map(([t, n]) => [
        t,
        n,
        ...(r.remaining ? [r.remaining[t as keyof typeof r.remaining]] : []),
      ]),
    ),
  ];
  if (r.snapshotFiles.length > 0)
    lines.push(
      '',
      r.dryRun
        ? 'Training snapshot files that would be rewritten without the subject (each with its sha256 sidecar):'
        : 'Training snapshot files rewritten without the subject (each with a new sha256 sidecar):',
      table(
        ['file', 'sidecar', 'rows removed', 'new sha256'],
        r.snapshotFiles.map((f) => [f.uri, f.sidecar, f.removedRows, f.sha256 ?? '(dry run)']),
      ),
    );
  lines.push(
    '',
    r.tainted.length === 0 ? 'No model version was trained on this subject.' : r.dryRun ? 'Would taint:' : 'Tainted:',
  );
  if (r.tainted.length > 0)
    lines.push(
      table(
        ['model', 'version', 'was', 'now', 'train rows', 'holdout rows'],
        r.tainted.map((t) => [t.modelId, t.version, t.previousStage, t.stage, t.trainRows, t.holdoutRows]),
      ),
    );
  if (r.withdrawals.length > 0) {
    lines.push('', r.dryRun ? 'Serving (would be checked for tainted versions):' : 'Serving:');
    lines.push(
      table(
        ['model', 'action', 'serves now', 'confirmed', 'note'],
        r.withdrawals.map((w) => [
          w.modelId,
          w.action,
          'version' in w ? (w.version ?? 'nothing') : '',
          'serving' in w && w.serving ? w.serving.status : '',
          w.reason,
        ]),
      ),
    );
  }
  if (r.retrains.length > 0) {
    lines.push('', 'Retraining without the subject:');
    lines.push(
      table(
        ['model', 'requested', 'decision', 'note'],
        r.retrains.map((x) => [
          x.modelId,
          x.requested ? 'yes' : 'no',
          x.decisionId ? `${x.decisionKind ?? ''} ${x.decisionId}`.trim() : '',
          x.reason,
        ]),
      ),
    );
  }
  if (r.decisions.length > 0)
    lines.push('', `Recorded as decision(s): ${r.decisions.join(', ')} (halflife explain <id>)`);
  return lines.join('\n');
}
