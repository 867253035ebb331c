import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openClickHouse, queryRows, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { loadConfig } from '../../platform/config.ts';
import { seedRun, type SeededRun } from '../helpers/seed-run.ts';

/**
 * Every SQL query in dashboards/grafana/*.json (panel targets and query variables) runs
 * against halflife's real schema in chDB, on a seeded run, and the panels that draw the
 * seeded story return rows.
 *
 * Grafana's ClickHouse plugin (grafana-clickhouse-datasource) expands macros before sending
 * SQL; this test expands them the same way, with the seeded run's time range:
 *   $__timeFilter(col)   → col >= toDateTime(<from s>) AND col <= toDateTime(<to s>)
 *   $__timeInterval(col) → toStartOfInterval(toDateTime(col), INTERVAL 3600 second)
 *   $__fromTime / $__toTime → toDateTime(<from s>) / toDateTime(<to s>)
 *   $__interval_s        → 3600
 *   ${model}, $model     → the seeded model id (the dashboards quote it: '${model}')
 *   ${temporal_ui}, ${namespace} only appear in data links, not in SQL.
 */

const GRAFANA_DIR = path.resolve('dashboards/grafana');

interface Query {
  file: string;
  where: string;
  sql: string;
}

function collectQueries(): Query[] {
  const out: Query[] = [];
  for (const file of readdirSync(GRAFANA_DIR).filter((f) => f.endsWith('.json'))) {
    const dashboard = JSON.parse(readFileSync(path.join(GRAFANA_DIR, file), 'utf8')) as {
      panels: { title: string; targets?: { rawSql?: string; refId: string; datasource?: { type?: string } }[] }[];
      templating: { list: { name: string; type: string; query?: unknown }[] };
    };
    for (const panel of dashboard.panels) {
      for (const target of panel.targets ?? []) {
        expect(target.datasource?.type, `${file} ${panel.title}`).toBe('grafana-clickhouse-datasource');
        if (target.rawSql) out.push({ file, where: `panel "${panel.title}" ${target.refId}`, sql: target.rawSql });
      }
    }
    for (const variable of dashboard.templating.list) {
      if (variable.type === 'query' && typeof variable.query === 'string')
        out.push({ file, where: `variable ${variable.name}`, sql: variable.query });
    }
  }
  return out;
}

function expandMacros(
  sql: string,
  values: { fromMs: number; toMs: number; model: string; intervalSeconds?: number },
): string {
  const from = Math.floor(values.fromMs / 1000);
  const to = Math.ceil(values.toMs / 1000);
  const interval = values.intervalSeconds ?? 3600;
  return sql
    .replace(
      /\$__timeFilter\(([^)]+)\)/g,
      (_m, col: string) => `${col.trim()} >= toDateTime(${from}) AND ${col.trim()} <= toDateTime(${to})`,
    )
    .replace(
      /\$__timeInterval\(([^)]+)\)/g,
      (_m, col: string) => `toStartOfInterval(toDateTime(${col.trim()}), INTERVAL ${interval} second)`,
    )
    .replace(/\$__fromTime/g, `toDateTime(${from})`)
    .replace(/\$__toTime/g, `toDateTime(${to})`)
    .replace(/\$__interval_s/g, String(interval))
    .replace(/\$\{model\}|\$model\b/g, values.model.replace(/'/g, "\\'"));
}

describe('Grafana dashboards: every query runs against the schema', () => {
  let clickhouse: ClickHouse;
  let dataDir: string;
  let run: SeededRun;
  const queries = collectQueries();

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'halflife-grafana-'));
    clickhouse = await openClickHouse(loadConfig({ env: {}, overrides: { dataDir } }));
    await applyMigrations(clickhouse.client);
    let clock: number | null = null;
    const realNow = Date.now.bind(Date);
    const spy = vi.spyOn(Date, 'now').mockImplementation(() => clock ?? realNow());
    run = await seedRun(clickhouse.client, { prefix: 'graf', setClock: (ms) => (clock = ms) });
    spy.mockRestore();
  });
  afterAll(async () => {
    await clickhouse?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('finds the queries of both dashboards', () => {
    expect(new Set(queries.map((q) => q.file))).toEqual(new Set(['fleet-overview.json', 'model-detail.json']));
    expect(queries.length).toBeGreaterThanOrEqual(20);
    // No macro or variable the test does not expand.
    for (const q of queries) expect(expandMacros(q.sql, { fromMs: 0, toMs: 1, model: 'm' }), q.where).not.toMatch(/\$/);
  });

  it('runs each query and the seeded story shows up', async () => {
    const values = { fromMs: run.start - 3_600_000, toMs: Date.now() + 3_600_000, model: run.churn.modelId };
    const results = new Map<string, Record<string, unknown>[]>();
    const failures: string[] = [];
    for (const q of queries) {
      try {
        results.set(
          `${q.file} ${q.where}`,
          await queryRows<Record<string, unknown>>(clickhouse.client, expandMacros(q.sql, values)),
        );
      } catch (err) {
        failures.push(`${q.file} ${q.where}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    expect(failures).toEqual([]);

    // Panels with no rows on a seeded run would be broken in Grafana too.
    const empty = [...results].filter(([, rows]) => rows.length === 0).map(([k]) => k);
    expect(empty).toEqual([]);

    const fleet = results.get('fleet-overview.json panel "Models" A')!;
    const churn = fleet.find((r) => r.model === run.churn.modelId)!;
    expect(churn.serving).toBe('v2');
    expect(Number(churn.half_life_h)).toBeCloseTo(run.churn.latestFit!.halfLifeHours!, 1);
    expect(fleet.find((r) => r.model === run.fraud.modelId)?.half_life_h).toBeNull();

    const models = results.get('model-detail.json variable model')!.map((r) => r.model_id);
    expect(models).toEqual(expect.arrayContaining([run.churn.modelId, run.fraud.modelId]));
    const comparisons = results.get('model-detail.json panel "Shadow / canary comparisons" A')!;
    expect(comparisons.map((r) => r.verdict_kind).sort()).toEqual(['promote', 'reject']);
    expect(comparisons.every((r) => Number(r.shadow_events) === 800)).toBe(true);
    const drift = results.get('model-detail.json panel "Drift by feature (Jensen–Shannon distance)" A')!;
    expect(new Set(drift.map((r) => r.feature)).size).toBe(7);
    expect(drift.length).toBe(7 * 60);
  });
});
