import type { Command } from 'commander';
import {
  getAlert,
  listAlerts,
  type AlertDeliveryRecord,
  type AlertRecord,
} from '../../platform/clickhouse/alerts-repository.ts';
import { loadConfig } from '../../platform/config.ts';
import { NotFoundError, ValidationError } from '../../platform/errors.ts';
import { emit, table } from '../output.ts';
import { readFromStore } from '../store-access.ts';

/** `halflife alerts`: the alert messages halflife sent and how their delivery went (GET /v1/alerts). */
export function registerAlertsCommand(program: Command): void {
  const config = () => loadConfig({ file: program.opts<{ config?: string }>().config });
  const alerts = program
    .command('alerts')
    .description('alert messages sent (firing, reminders, resolutions), newest first, with their delivery per receiver')
    .option('--model <id>', 'only this model')
    .option('--firing', 'only alerts that fire now (not resolved)')
    .option('--kind <kinds>', 'comma-separated rule kinds, e.g. drift,slo')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'machine-readable output')
    .action(async (opts: { model?: string; firing?: boolean; kind?: string; limit: string; json?: boolean }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        throw new ValidationError(`--limit must be a whole number from 1 to 1000, got ${opts.limit}`);
      const params = new URLSearchParams({
        limit: String(limit),
        ...(opts.model ? { model: opts.model } : {}),
        ...(opts.firing ? { status: 'firing' } : {}),
        ...(opts.kind ? { kind: opts.kind } : {}),
      });
      const rows = await readFromStore<AlertRecord[]>(config(), `/v1/alerts?${params}`, (ch) =>
        listAlerts(ch.client, {
          modelId: opts.model,
          status: opts.firing ? 'firing' : undefined,
          kinds: opts.kind?.split(','),
          limit,
        }),
      );
      emit(!!opts.json, rows, () =>
        rows.length === 0
          ? opts.firing
            ? 'nothing is firing'
            : 'no alert messages yet (add an alerts section to the retrain policy: README "Alerts")'
          : table(
              ['sent at', 'model', 'severity', 'type', 'summary', 'delivery', 'id'],
              rows.map((a) => [
                new Date(a.notifiedAt).toISOString(),
                a.modelId,
                a.severity,
                a.type === 'firing' && a.firing ? 'firing (open)' : a.type,
                a.summary.slice(0, 70),
                deliveryText(a),
                a.notificationId,
              ]),
            ),
      );
    });

  alerts
    .command('show <id>')
    .description('one alert message with every delivery attempt')
    .option('--json', 'machine-readable output')
    .action(async (id: string, opts: { json?: boolean }) => {
      const alert = await readFromStore<(AlertRecord & { attempts: AlertDeliveryRecord[] }) | undefined>(
        config(),
        `/v1/alerts/${encodeURIComponent(id)}`,
        (ch) => getAlert(ch.client, id),
      );
      if (!alert) throw new NotFoundError(`no alert message ${id}: list them with \`halflife alerts\``);
      emit(!!opts.json, alert, () =>
        [
          `${alert.type.toUpperCase()} ${alert.summary}`,
          alert.description,
          alert.resolution ? `resolved: ${alert.resolution}` : '',
          `model ${alert.modelId} ${alert.modelVersion ?? ''} · rule ${alert.rule} (${alert.kind}) · severity ${alert.severity} · key ${alert.key}`,
          `since ${new Date(alert.startsAt).toISOString()} · sent ${new Date(alert.notifiedAt).toISOString()} · raised by ${alert.source.workflowId} (run ${alert.source.runId})${alert.source.policy ? ` · policy ${alert.source.policy.name} v${alert.source.policy.version}` : ''}`,
          `digest ${alert.digest}`,
          '',
          alert.attempts.length === 0
            ? alert.receivers.length === 0
              ? 'no receivers: recorded only'
              : 'no delivery attempt recorded yet'
            : table(
                ['attempted at', 'receiver', 'format', 'send', 'attempt', 'outcome', 'http', 'ms', 'error'],
                alert.attempts.map((a) => [
                  new Date(a.attemptedAt).toISOString(),
                  a.receiver,
                  a.format,
                  a.send,
                  a.attempt || '',
                  a.outcome,
                  a.httpStatus ?? '',
                  a.durationMs,
                  a.error ?? '',
                ]),
              ),
        ]
          .filter((line) => line !== '')
          .join('\n'),
      );
    });
}

function deliveryText(a: AlertRecord): string {
  if (a.receivers.length === 0) return 'recorded only';
  return a.receivers
    .map((name) => {
      const d = a.deliveries.find((x) => x.receiver === name);
      return `${name}: ${!d ? 'pending' : d.delivered ? 'delivered' : d.lastOutcome} (${d?.attempts ?? 0})`;
    })
    .join(', ');
}
