import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MultivariateDriftReport } from '../../detectors/drift/multivariate/report.ts';
import { staggerOffsetMs, windowStartAt } from '../../detectors/monitor/schedule.ts';
import { Random } from '../../detectors/random.ts';
import type { DecisionRecord } from '../../platform/clickhouse/decisions-repository.ts';
import { insertFileEvents, type FileEventRow } from '../../platform/clickhouse/file-drift-repository.ts';
import { uniqueName } from '../helpers/stack.ts';
import { timeWithRoomInWindows } from '../helpers/window-room.ts';
import { startMonitorHarness, type MonitorHarness } from '../helpers/monitor-harness.ts';
import { driftOf, multivariateMonitorDecisions, windowOf } from '../helpers/multivariate-monitor.ts';

const HOUR = 3_600_000;
const EVENTS_PER_WINDOW = 2000;

/** A window's events: x1, x2 ~ N(0, 1) with correlation rho, x3 ~ N(0, 1) alone, a channel label, and a score of x1. */
function events(modelId: string, start: number, rho: number, seed: number): FileEventRow[] {
  const random = new Random(seed);
  const rows: FileEventRow[] = [];
  for (let i = 0; i < EVENTS_PER_WINDOW; i++) {
    const x1 = random.normal();
    const x2 = rho * x1 + Math.sqrt(1 - rho * rho) * random.normal();
    rows.push({
      // Not derived from the (random) model id: the tests sample rows by a hash of the event id,
      // so fixed ids make the sample, and with the tests' fixed seeds every verdict, the same each run.
      event_id: `multivariate-${seed}-${i}`,
      model_id: modelId,
      model_version: 'v1',
      ts: start + Math.floor((i * HOUR) / EVENTS_PER_WINDOW),
      num_features: { x1, x2, x3: random.normal() },
      cat_features: { channel: random.bernoulli(0.3) ? 'web' : 'app' },
      missing_features: [],
      contract_version: 1,
      source: 'test',
      source_ref: '',
    });
  }
  return rows;
}

/**
 * A correlation change in the window — x1 and x2 keep their marginals, their correlation goes
 * from 0.8 to −0.8 — through the real ModelMonitor workflow, activities and chDB: the window's
 * decision records dataset drift from the multivariate tests, with the features that drive it,
 * while every per-feature test stays quiet. Time-skipping test server.
 */
describe('multivariate drift in a monitor tick (time-skipping test server)', () => {
  let harness: MonitorHarness;
  const modelId = uniqueName('multivariate');
  let firstWindowStart = 0;
  let decisions: DecisionRecord[] = [];

  beforeAll(async () => {
    harness = await startMonitorHarness();
    const { env, ch } = harness;
    const startedAt = await timeWithRoomInWindows(env, [modelId], HOUR);
    firstWindowStart = windowStartAt(startedAt, HOUR, staggerOffsetMs(modelId, HOUR));
    // The first window becomes the reference; the second has the correlation flipped; the third is back.
    await insertFileEvents(ch.client, events(modelId, firstWindowStart, 0.8, 1));
    await insertFileEvents(ch.client, events(modelId, firstWindowStart + HOUR, -0.8, 2));
    await insertFileEvents(ch.client, events(modelId, firstWindowStart + 2 * HOUR, 0.8, 3));
    decisions = await multivariateMonitorDecisions(harness, modelId, 'multivariate');
  }, 300_000);

  afterAll(async () => {
    await harness?.teardown();
  });

  it('the first window has no reference to be compared with: it becomes the reference', () => {
    const [first] = decisions.filter((d) => d.kind === 'no-action');
    expect(windowOf(first!).start).toBe(firstWindowStart);
    expect(driftOf(first!)).toBeNull();
  });

  it('a window like the reference: the tests ran and found nothing', () => {
    const [, , third] = decisions.filter((d) => d.kind === 'no-action');
    expect(windowOf(third!).start).toBe(firstWindowStart + 2 * HOUR);
    const drift = driftOf(third!)!;
    const multivariate = drift.multivariate as MultivariateDriftReport;
    expect(multivariate.tests.map((t) => t.test).sort()).toEqual(['domain-classifier', 'mmd', 'pca-reconstruction']);
    for (const test of multivariate.tests) expect(test.drifted).toBe(false);
    expect(multivariate.dataset_drift).toBe(false);
    expect(drift.dataset_drift).toBe(false);
  });

  it('the flipped correlation: dataset drift from the multivariate tests while every feature stays quiet', () => {
    const [, second] = decisions.filter((d) => d.kind === 'no-action');
    expect(windowOf(second!).start).toBe(firstWindowStart + HOUR);
    const drift = driftOf(second!)!;
    for (const feature of drift.features) expect(feature.drifted).toBe(false);
    expect(drift.n_drifted).toBe(0);
    expect(drift.dataset_drift).toBe(true);
    const multivariate = drift.multivariate as MultivariateDriftReport;
    expect(multivariate.sample).toEqual({ reference: 1000, window: 1000 });
    expect([...multivariate.drifted_tests].sort()).toEqual(['domain-classifier', 'mmd', 'pca-reconstruction']);
    const classifier = multivariate.tests.find((t) => t.test === 'domain-classifier')!;
    expect(classifier.statistic.value).toBeGreaterThan(0.8);
    expect(classifier.pvalue).toBeLessThan(classifier.level);
    expect(
      classifier.driving_features
        .slice(0, 2)
        .map((f) => f.feature)
        .sort(),
    ).toEqual(['x1', 'x2']);
    expect(classifier.features).toEqual(['channel', 'x1', 'x2', 'x3']);
    // The window summary the policy and the alert rules read names the tests.
    const summary = (second!.statistics as { window: { drift: { multivariateTests?: string[] } } }).window.drift;
    expect(summary.multivariateTests?.sort()).toEqual(['domain-classifier', 'mmd', 'pca-reconstruction']);
  });
});
