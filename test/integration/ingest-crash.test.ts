import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { removeInsertBodiesOf } from '../../platform/clickhouse/binary-insert.ts';
import { openClickHouse } from '../../platform/clickhouse/client.ts';
import { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import type { HalflifeConfig } from '../../platform/config.ts';
import {
  createIngestTopics,
  groupProgress,
  ingestTestConfig,
  label,
  produceAll,
  scoringEvent,
  waitUntil,
  type OutMessage,
} from '../helpers/kafka.ts';
import { uniqueName } from '../helpers/stack.ts';

/**
 * The ingest worker as a real child process (workers/ingest-main.ts) with its own chDB data
 * directory. chDB allows one process per directory, so the test opens it only after the
 * child has exited.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Child {
  proc: ChildProcess;
  /** Parsed JSON log lines, in order. */
  logs: Array<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when `count` lines with this msg have been logged. */
  waitForLog(msg: string, count?: number, timeoutMs?: number): Promise<void>;
}

/** Children of the running test, killed afterwards if a failed assertion left one running. */
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0))
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
      // Killed mid-insert, it leaves the insert's body behind.
      removeInsertBodiesOf(child.pid);
    }
});

function spawnIngest(config: HalflifeConfig, extraEnv: Record<string, string> = {}): Child {
  // The child reads its configuration from the environment, like a deployed worker.
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith('HALFLIFE_') && k !== 'KAFKA_BROKERS' && k !== 'CLICKHOUSE_URL',
    ),
  );
  Object.assign(env, {
    HALFLIFE_DATA_DIR: config.dataDir,
    HALFLIFE_CHDB_PATH: config.clickhouse.path,
    KAFKA_BROKERS: config.kafka.brokers,
    HALFLIFE_TOPIC_SCORING_EVENTS: config.kafka.scoringEventsTopic,
    HALFLIFE_TOPIC_LABELS: config.kafka.labelsTopic,
    HALFLIFE_INGEST_GROUP: config.ingest.groupId,
    HALFLIFE_INGEST_BATCH_SIZE: String(config.ingest.batchSize),
    HALFLIFE_INGEST_BATCH_MAX_WAIT_MS: String(config.ingest.batchMaxWaitMs),
    HALFLIFE_INGEST_MAX_RETRY_BACKOFF_MS: String(config.ingest.maxRetryBackoffMs),
    HALFLIFE_LOG_LEVEL: 'info',
    ...extraEnv,
  });
  const proc = spawn(process.execPath, ['--import', 'tsx', 'workers/ingest-main.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(proc);
  const logs: Array<Record<string, unknown>> = [];
  let buffered = '';
  proc.stderr!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line });
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    proc,
    logs,
    exited,
    waitForLog: (msg, count = 1, timeoutMs = 60_000) =>
      waitUntil(`${count}× log "${msg}"`, () => logs.filter((l) => l.msg === msg).length >= count, timeoutMs, 25).catch(
        (err: Error) => {
          throw new Error(`${err.message}; child log:\n${logs.map((l) => JSON.stringify(l)).join('\n')}`);
        },
      ),
  };
}

/** The insert body directories of a process in the spool bases (platform/clickhouse/binary-insert.ts). */
function insertBodiesOf(pid: number): string[] {
  return ['/dev/shm', os.tmpdir()].flatMap((base) => {
    try {
      return readdirSync(base)
        .filter((name) => name.startsWith(`halflife-insert-${pid}-`))
        .map((name) => path.join(base, name));
    } catch {
      return [];
    }
  });
}

function dump(child: Child): string {
  return child.logs
    .map((l) => JSON.stringify(l))
    .join('\n')
    .slice(-4000);
}

/** Events (with duplicates and malformed ones) and labels for one model. */
function workload(
  modelId: string,
  n: number,
): { events: OutMessage[]; labels: OutMessage[]; unique: number; malformed: number; labelCount: number } {
  const events: OutMessage[] = [];
  let malformed = 0;
  for (let i = 0; i < n; i++) {
    events.push({ key: `k${i}`, value: JSON.stringify(scoringEvent(i, modelId)) });
    if (i % 100 === 5) events.push({ key: `dup${i}`, value: JSON.stringify(scoringEvent(i, modelId)) });
    if (i % 200 === 9) {
      events.push({ key: null, value: `{"event_id":"${modelId}-bad-${i}",` });
      malformed++;
    }
  }
  const labels: OutMessage[] = [];
  const labelCount = Math.floor(n / 10);
  for (let i = 0; i < labelCount; i++)
    labels.push({ key: `k${i}`, value: JSON.stringify(label(`${modelId}-e${i}`, i)) });
  return { events, labels, unique: n, malformed, labelCount };
}

async function storedCounts(config: HalflifeConfig, modelId: string): Promise<Record<string, number>> {
  const ch = await openClickHouse(config);
  try {
    const repo = new ClickHouseIngestRepository(ch.client);
    return {
      events: await repo.countEvents({ final: false, modelId }),
      eventsFinal: await repo.countEvents({ final: true, modelId }),
      labels: await repo.countLabels({ final: false }),
      labelsFinal: await repo.countLabels({ final: true }),
      deadLetters: await repo.countDeadLetters({ final: false }),
      deadLettersFinal: await repo.countDeadLetters({ final: true }),
    };
  } finally {
    await ch.close();
  }
}

describe('ingest worker process: crash and shutdown', () => {
  it('SIGKILL between insert and commit, and again mid-stream: after restarts nothing is lost and nothing doubled', async () => {
    const config = ingestTestConfig({ batchSize: 2000, batchMaxWaitMs: 200 });
    const topics = [config.kafka.scoringEventsTopic, config.kafka.labelsTopic];
    const modelId = uniqueName('crash');
    const w = workload(modelId, 40_000);
    await createIngestTopics(config);
    await Promise.all([produceAll(config, topics[0]!, w.events), produceAll(config, topics[1]!, w.labels)]);
    const total = w.events.length + w.labels.length;

    // 1. Killed by its own hook right after the 3rd batch is stored, before that batch is committed.
    const first = spawnIngest(config, { INGEST_TEST_KILL_AFTER_STORE: '3' });
    const firstExit = await first.exited;
    expect(firstExit.signal, dump(first)).toBe('SIGKILL');
    // What a kill mid-insert leaves (this one is after its insert): the next ingest to start removes it.
    const leftByFirst = mkdtempSync(path.join(os.tmpdir(), `halflife-insert-${first.proc.pid}-`));
    onTestFinished(() => rmSync(leftByFirst, { recursive: true, force: true }));
    writeFileSync(path.join(leftByFirst, 'body.bin'), Buffer.alloc(4096));
    const afterFirst = await groupProgress(config, config.ingest.groupId, topics);
    expect(afterFirst.committed).toBeLessThan(afterFirst.end);

    // 2. Killed from outside while batches are flowing.
    const second = spawnIngest(config);
    await second.waitForLog('batch stored', 4);
    expect(insertBodiesOf(first.proc.pid!)).toEqual([]);
    expect(second.logs.find((l) => l.msg === 'removed the insert bodies of processes that are gone')).toMatchObject({
      directories: expect.arrayContaining([leftByFirst]),
    });
    second.proc.kill('SIGKILL');
    expect((await second.exited).signal).toBe('SIGKILL');
    const afterSecond = await groupProgress(config, config.ingest.groupId, topics);
    expect(afterSecond.committed).toBeGreaterThan(afterFirst.committed);
    expect(afterSecond.committed, 'the kill must land mid-stream').toBeLessThan(afterSecond.end);

    // 3. Runs to the end and is stopped cleanly.
    const third = spawnIngest(config);
    await waitUntil(
      'all offsets committed',
      async () => (await groupProgress(config, config.ingest.groupId, topics)).committed === total,
      90_000,
      250,
    );
    // Whatever the kill mid-stream left went when the third started; the third leaves none of its own.
    expect(insertBodiesOf(second.proc.pid!)).toEqual([]);
    third.proc.kill('SIGTERM');
    expect(await third.exited, dump(third)).toEqual({ code: 0, signal: null });
    expect(insertBodiesOf(third.proc.pid!)).toEqual([]);

    const counts = await storedCounts(config, modelId);
    expect(counts).toEqual({
      events: w.unique,
      eventsFinal: w.unique,
      labels: w.labelCount,
      labelsFinal: w.labelCount,
      deadLetters: w.malformed,
      deadLettersFinal: w.malformed,
    });
  });

  it('SIGTERM drains the in-flight batch: everything consumed is stored and committed', async () => {
    // Neither size nor age can trigger a flush: only the shutdown drain stores this batch.
    const config = ingestTestConfig({ batchSize: 1_000_000, batchMaxWaitMs: 600_000 });
    const topics = [config.kafka.scoringEventsTopic, config.kafka.labelsTopic];
    const modelId = uniqueName('drain');
    const w = workload(modelId, 10_000);
    await createIngestTopics(config);
    await Promise.all([produceAll(config, topics[0]!, w.events), produceAll(config, topics[1]!, w.labels)]);
    const total = w.events.length + w.labels.length;

    const child = spawnIngest(config);
    await child.waitForLog('joined consumer group');
    // Consuming 11k records takes well under a second once the group is joined.
    await new Promise((r) => setTimeout(r, 4000));
    expect(
      child.logs.filter((l) => l.msg === 'batch stored'),
      'nothing may be stored before SIGTERM',
    ).toHaveLength(0);
    child.proc.kill('SIGTERM');
    expect(await child.exited, dump(child)).toEqual({ code: 0, signal: null });
    const msgs = child.logs.map((l) => l.msg);
    const stored = child.logs.filter((l) => l.msg === 'batch stored');
    expect(msgs.indexOf('batch stored')).toBeGreaterThan(msgs.indexOf('stopping: draining the in-flight batch'));
    expect(stored.reduce((s, l) => s + Number(l.records), 0)).toBe(total);
    expect(child.logs.find((l) => l.msg === 'ingest worker stopped')).toMatchObject({ drained: true });

    const progress = await groupProgress(config, config.ingest.groupId, topics);
    expect(progress).toEqual({ end: total, committed: total });
    expect(await storedCounts(config, modelId)).toEqual({
      events: w.unique,
      eventsFinal: w.unique,
      labels: w.labelCount,
      labelsFinal: w.labelCount,
      deadLetters: w.malformed,
      deadLettersFinal: w.malformed,
    });
  });
});
