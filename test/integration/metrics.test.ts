import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, tokensFile } from '../../platform/auth.ts';
import { freePort } from '../../local-services/process.ts';
import { runDaemon, type Daemon } from '../../workers/daemon.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';

const TOKEN = 'test-admin-token-0123456789';

describe('daemon: /metrics, /openapi.json and file tokens', () => {
  let daemon: Daemon;
  const model = uniqueName('metrics-model');

  beforeAll(async () => {
    const prefix = uniqueName('topics');
    daemon = await runDaemon({
      handleSignals: false,
      config: testConfig({
        api: { port: await freePort(), token: TOKEN },
        kafka: {
          scoringEventsTopic: `${prefix}.events`,
          labelsTopic: `${prefix}.labels`,
          scoringRequestsTopic: `${prefix}.requests`,
          modelUpdatesTopic: `${prefix}.updates`,
        },
        ingest: { groupId: uniqueName('group') },
      }),
    });
  });
  afterAll(async () => {
    await daemon?.stop();
  });

  it('serves Prometheus metrics without a token on the loopback address', async () => {
    const bad = {
      event_id: 'm1',
      model_id: model,
      model_version: 'v1',
      timestamp: '2026-11-26T10:00:00Z',
      features: { x: 1 },
      prediction: { score: 7 },
    };
    const post = await fetch(`${daemon.apiUrl}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify([bad]),
    });
    expect(post.status).toBe(207);
    const response = await fetch(`${daemon.apiUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    for (const name of [
      'halflife_ingest_consumed_total',
      'halflife_ingest_lag_total_records',
      'halflife_ingest_paused',
      'halflife_dead_letters_stored 1',
      'halflife_decisions_total',
      'halflife_monitor_ticks_total',
      'halflife_training_duration_seconds',
      'halflife_scorer_requests_total',
      'halflife_scorer_batch_duration_seconds',
      'halflife_http_request_duration_seconds_bucket{le="0.005",method="POST",route="/v1/events",status="207"}',
      'halflife_process_resident_memory_bytes',
      'halflife_monitor_window_reads_total',
      'halflife_monitor_window_batches_total',
      'halflife_monitor_window_reads_waiting',
      'halflife_clickhouse_queries_total{priority="ingest"}',
      'halflife_clickhouse_query_wait_seconds_total{priority="background"}',
      'halflife_clickhouse_query_wait_seconds_max{priority="interactive"}',
    ]) {
      expect(text, name).toContain(name);
    }
    // The POST's server time, stage by stage: each stage of its one request observed once.
    for (const stage of [
      'read',
      'parse',
      'declarations',
      'validate',
      'encode',
      'queue',
      'lookup',
      'insert',
      'response',
    ])
      expect(text, stage).toMatch(
        new RegExp(`^halflife_http_ingest_stage_seconds_count\\{kind="events",stage="${stage}"\\} 1$`, 'm'),
      );
  });

  it("says where the daemon's memory is: RSS by kind of page, V8, the embedded engine, cached workflows", async () => {
    const text = await (await fetch(`${daemon.apiUrl}/metrics`)).text();
    const value = (name: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${name} `));
      expect(line, name).toBeDefined();
      return Number(line!.slice(name.length + 1));
    };
    const rss = value('halflife_memory_bytes{part="rss"}');
    const anonymous = value('halflife_memory_bytes{part="rss_anonymous"}');
    const file = value('halflife_memory_bytes{part="rss_file"}');
    expect(anonymous).toBeGreaterThan(0);
    // The embedded engine's library alone is over 100 MB of resident code pages.
    expect(file).toBeGreaterThan(100 * 2 ** 20);
    // Sampled a moment apart, the parts add up to RSS within a few percent.
    expect(Math.abs(anonymous + file - rss) / rss).toBeLessThan(0.05);
    expect(value('halflife_memory_bytes{part="heap_used"}')).toBeLessThanOrEqual(
      value('halflife_memory_bytes{part="heap_total"}'),
    );
    // The workflow thread is an isolate of its own: its heap holds at least the workflow bundle's code.
    const workflowHeap = value('halflife_memory_bytes{part="workflow_heap_total"}');
    expect(workflowHeap).toBeGreaterThan(2 ** 20);
    expect(value('halflife_memory_bytes{part="workflow_heap_used"}')).toBeLessThanOrEqual(workflowHeap);
    const malloc = value('halflife_memory_bytes{part="malloc_heaps"}');
    expect(malloc).toBeGreaterThan(0);
    expect(malloc).toBeLessThan(anonymous);
    expect(value('halflife_clickhouse_memory_bytes{part="tracked"}')).toBeGreaterThan(0);
    expect(value('halflife_clickhouse_memory_bytes{part="allocator_resident"}')).toBeGreaterThan(0);
    const allocated = value('halflife_clickhouse_memory_bytes{part="allocator_allocated"}');
    expect(allocated).toBeGreaterThan(0);
    expect(allocated).toBeLessThanOrEqual(value('halflife_clickhouse_memory_bytes{part="allocator_active"}'));
    expect(value('halflife_clickhouse_memory_bytes{part="allocator_metadata"}')).toBeGreaterThan(0);
    // The daemon's tables have parts whose primary indexes its start-up reads loaded.
    expect(value('halflife_clickhouse_memory_bytes{part="primary_key"}')).toBeGreaterThanOrEqual(0);
    expect(value('halflife_clickhouse_memory_bytes{part="index_granularity"}')).toBeGreaterThan(0);
    expect(value('halflife_clickhouse_memory_bytes{part="merges"}')).toBeGreaterThanOrEqual(0);
    expect(value('halflife_clickhouse_memory_bytes{part="query_condition_cache"}')).toBeGreaterThanOrEqual(0);
    expect(value('halflife_clickhouse_memory_bytes{part="mark_cache"}')).toBeGreaterThanOrEqual(0);
    const poolThreads = value('halflife_clickhouse_pool_threads{state="total"}');
    expect(poolThreads).toBeGreaterThan(0);
    expect(value('halflife_clickhouse_pool_threads{state="active"}')).toBeLessThanOrEqual(poolThreads);
    expect(value('halflife_temporal_cached_workflows')).toBeGreaterThanOrEqual(0);
  });

  it("says what the engine is doing: each table's parts and rows, merges, and its work counters", async () => {
    const text = await (await fetch(`${daemon.apiUrl}/metrics`)).text();
    const value = (name: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${name} `));
      expect(line, name).toBeDefined();
      return Number(line!.slice(name.length + 1));
    };
    // The dead letter posted above is a row of a part of its table.
    expect(value('halflife_clickhouse_parts{table="dead_letters"}')).toBeGreaterThanOrEqual(1);
    expect(value('halflife_clickhouse_table_rows{table="dead_letters"}')).toBeGreaterThanOrEqual(1);
    expect(value('halflife_clickhouse_merges_running')).toBeGreaterThanOrEqual(0);
    // Migrations and that insert wrote rows; the metrics' own reads selected some.
    expect(value('halflife_clickhouse_work_total{event="InsertedRows"}')).toBeGreaterThan(0);
    expect(value('halflife_clickhouse_work_total{event="SelectedRows"}')).toBeGreaterThan(0);
    expect(value('halflife_clickhouse_work_total{event="Merge"}')).toBeGreaterThanOrEqual(0);
  });

  it('documents its API and accepts tokens created while it runs', async () => {
    const doc = (await (await fetch(`${daemon.apiUrl}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { 'x-halflife-role': string }>>;
    };
    expect(doc.paths['/v1/events']?.post?.['x-halflife-role']).toBe('operator');
    expect(doc.paths['/v1/audit/lineage/{model}']?.get?.['x-halflife-role']).toBe('viewer');
    expect(doc.paths['/metrics']?.get).toBeDefined();

    const { token } = createToken(tokensFile(daemon.config), 'grafana', 'viewer', 'test');
    await new Promise((r) => setTimeout(r, 1100));
    const models = await fetch(`${daemon.apiUrl}/v1/models`, { headers: { authorization: `Bearer ${token}` } });
    expect(models.status).toBe(200);
    const erase = await fetch(`${daemon.apiUrl}/v1/gdpr/erase`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ subject: 'x' }),
    });
    expect(erase.status).toBe(403);
    // Monitors' status through Temporal: none runs for this model.
    const status = await fetch(`${daemon.apiUrl}/v1/monitors/${model}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(status.status).toBe(404);
  });
});
