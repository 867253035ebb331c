import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireDaemonLock, daemonLockFile } from '../../../local-services/daemon-lock.ts';
import { projectRoot } from '../../../platform/paths.ts';

const RACER = path.join(projectRoot, 'test/fixtures/daemon-lock/racer.ts');
const RACERS = 3;
const ROUNDS = 2;

/** A pid whose process has exited: what a kill -9'd daemon leaves in its lock. */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid as number;

interface Outcome {
  pid: number;
  won?: true;
  refusedBy?: number;
}

async function until(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > giveUpAt) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the daemon lock: daemons taking over one stale lock at once', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('exactly one of several daemons racing for a stale lock wins; the others are refused naming it', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const scratch = mkdtempSync(path.join(os.tmpdir(), 'halflife-lock-race-'));
      dirs.push(scratch);
      const dataDir = path.join(scratch, 'data');
      const lock = daemonLockFile(dataDir);
      mkdirSync(path.dirname(lock), { recursive: true });
      writeFileSync(lock, `${deadPid()}\n`);
      const goFile = path.join(scratch, 'go');
      const racers = Array.from({ length: RACERS }, (_, i) => {
        const ready = path.join(scratch, `ready-${i}`);
        const child = spawn(process.execPath, ['--import', 'tsx', RACER, dataDir, ready, goFile], {
          cwd: projectRoot,
          stdio: ['pipe', 'pipe', 'inherit'],
        });
        children.push(child);
        let out = '';
        child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
        return { child, ready, output: () => out };
      });
      await until('every racer ready', () => racers.every((r) => existsSync(r.ready)), 60_000);
      writeFileSync(goFile, '');
      await until('every racer to answer', () => racers.every((r) => r.output().includes('\n')), 30_000);

      const outcomes = racers.map((r) => JSON.parse(r.output().trim()) as Outcome);
      const winners = outcomes.filter((o) => o.won);
      expect(winners, JSON.stringify(outcomes)).toHaveLength(1);
      const winner = winners[0]!.pid;
      for (const o of outcomes.filter((x) => !x.won)) expect(o.refusedBy).toBe(winner);
      expect(readFileSync(lock, 'utf8').trim()).toBe(String(winner));

      // The winner releases on stdin's end; nothing is left beside the lock (no guard, no pid files).
      for (const r of racers) r.child.stdin!.end();
      await Promise.all(
        racers.map(
          (r) => new Promise((resolve) => (r.child.exitCode === null ? r.child.once('exit', resolve) : resolve(null))),
        ),
      );
      expect(readdirSync(path.dirname(lock))).toEqual([]);
    }
  }, 240_000);

  it('a takeover guard left by a daemon that died mid-takeover does not block the next daemon', () => {
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'halflife-lock-guard-'));
    dirs.push(scratch);
    const lock = daemonLockFile(scratch);
    mkdirSync(path.dirname(lock), { recursive: true });
    writeFileSync(lock, `${deadPid()}\n`);
    writeFileSync(`${lock}.takeover`, `${deadPid()}\n`);
    const release = acquireDaemonLock(scratch);
    expect(readFileSync(lock, 'utf8').trim()).toBe(String(process.pid));
    release();
    expect(readdirSync(path.dirname(lock))).toEqual([]);
  });
});
