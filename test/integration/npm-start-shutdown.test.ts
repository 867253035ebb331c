import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, portOpen } from '../../local-services/process.ts';
import { freeTemporalPort } from '../../local-services/temporal.ts';
import { waitUntil } from '../helpers/kafka.ts';

/**
 * Ctrl-C on `npm start`, as a terminal sends it: SIGINT to every process of the foreground group
 * (npm, and the daemon under it), twice. The daemon must finish its shutdown whatever the second
 * signal does, and leave nothing behind: no process of the tree (the Temporal dev server and the
 * Kafka broker it started included) and no listening port.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Parent pid and state of every process, from /proc. */
function processTable(): Map<number, { ppid: number; state: string }> {
  const table = new Map<number, { ppid: number; state: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name is in parentheses and may contain spaces: read the fields after it.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(entry), { state: fields[0]!, ppid: Number(fields[1]) });
    } catch {
      /* exited meanwhile */
    }
  }
  return table;
}

function descendants(root: number): number[] {
  const table = processTable();
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    for (const [child, { ppid }] of table) {
      if (ppid !== pid || out.includes(child)) continue;
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

/** Running (a zombie waiting for its parent to reap it has exited). */
function running(pid: number): boolean {
  const info = processTable().get(pid);
  return info !== undefined && info.state !== 'Z';
}

describe('npm start: a clean start, and Ctrl-C', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'halflife-npm-start-'));
  const leftovers: number[] = [];
  afterAll(() => {
    // A failed run must not leave its broker and dev server behind (each in its own process group).
    for (const file of ['temporal.pid', 'kafka.pid'].map((f) => path.join(dataDir, 'run', f)))
      if (existsSync(file)) leftovers.push(Number(readFileSync(file, 'utf8').trim()));
    for (const pid of leftovers)
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts without error lines; two SIGINTs to the process group stop the daemon cleanly and every process and port it started', async () => {
    const ports = {
      HALFLIFE_TEMPORAL_PORT: await freeTemporalPort(),
      HALFLIFE_TEMPORAL_UI_PORT: await freePort(),
      HALFLIFE_KAFKA_PORT: await freePort(),
      HALFLIFE_KAFKA_CONTROLLER_PORT: await freePort(),
      HALFLIFE_API_PORT: await freePort(),
    };
    const env: NodeJS.ProcessEnv = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) =>
          !k.startsWith('HALFLIFE_') &&
          !k.startsWith('npm_') &&
          !['KAFKA_BROKERS', 'CLICKHOUSE_URL', 'TEMPORAL_ADDRESS', 'NODE_OPTIONS'].includes(k),
      ),
    );
    Object.assign(env, Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])), {
      HALFLIFE_DATA_DIR: dataDir,
      HALFLIFE_KAFKA_HEAP: '384m',
    });
    // Its own process group, like a shell's foreground job.
    const npm = spawn('npm', ['start'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    leftovers.push(npm.pid!);
    let stderr = '';
    npm.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise<void>((resolve) => npm.on('exit', () => resolve()));

    await waitUntil('the daemon banner', () => stderr.includes('halflife is running.'), 170_000, 250).catch(
      (err: Error) => {
        throw new Error(`${err.message}\n--- npm start stderr ---\n${stderr.slice(-4000)}`);
      },
    );
    // A normal start on a fresh broker: no error lines (kafkajs' "coordinator not available"
    // while the broker settles is debug), no idempotent-producer warning, no SDK text blocks.
    const startLog = stderr;
    expect(startLog.split('\n').filter((l) => l.includes('"level":50') || l.includes('"level":60'))).toEqual([]);
    expect(startLog).not.toContain('Limiting retries for the idempotent producer');
    expect(startLog).not.toMatch(/\[INFO\]|\[WARN\]/);
    const tree = descendants(npm.pid!);
    // workers/daemon.sh exec'd node: the daemon is in npm's tree, started with glibc's malloc tunables
    // (glibc may cut the variable in place where it parsed it, so only its start is compared).
    const daemonPid = Number(readFileSync(path.join(dataDir, 'run', 'daemon.pid'), 'utf8').trim());
    expect(tree).toContain(daemonPid);
    expect(readFileSync(`/proc/${daemonPid}/cmdline`, 'utf8').split('\0')).toContain('workers/daemon.ts');
    const environ = readFileSync(`/proc/${daemonPid}/environ`, 'utf8').split('\0');
    expect(environ.filter((v) => v.startsWith('GLIBC_TUNABLES=glibc.malloc.arena_max=2'))).toHaveLength(1);
    const pidFiles = ['temporal.pid', 'kafka.pid'].map((f) => path.join(dataDir, 'run', f));
    const servicePids = pidFiles.filter(existsSync).map((f) => Number(readFileSync(f, 'utf8').trim()));
    expect(servicePids).toHaveLength(2);
    for (const pid of servicePids) expect(tree).toContain(pid);
    for (const port of Object.values(ports)) expect(await portOpen(port)).toBe(true);

    process.kill(-npm.pid!, 'SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 100));
    process.kill(-npm.pid!, 'SIGINT');

    await exited;
    await waitUntil(
      'every process of the tree to exit',
      () => [npm.pid!, ...tree].every((pid) => !running(pid)),
      30_000,
      100,
    ).catch((err: Error) => {
      const alive = tree.filter(running).map((pid) => `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8')}`);
      throw new Error(`${err.message}: still running ${alive.join('; ')}\n${stderr.slice(-3000)}`);
    });
    for (const port of Object.values(ports)) expect(await portOpen(port), `port ${port}`).toBe(false);
    // The daemon saw the repeated signal and finished the shutdown all the same.
    expect(stderr).toContain('already shutting down');
    for (const part of ['kafka', 'temporal'])
      expect(stderr, stderr.slice(-3000)).toMatch(new RegExp(`"part":"${part}","msg":"stopped"`));
  });
});
