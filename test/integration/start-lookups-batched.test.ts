/**
 * What a fleet's monitors read as they start, read together (activities/monitor.ts): the
 * registered versions (`ClickHouseRegistryRepository.getVersions`) and the stored references
 * (`loadReferences`) of many monitors with one query each, on the embedded engine — each asked
 * item that exists, nothing else, and the same as read one at a time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import {
  loadReference,
  loadReferences,
  storeReference,
  type StoredReference,
} from '../../platform/clickhouse/reference-repository.ts';
import { ClickHouseRegistryRepository } from '../../platform/clickhouse/registry-repository.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';

const T0 = Date.UTC(2026, 11, 1);

const reference = (modelId: string, referenceId: string, createdAt: number, rowCount: number): StoredReference => ({
  referenceId,
  modelId,
  modelVersion: 'v1',
  createdAt,
  start: T0,
  end: T0 + 60_000,
  nBins: 10,
  maxCategories: 50,
  features: { region: { kind: 'categorical', counts: { eu: rowCount } } as never },
  prediction: null,
  predictionClass: null,
  predictionValue: null,
  cappedCategorical: [],
  rowCount,
});

describe('a fleet start’s look-ups, read together (embedded ClickHouse)', () => {
  let ch: ClickHouse;
  let registry: ClickHouseRegistryRepository;
  const models = [uniqueName('start-a'), uniqueName('start-b'), uniqueName('start-c')];

  beforeAll(async () => {
    ch = await openClickHouse(testConfig());
    await applyMigrations(ch.client);
    registry = new ClickHouseRegistryRepository(ch.client);
    for (const [i, modelId] of models.entries()) {
      for (let v = 0; v <= i; v++)
        await registry.registerVersion({
          modelId,
          artifactUri: `local:models/${modelId}/v${v + 1}.onnx`,
          sha256: 'a'.repeat(64),
          trainer: 'test',
          params: { referenceId: `${modelId}-ref-${v + 1}` },
          features: { numeric: [], categorical: ['region'] },
          codeVersion: 'test',
          createdBy: 'test',
        });
      await storeReference(ch.client, reference(modelId, `${modelId}-ref-1`, T0, 100 + i));
    }
    // The same id stored twice (a re-run): the newer row is the one read.
    await storeReference(ch.client, reference(models[0]!, `${models[0]!}-ref-1`, T0 + 1_000, 999));
  });
  afterAll(async () => {
    await ch?.close();
  });

  it('reads the asked (model, version) pairs that exist, and only those', async () => {
    const [a, b, c] = models as [string, string, string];
    const asked = [
      { modelId: a, version: 'v1' },
      { modelId: b, version: 'v2' },
      { modelId: c, version: 'v3' },
      { modelId: a, version: 'v3' }, // a has only v1: pairs across the asked lists are not returned
      { modelId: b, version: 'v9' },
    ];
    const found = await registry.getVersions(asked);
    expect(found.map((v) => `${v.modelId}@${v.version}`).sort()).toEqual([`${a}@v1`, `${b}@v2`, `${c}@v3`].sort());
    for (const v of found) expect(v).toEqual(await registry.getVersion(v.modelId, v.version));
    expect(await registry.getVersions([])).toEqual([]);
  });

  it('loads the asked references that exist, each the newest row of its id, as loadReference does', async () => {
    const ids = [...models.map((m) => `${m}-ref-1`), 'no-such-reference'];
    const found = await loadReferences(ch.client, ids);
    expect([...found.keys()].sort()).toEqual(models.map((m) => `${m}-ref-1`).sort());
    for (const m of models) expect(found.get(`${m}-ref-1`)).toEqual(await loadReference(ch.client, `${m}-ref-1`));
    expect(found.get(`${models[0]!}-ref-1`)!.rowCount).toBe(999);
    expect((await loadReferences(ch.client, [])).size).toBe(0);
  });
});
