import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { groupMembers } from '../../local-services/process.ts';
import { freeTemporalPort } from '../../local-services/temporal.ts';
import { waitUntil } from '../helpers/kafka.ts';

/**
 * Reports said a daemon stopped by SIGTERM under load left its Temporal and Kafka processes
 * running. The daemon's service start and stop (test/fixtures/stubborn-service/stack.ts) with a
 * real Temporal dev server, a service that ignores SIGTERM (one that cannot finish its shutdown in
 * time) and one whose leader exits but whose child does not: SIGTERM must leave no process of any
 * group, the two stubborn groups SIGKILLed after their grace, and the exit code and the log must
 * say which parts were forced.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const GRACE_MS = 2_000;

interface LogLine {
  msg: string;
  part?: string;
  signal?: string;
  pid?: number;
  members?: number[];
  failures?: { part: string; reason: string }[];
}

describe('stopping the local services on SIGTERM', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'halflife-stop-'));
  const groups: number[] = [];
  afterAll(() => {
    // A failed run must not leave its processes behind.
    for (const pid of groups)
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('SIGKILLs the process group of a service that ignores SIGTERM, or whose leader left a child, after its grace; stops Temporal; exits 1 naming them', async () => {
    const stack = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(ROOT, 'test/fixtures/stubborn-service/stack.ts'),
        dataDir,
        String(await freeTemporalPort()),
        String(GRACE_MS),
      ],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    stack.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exit = new Promise<number | null>((resolve) => stack.on('exit', (code) => resolve(code)));
    const lines = () =>
      stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as LogLine);

    await waitUntil('both services up', () => lines().some((l) => l.msg === 'services up'), 120_000, 250).catch(
      (err: Error) => {
        throw new Error(`${err.message}\n${stderr.slice(-3000)}`);
      },
    );
    const pidOf = (name: string) => Number(readFileSync(path.join(dataDir, 'run', `${name}.pid`), 'utf8').trim());
    const childOf = (name: string) =>
      (JSON.parse(readFileSync(path.join(dataDir, `${name}.ready`), 'utf8')) as { child: number }).child;
    const [temporal, stubborn, straggler] = ['temporal', 'stubborn', 'straggler'].map(pidOf) as [
      number,
      number,
      number,
    ];
    groups.push(temporal, stubborn, straggler);
    // Each stubborn group holds its child too: stopping a leader alone would leave it.
    expect(groupMembers(stubborn).sort()).toEqual([stubborn, childOf('stubborn')].sort());
    expect(groupMembers(straggler).sort()).toEqual([straggler, childOf('straggler')].sort());
    expect(groupMembers(temporal)).toContain(temporal);

    stack.kill('SIGTERM');
    // A second SIGTERM while stopping (npm and a terminal both forward one) changes nothing.
    await new Promise((resolve) => setTimeout(resolve, 200));
    stack.kill('SIGTERM');
    expect(await exit, stderr.slice(-3000)).toBe(1);

    for (const group of [straggler, stubborn, temporal]) expect(groupMembers(group)).toEqual([]);
    for (const name of ['temporal', 'stubborn', 'straggler'])
      expect(existsSync(path.join(dataDir, 'run', `${name}.pid`))).toBe(false);

    const log = lines();
    // Last started, first stopped: each stubborn service is asked, then killed with its group; Temporal stops on SIGTERM.
    const steps = log.filter((l) => l.part !== undefined).map((l) => `${l.part}: ${l.signal ?? l.msg}`);
    expect(steps).toEqual([
      'straggler: SIGTERM',
      'straggler: SIGKILL',
      'straggler: stopped by force',
      'stubborn: SIGTERM',
      'stubborn: SIGKILL',
      'stubborn: stopped by force',
      'temporal: SIGTERM',
      'temporal: stopped',
    ]);
    expect(log.find((l) => l.part === 'stubborn' && l.signal === 'SIGKILL')?.pid).toBe(stubborn);
    expect(
      log.some((l) => l.msg === 'already shutting down; the local services this daemon started are stopped last'),
    ).toBe(true);
    // The straggler's SIGKILL reached the child its leader left: the leader was gone by then.
    expect(log.find((l) => l.part === 'straggler' && l.signal === 'SIGKILL')?.members).toEqual([childOf('straggler')]);
    expect(log.find((l) => l.msg === 'stopped, but not cleanly')?.failures).toEqual([
      { part: 'straggler', reason: 'escalated' },
      { part: 'stubborn', reason: 'escalated' },
    ]);
  });
});
