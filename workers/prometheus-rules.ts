/**
 * Prometheus alerting rules for teams that alert from Prometheus rather than from halflife's own
 * webhooks, generated into `dashboards/prometheus/halflife-rules.yaml` next to the Grafana JSON:
 * `npm run dashboards:prometheus` (or `npx tsx workers/prometheus-rules.ts --write`).
 *
 * Two groups:
 * - `halflife-model-alerts`: one rule per alert rule kind (detectors/alerts/rule-kinds.ts), firing
 *   while halflife has an alert of that kind firing (`halflife_alerts_firing`, from the alert
 *   record). The alert name and the labels (model, rule, subject, severity, source) are those of
 *   halflife's own Alertmanager messages, so Alertmanager de-duplicates the two paths.
 * - `halflife-operations`: rules on halflife's own metrics that need no alert rules in a policy:
 *   alerts not reaching receivers, failed retrains and rollbacks, approvals asked for, ingest
 *   paused or behind, dead letters, monitors that stopped ticking.
 *
 * Every metric a rule reads is one /metrics serves (workers/metrics.ts); a unit test checks it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { ALERT_KIND_DOCS } from '../detectors/alerts/rule-kinds.ts';
import { ALERT_RULE_KINDS, DEFAULT_SEVERITY } from '../detectors/alerts/types.ts';
import { ALERT_METRICS } from './metrics.ts';

export interface PrometheusRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface PrometheusRuleGroup {
  name: string;
  rules: PrometheusRule[];
}

export const PROMETHEUS_RULES_FILE = fileURLToPath(
  new URL('../dashboards/prometheus/halflife-rules.yaml', import.meta.url),
);

const RUNBOOK = 'README "On-call runbook"; `halflife decisions --model {{ $labels.model }}`';

/** The rule groups, from the alert rule kinds and the /metrics names. */
export function prometheusRuleGroups(): PrometheusRuleGroup[] {
  const modelAlerts: PrometheusRule[] = ALERT_RULE_KINDS.map((kind) => ({
    alert: ALERT_KIND_DOCS[kind].alertname,
    // One series per firing alert; severity comes from the rule that fired it (default for this kind: DEFAULT_SEVERITY).
    expr: `max by (model, rule, subject, severity) (${ALERT_METRICS.firing}{kind="${kind}"}) > 0`,
    labels: { source: 'halflife' },
    annotations: {
      summary: `{{ $labels.model }}: ${ALERT_KIND_DOCS[kind].meaning}`,
      description: `halflife's "{{ $labels.rule }}" rule ({{ $labels.subject }}) fires for model {{ $labels.model }}. The message with its figures: GET /v1/alerts?model={{ $labels.model }}&status=firing. Default severity of this kind: ${DEFAULT_SEVERITY[kind]}.`,
      runbook: RUNBOOK,
    },
  }));

  const operations: PrometheusRule[] = [
    {
      alert: 'HalflifeAlertDeliveryFailing',
      expr: `sum by (receiver) (increase(${ALERT_METRICS.deliveries}{outcome="gave-up"}[1h])) > 0`,
      labels: { severity: 'critical', source: 'halflife' },
      annotations: {
        summary: 'halflife gave up sending alerts to receiver {{ $labels.receiver }}',
        description:
          "Messages to {{ $labels.receiver }} failed until the policy's giveUpAfter: GET /v1/alerts shows each attempt with its error. Check the receiver and its environment variables in the worker.",
        runbook: 'README "Alerts"',
      },
    },
    {
      alert: 'HalflifeAlertReceiverMisconfigured',
      expr: `sum by (receiver, outcome) (increase(${ALERT_METRICS.deliveries}{outcome=~"misconfigured|rejected"}[15m])) > 0`,
      labels: { severity: 'warning', source: 'halflife' },
      annotations: {
        summary: 'alert receiver {{ $labels.receiver }}: {{ $labels.outcome }}',
        description:
          '"misconfigured": an environment variable the policy names is not set in the worker; "rejected": the receiver refused the message (4xx: a wrong token, URL or payload format).',
        runbook: 'README "Alerts"',
      },
    },
    {
      alert: 'HalflifeRetrainFailedOrRolledBack',
      expr: 'sum by (model, kind) (increase(halflife_decisions_total{kind=~"training-failed|rollback"}[1h])) > 0',
      labels: { severity: 'warning', source: 'halflife' },
      annotations: {
        summary: '{{ $labels.model }}: a retrain ended in {{ $labels.kind }}',
        description: 'The version in service keeps serving. `halflife explain` on the decision says why.',
        runbook: RUNBOOK,
      },
    },
    {
      alert: 'HalflifeApprovalRequested',
      expr: 'sum by (model) (increase(halflife_decisions_total{kind="approval-requested"}[1h])) > 0',
      labels: { severity: 'info', source: 'halflife' },
      annotations: {
        summary: '{{ $labels.model }}: a retrain waits for approval',
        description: 'Answer it: `halflife approve {{ $labels.model }}` or `halflife reject {{ $labels.model }}`.',
        runbook: RUNBOOK,
      },
    },
    {
      alert: 'HalflifeIngestPaused',
      expr: 'max(halflife_ingest_paused) == 1',
      for: '2m',
      labels: { severity: 'critical', source: 'halflife' },
      annotations: {
        summary: 'halflife ingest is paused: ClickHouse writes fail',
        description: 'Events and labels wait in Kafka. /readyz names the failing dependency.',
        runbook: 'README "On-call runbook", step 1',
      },
    },
    {
      alert: 'HalflifeIngestBehind',
      expr: 'max(halflife_ingest_lag_total_records) > 100000',
      for: '10m',
      labels: { severity: 'warning', source: 'halflife' },
      annotations: {
        summary: 'halflife ingest is {{ $value }} records behind',
        description: 'Windows are evaluated on what has been stored: drift and quality lag behind traffic.',
        runbook: 'README "On-call runbook", step 1',
      },
    },
    {
      alert: 'HalflifeDeadLettersRising',
      expr: 'increase(halflife_dead_letters_stored[15m]) > 0',
      labels: { severity: 'warning', source: 'halflife' },
      annotations: {
        summary: 'producers send records halflife cannot accept',
        description: 'The dead_letters table keeps each record with its reason.',
        runbook: 'README "On-call runbook", step 1',
      },
    },
    {
      alert: 'HalflifeMonitorStalled',
      // Six hours covers cadences up to a few hours; raise it for daily monitors.
      expr: 'sum by (model) (increase(halflife_monitor_ticks_total[6h])) == 0',
      labels: { severity: 'warning', source: 'halflife' },
      annotations: {
        summary: '{{ $labels.model }}: no window evaluated for 6 hours',
        description: 'Paused, or its monitor workflow is not running: `halflife monitor status {{ $labels.model }}`.',
        runbook: RUNBOOK,
      },
    },
  ];

  return [
    { name: 'halflife-model-alerts', rules: modelAlerts },
    { name: 'halflife-operations', rules: operations },
  ];
}

/** The committed file's exact text. */
export function prometheusRulesText(): string {
  const header = [
    '# Prometheus alerting rules for halflife. Generated by `npm run dashboards:prometheus`',
    '# (workers/prometheus-rules.ts) from the alert rule kinds and the /metrics names: do not edit.',
    '# Load it with `rule_files:` in prometheus.yml; scrape halflife\'s /metrics (README "Alerts").',
    '',
  ].join('\n');
  return `${header}${stringify({ groups: prometheusRuleGroups() }, { lineWidth: 0 })}`;
}

// `npx tsx workers/prometheus-rules.ts --write` regenerates the committed file; `--check` fails when it is stale.
if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--help')) {
    console.log(
      'usage: tsx workers/prometheus-rules.ts [--write | --check]\n  (none)   print the rules\n  --write  write dashboards/prometheus/halflife-rules.yaml\n  --check  exit 1 when the committed file differs from the generated one',
    );
  } else if (process.argv.includes('--write')) {
    writeFileSync(PROMETHEUS_RULES_FILE, prometheusRulesText());
    console.log(`wrote ${PROMETHEUS_RULES_FILE}`);
  } else if (process.argv.includes('--check')) {
    const current = readFileSync(PROMETHEUS_RULES_FILE, 'utf8');
    if (current !== prometheusRulesText()) {
      console.error(`${PROMETHEUS_RULES_FILE} is stale: run npm run dashboards:prometheus`);
      process.exit(1);
    }
  } else {
    process.stdout.write(prometheusRulesText());
  }
}
