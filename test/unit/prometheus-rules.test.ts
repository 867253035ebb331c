import { readFileSync } from 'node:fs';
import type { ClickHouseClient } from '@clickhouse/client';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ALERT_KIND_DOCS } from '../../detectors/alerts/rule-kinds.ts';
import { ALERT_RULE_KINDS } from '../../detectors/alerts/types.ts';
import type { DecisionKind } from '../../platform/clickhouse/decisions-repository.ts';
import type { DeliveryOutcome } from '../../platform/clickhouse/alerts-repository.ts';
import { loadConfig } from '../../platform/config.ts';
import { createLogger } from '../../platform/logger.ts';
import { createMetrics } from '../../workers/metrics.ts';
import { PROMETHEUS_RULES_FILE, prometheusRulesText } from '../../workers/prometheus-rules.ts';

/** Every metric /metrics serves, with its label names (collectors are not run: no ClickHouse needed). */
function servedMetrics(): Map<string, string[]> {
  const { registry } = createMetrics({
    config: loadConfig({ env: {}, overrides: { dataDir: '/nonexistent' } }),
    clickhouse: {} as ClickHouseClient,
    log: createLogger('test', 'silent'),
  });
  const out = new Map<string, string[]>();
  for (const metric of registry.getMetricsAsArray()) {
    const labels = (metric as unknown as { labelNames?: string[] }).labelNames ?? [];
    out.set(metric.name, labels);
    // Histograms and summaries expose their parts as series of their own.
    for (const suffix of ['_bucket', '_sum', '_count']) out.set(`${metric.name}${suffix}`, [...labels, 'le']);
  }
  return out;
}

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const file = readFileSync(PROMETHEUS_RULES_FILE, 'utf8');
const document = parse(file) as { groups: { name: string; rules: Rule[] }[] };
const rules = document.groups.flatMap((g) => g.rules);
const metrics = servedMetrics();

/** Metric names in an expression: identifiers that are not functions, keywords, labels or durations. */
function metricNames(expr: string): string[] {
  const withoutStrings = expr
    .replace(/"[^"]*"/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\([^()]*\bby\b/g, '(');
  const names = withoutStrings.match(/\bhalflife_[a-z0-9_:]*/g) ?? [];
  return [...new Set(names)];
}

/** Label matchers `name="value"` / `name=~"a|b"` per metric selector. */
function selectors(expr: string): { metric: string; matchers: { label: string; op: string; value: string }[] }[] {
  return [...expr.matchAll(/(halflife_[a-z0-9_:]*)\{([^}]*)\}/g)].map((m) => ({
    metric: m[1]!,
    matchers: [...m[2]!.matchAll(/([a-z_]+)\s*(=~|!~|!=|=)\s*"([^"]*)"/g)].map((x) => ({
      label: x[1]!,
      op: x[2]!,
      value: x[3]!,
    })),
  }));
}

describe('the generated Prometheus alerting rules (dashboards/prometheus/halflife-rules.yaml)', () => {
  it('the committed file equals the generated one (regenerate: npm run dashboards:prometheus)', () => {
    expect(file).toBe(prometheusRulesText());
  });

  it('is a valid rule file: named groups of rules with an alert name, an expression, labels and annotations', () => {
    expect(Object.keys(document)).toEqual(['groups']);
    expect(document.groups.map((g) => g.name)).toEqual(['halflife-model-alerts', 'halflife-operations']);
    const names = new Set<string>();
    for (const rule of rules) {
      expect(Object.keys(rule).every((k) => ['alert', 'expr', 'for', 'labels', 'annotations'].includes(k))).toBe(true);
      expect(rule.alert).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
      expect(names.has(rule.alert), `duplicate alert ${rule.alert}`).toBe(false);
      names.add(rule.alert);
      expect(typeof rule.expr).toBe('string');
      if (rule.for !== undefined) expect(rule.for).toMatch(/^(\d+(ms|s|m|h|d|w|y))+$/);
      for (const [k, v] of Object.entries({ ...rule.labels, ...rule.annotations })) {
        expect(k).toMatch(/^[a-zA-Z_][a-zA-Z0-9_]*$/);
        expect(typeof v).toBe('string');
      }
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      // Balanced brackets: a cheap syntax check of each expression.
      for (const [open, close] of [
        ['(', ')'],
        ['{', '}'],
        ['[', ']'],
      ] as const)
        expect(rule.expr.split(open).length, `${rule.alert}: ${open}${close}`).toBe(rule.expr.split(close).length);
    }
  });

  it('every metric a rule reads is served at /metrics, and every label it matches or groups by exists on it', () => {
    for (const rule of rules) {
      const names = metricNames(rule.expr);
      expect(names.length, rule.alert).toBeGreaterThan(0);
      for (const name of names) expect(metrics.has(name), `${rule.alert} reads ${name}`).toBe(true);
      const labels = new Set(names.flatMap((n) => metrics.get(n) ?? []));
      for (const selector of selectors(rule.expr))
        for (const m of selector.matchers) expect(labels.has(m.label), `${rule.alert}: label ${m.label}`).toBe(true);
      const by =
        /\bby \(([^)]*)\)/
          .exec(rule.expr)?.[1]
          ?.split(',')
          .map((l) => l.trim()) ?? [];
      for (const label of by) expect(labels.has(label), `${rule.alert}: by ${label}`).toBe(true);
      // Templates read only labels the resulting series carry.
      const templated = [...JSON.stringify(rule.annotations).matchAll(/\$labels\.([a-z_]+)/g)].map((m) => m[1]!);
      for (const label of templated) expect(by.includes(label), `${rule.alert}: {{ $labels.${label} }}`).toBe(true);
    }
  });

  it('matches only values halflife emits: rule kinds, delivery outcomes, decision kinds', () => {
    const kinds = new Set<string>(ALERT_RULE_KINDS);
    const outcomes = new Set<DeliveryOutcome>([
      'delivered',
      'failed',
      'timeout',
      'rejected',
      'misconfigured',
      'gave-up',
    ]);
    const decisionKinds = new Set<DecisionKind>(['training-failed', 'rollback', 'approval-requested', 'promote']);
    const allowed: Record<string, Set<string>> = { kind: kinds, outcome: outcomes as Set<string> };
    for (const rule of rules)
      for (const { metric, matchers } of selectors(rule.expr))
        for (const m of matchers) {
          const values = m.op.endsWith('~') ? m.value.split('|') : [m.value];
          const known = metric === 'halflife_decisions_total' && m.label === 'kind' ? decisionKinds : allowed[m.label];
          if (known)
            for (const v of values) expect(known.has(v as never), `${rule.alert}: ${m.label}="${v}"`).toBe(true);
        }
  });

  it("has one rule per alert rule kind, named as halflife's Alertmanager messages are", () => {
    const modelRules = document.groups[0]!.rules;
    expect(modelRules.map((r) => r.alert)).toEqual(ALERT_RULE_KINDS.map((k) => ALERT_KIND_DOCS[k].alertname));
    for (const [i, kind] of ALERT_RULE_KINDS.entries()) expect(modelRules[i]!.expr).toContain(`kind="${kind}"`);
  });
});
