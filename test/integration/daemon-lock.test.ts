import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { acquireDaemonLock, DaemonAlreadyRunning, daemonLockFile } from '../../local-services/daemon-lock.ts';
import { freePort, isAlive } from '../../local-services/process.ts';
import { projectRoot } from '../../platform/paths.ts';
import { runDaemon, type Daemon } from '../../workers/daemon.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';

/** A process that has exited: its pid names no live process (what a kill -9'd daemon leaves in its lock). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  expect(isAlive(child.pid!)).toBe(false);
  return child.pid!;
}

/** A live process other than this one, standing for another daemon. */
function liveProcess(): ChildProcess {
  return spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], { stdio: 'ignore' });
}

describe('one daemon per data directory', () => {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'halflife-daemon-lock-'));
  const children: ChildProcess[] = [];
  let daemon: Daemon | undefined;

  afterEach(async () => {
    await daemon?.stop();
    daemon = undefined;
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  const daemonConfig = async () => {
    const prefix = uniqueName('lock');
    return testConfig({
      api: { port: await freePort() },
      temporal: { taskQueue: uniqueName('lock-tq') },
      kafka: {
        scoringEventsTopic: `${prefix}.events`,
        labelsTopic: `${prefix}.labels`,
        scoringRequestsTopic: `${prefix}.requests`,
        modelUpdatesTopic: `${prefix}.updates`,
      },
      ingest: { groupId: uniqueName('group') },
    });
  };

  it('a second daemon on the same data directory names the first and exits before starting any service', async () => {
    const config = await daemonConfig();
    daemon = await runDaemon({ handleSignals: false, config });
    expect(readFileSync(daemonLockFile(config.dataDir), 'utf8').trim()).toBe(String(process.pid));

    // `npm start` as a person would run it, on the same directory; its services left local (the
    // default), on free ports, so it would start its own Temporal and Kafka if it got that far.
    const second = spawn(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'workers/daemon.ts')], {
      cwd: projectRoot,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        HALFLIFE_DATA_DIR: config.dataDir,
        HALFLIFE_API_PORT: String(await freePort()),
        HALFLIFE_TEMPORAL_PORT: String(await freePort()),
        HALFLIFE_TEMPORAL_UI_PORT: String(await freePort()),
        HALFLIFE_KAFKA_PORT: String(await freePort()),
        HALFLIFE_KAFKA_CONTROLLER_PORT: String(await freePort()),
        HALFLIFE_DEMO: 'false',
        HALFLIFE_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    children.push(second);
    let output = '';
    second.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    second.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => second.once('exit', resolve));

    expect(output).toContain(
      `a halflife daemon already runs on ${config.dataDir} (pid ${process.pid}); stop it first, ` +
        'or set HALFLIFE_DATA_DIR (dataDir in the configuration file) to another directory',
    );
    expect(code).toBe(1);
    // Nothing was started or adopted: no service's pid file, no word of a service starting.
    expect(readdirSync(path.join(config.dataDir, 'run')).sort()).toEqual(['daemon.pid']);
    expect(output).not.toMatch(/temporal|kafka/i);
    // The first daemon still holds its directory and answers.
    expect(readFileSync(daemonLockFile(config.dataDir), 'utf8').trim()).toBe(String(process.pid));
    expect((await fetch(`${daemon.apiUrl}/healthz`)).status).toBe(200);

    await daemon.stop();
    daemon = undefined;
    expect(existsSync(daemonLockFile(config.dataDir))).toBe(false);
  });

  it('takes over the lock a killed daemon left, and removes it when it stops; the insert body it left is swept', async () => {
    const config = await daemonConfig();
    const lock = daemonLockFile(config.dataDir);
    mkdirSync(path.dirname(lock), { recursive: true });
    const killed = await deadPid();
    writeFileSync(lock, `${killed}\n`);
    // Killed mid-insert: its body's directory (platform/clickhouse/binary-insert.ts) is left behind.
    const body = mkdtempSync(path.join(os.tmpdir(), `halflife-insert-${killed}-`));
    onTestFinished(() => rmSync(body, { recursive: true, force: true }));
    writeFileSync(path.join(body, 'body.bin'), 'x');
    daemon = await runDaemon({ handleSignals: false, config });
    expect(readFileSync(lock, 'utf8').trim()).toBe(String(process.pid));
    expect(existsSync(body)).toBe(false);
    expect((await fetch(`${daemon.apiUrl}/healthz`)).status).toBe(200);
    await daemon.stop();
    daemon = undefined;
    expect(existsSync(lock)).toBe(false);
  });

  it('the lock: a live holder is named; once it is killed, its file is taken over', async () => {
    const dataDir = mkdtempSync(path.join(scratch, 'dir-'));
    const other = liveProcess();
    children.push(other);
    const lock = daemonLockFile(dataDir);
    mkdirSync(path.dirname(lock), { recursive: true });
    writeFileSync(lock, `${other.pid}\n`);

    let refused: unknown;
    try {
      acquireDaemonLock(dataDir);
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(DaemonAlreadyRunning);
    expect((refused as DaemonAlreadyRunning).pid).toBe(other.pid);
    expect((refused as Error).message).toContain(`a halflife daemon already runs on ${dataDir} (pid ${other.pid})`);
    expect(readFileSync(lock, 'utf8').trim()).toBe(String(other.pid));

    other.kill('SIGKILL');
    await new Promise((resolve) => other.once('exit', resolve));
    const release = acquireDaemonLock(dataDir);
    expect(readFileSync(lock, 'utf8').trim()).toBe(String(process.pid));
    // Held by this process now: a second daemon here is refused too, naming this process.
    expect(() => acquireDaemonLock(dataDir)).toThrow(`(pid ${process.pid})`);
    release();
    expect(existsSync(lock)).toBe(false);
    // Nothing left beside it (the pid written before linking, a stale file set aside).
    expect(readdirSync(path.dirname(lock))).toEqual([]);
  });

  it('the lock: a file naming this pid that this process never took (a reused pid), or no pid, is stale', () => {
    const dataDir = mkdtempSync(path.join(scratch, 'dir-'));
    const lock = daemonLockFile(dataDir);
    mkdirSync(path.dirname(lock), { recursive: true });
    for (const left of [`${process.pid}\n`, 'not a pid\n', '']) {
      writeFileSync(lock, left);
      const release = acquireDaemonLock(dataDir);
      expect(readFileSync(lock, 'utf8')).toBe(`${process.pid}\n`);
      release();
      expect(existsSync(lock)).toBe(false);
    }
  });

  it('a release never removes a lock another daemon took since', () => {
    const dataDir = mkdtempSync(path.join(scratch, 'dir-'));
    const release = acquireDaemonLock(dataDir);
    const other = liveProcess();
    children.push(other);
    writeFileSync(daemonLockFile(dataDir), `${other.pid}\n`);
    release();
    expect(readFileSync(daemonLockFile(dataDir), 'utf8').trim()).toBe(String(other.pid));
  });
});
