import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../workers/temporal-worker.ts';
import { closeRetrainActivities } from '../../activities/retrain.ts';
import { freePort } from '../../local-services/process.ts';
import { TokenStore } from '../../platform/auth.ts';
import { openClickHouse, type ClickHouse } from '../../platform/clickhouse/client.ts';
import { applyMigrations } from '../../platform/clickhouse/migrations.ts';
import { loadReference } from '../../platform/clickhouse/reference-repository.ts';
import { ClickHouseRegistryRepository } from '../../platform/clickhouse/registry-repository.ts';
import type { HalflifeConfig } from '../../platform/config.ts';
import { createLogger } from '../../platform/logger.ts';
import { projectRoot } from '../../platform/paths.ts';
import { sha256Hex } from '../../platform/registry/artifact-store.ts';
import { fitLogistic } from '../../training/logistic.ts';
import { logisticToOnnx } from '../../training/logistic-onnx.ts';
import { buildApi } from '../../workers/api.ts';
import { operatorRoutes } from '../../workers/routes/operator-api.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';
import { SEA_FEATURES, seaSample, seedLabelledEvents, T0 } from './training-fixtures.ts';

const exec = promisify(execFile);
const ADMIN = 'registration-admin-token-0123';

/**
 * Registering a model halflife did not train, through the API and the CLI, on the real stack
 * (chDB, onnxruntime): its sha256, its inputs checked against the reference, its reference stored
 * and used by its monitor, its lineage; and a monitor-only model with no artifact.
 */
describe('registering an existing model (API and CLI)', () => {
  let config: HalflifeConfig;
  let ch: ClickHouse;
  let app: FastifyInstance;
  let registry: ClickHouseRegistryRepository;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'halflife-register-test-'));
  const onnxFile = path.join(dir, 'model.onnx');
  const referenceCsv = path.join(dir, 'reference.csv');
  const wrongCsv = path.join(dir, 'wrong.csv');

  beforeAll(async () => {
    config = testConfig({ api: { token: ADMIN } });
    ch = await openClickHouse(config);
    await applyMigrations(ch.client);
    registry = new ClickHouseRegistryRepository(ch.client);
    const sample = seaSample(5, 800);
    const { model } = fitLogistic({ features: SEA_FEATURES, ...sample }, { l2: 1 });
    writeFileSync(onnxFile, logisticToOnnx(model));
    const csv = (rows: string[][]) => rows.map((r) => r.join(',')).join('\n') + '\n';
    writeFileSync(
      referenceCsv,
      csv([['f1', 'f2', 'f3', 'region'], ...sample.rows.map((r) => [r.f1, r.f2, r.f3, r.region].map(String))]),
    );
    // f2 holds text, f3 is absent: the model's inputs do not match.
    writeFileSync(
      wrongCsv,
      csv([['f1', 'f2', 'region'], ...sample.rows.map((r, i) => [String(r.f1), `level-${i % 4}`, String(r.region)])]),
    );
    const tokens = new TokenStore();
    tokens.add(ADMIN, { name: 'admin', role: 'admin' });
    app = await buildApi({
      tokens,
      logger: createLogger('test', 'warn'),
      readiness: {},
      routes: [...operatorRoutes({ config, clickhouse: ch.client, log: createLogger('test', 'warn') })],
    });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await ch?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = async (url: string, body: unknown) => {
    const response = await app.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
    return { status: response.statusCode, body: response.json() as Record<string, unknown> };
  };
  const file = (f: string) => ({ name: path.basename(f), base64: readFileSync(f).toString('base64') });

  it('registers an ONNX model as production with its sha256, checked inputs, reference and lineage', async () => {
    const model = uniqueName('reg-api');
    const answer = await post(`/v1/models/${model}/versions`, {
      artifact: file(onnxFile),
      reference: { file: file(referenceCsv) },
      stage: 'production',
      as: 'alice',
    });
    expect(answer.status).toBe(201);
    const version = await registry.requireVersion(model, 'v1');
    expect(version).toMatchObject({
      stage: 'production',
      sha256: sha256Hex(readFileSync(onnxFile)),
      trainer: 'import:onnx',
      features: SEA_FEATURES,
      createdBy: 'alice (token admin)',
      lineageId: '',
    });
    expect(answer.body).toMatchObject({ convention: 'packed', monitorOnly: false, previousProduction: null });
    const history = await registry.stageHistory(model, 'v1');
    expect(history.at(-1)).toMatchObject({ toStage: 'production', reason: 'registered by alice (token admin)' });
    const reference = await loadReference(ch.client, answer.body.referenceId as string);
    expect(Object.keys(reference.features).sort()).toEqual(['f1', 'f2', 'f3', 'region']);
    expect(reference.rowCount).toBe(800);
    expect(version.params.referenceId).toBe(reference.referenceId);
    // A second registration as production archives the first.
    const second = await post(`/v1/models/${model}/versions`, { artifact: file(onnxFile), stage: 'production' });
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ previousProduction: 'v1', referenceId: null });
    expect((await registry.requireVersion(model, 'v1')).stage).toBe('archived');
  });

  it('refuses a model whose inputs do not match its reference, naming every mismatch', async () => {
    const model = uniqueName('reg-wrong');
    const answer = await post(`/v1/models/${model}/versions`, {
      artifact: file(onnxFile),
      reference: { file: file(wrongCsv) },
    });
    expect(answer.status).toBe(400);
    expect(answer.body.message).toMatch(/input "f2" is numeric \(float\) but the reference column "f2" is categorical/);
    expect(answer.body.message).toMatch(/input "f3" \(float\) is not a column of the reference/);
    expect(await registry.listVersions(model)).toEqual([]);
    const notOnnx = await post(`/v1/models/${model}/versions`, {
      artifact: { name: 'model.onnx', base64: Buffer.from('not a model').toString('base64') },
    });
    expect(notOnnx.status).toBe(400);
    expect(notOnnx.body.message).toMatch(/not an ONNX model/);
  });

  it('registers a monitor-only model from a window of its stored events, and its monitor compares with that reference', async () => {
    const model = uniqueName('reg-monitor-only');
    await seedLabelledEvents(ch.client, model, { seed: 9, n: 600, modelVersion: 'v1' });
    const answer = await post(`/v1/models/${model}/versions`, {
      version: 'v1',
      reference: { window: { start: T0, end: T0 + 600_000 } },
      stage: 'production',
    });
    expect(answer.status).toBe(201);
    const version = await registry.requireVersion(model, 'v1');
    expect(version).toMatchObject({ artifactUri: '', sha256: '', trainer: 'external', stage: 'production' });
    expect(version.features).toEqual({ numeric: ['f1', 'f2', 'f3'], categorical: ['region'] });
    const activities = createActivities({ config, clickhouse: ch.client, log: createLogger('test', 'warn') });
    try {
      // The monitor's first window would otherwise become the reference.
      const reference = await activities.buildReference({
        modelId: model,
        modelVersion: 'v1',
        window: { start: T0 + 300_000, end: T0 + 360_000 },
      });
      expect(reference?.referenceId).toBe(answer.body.referenceId);
    } finally {
      await closeRetrainActivities(activities);
    }
  });

  describe('halflife models register (the CLI, no daemon)', () => {
    let env: NodeJS.ProcessEnv;
    const halflife = async (...args: string[]) => {
      try {
        const { stdout, stderr } = await exec(process.execPath, [path.join(projectRoot, 'bin/halflife.mjs'), ...args], {
          env,
          cwd: projectRoot,
          timeout: 120_000,
        });
        return { code: 0, stdout, stderr };
      } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    };

    beforeAll(async () => {
      // Its own data directory: the CLI opens the embedded database itself (no daemon runs).
      const cli = testConfig();
      env = {
        ...process.env,
        HALFLIFE_DATA_DIR: cli.dataDir,
        HALFLIFE_API_PORT: String(await freePort()),
        HALFLIFE_LOG_LEVEL: 'warn',
      };
    });

    it('registers from a Parquet reference, shows it, and refuses a mismatched CSV with exit code 3', async () => {
      const parquet = path.join(dir, 'reference.parquet');
      await ch.client.command({
        query:
          'INSERT INTO FUNCTION file({out:String}, Parquet) SELECT * FROM file({csv:String}, CSVWithNames) SETTINGS engine_file_truncate_on_insert = 1',
        query_params: { out: parquet, csv: referenceCsv },
      });
      const model = uniqueName('reg-cli');
      const registered = await halflife(
        'models',
        'register',
        model,
        '--artifact',
        onnxFile,
        '--reference',
        parquet,
        '--stage',
        'production',
        '--as',
        'bob',
        '--json',
      );
      expect(registered.stderr).toBe('');
      expect(registered.code).toBe(0);
      const result = JSON.parse(registered.stdout) as {
        version: { version: string; sha256: string; createdBy: string };
      };
      expect(result.version).toMatchObject({
        version: 'v1',
        sha256: sha256Hex(readFileSync(onnxFile)),
        createdBy: 'bob',
      });
      const shown = await halflife('models', 'show', model, 'v1');
      expect(shown.stdout).toMatch(/production \(registered by bob\)/);
      expect(shown.stdout).toMatch(/trainer\s+import:onnx/);
      const wrong = await halflife('models', 'register', model, '--artifact', onnxFile, '--reference', wrongCsv);
      expect(wrong.code).toBe(3);
      expect(wrong.stderr).toMatch(/does not match its reference/);
      const help = await halflife('models', 'register', '--help');
      expect(help.stdout).toMatch(/--reference-window <from\.\.to>/);
    });
  });
});
