import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  insertBinary,
  removeInsertBodiesOf,
  sweepInsertBodiesOfDeadProcesses,
} from '../../../platform/clickhouse/binary-insert.ts';
import type { Logger } from '../../../platform/logger.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

/** An embedded client that only records where each INSERT … FROM INFILE read its body, and what it held. */
function recordingClient(fail = false) {
  const seen: { file: string; body: string }[] = [];
  const client = {
    command: async ({ query }: { query: string }) => {
      const file = /FROM INFILE '([^']+)'/.exec(query)![1]!;
      seen.push({ file, body: readFileSync(file, 'utf8') });
      if (fail) throw new Error('engine refused');
    },
  } as unknown as ClickHouseClient;
  return { client, seen };
}

const params = (body: string) => ({
  table: 'events',
  columns: ['a'],
  body: Buffer.from(body),
  format: 'JSONCompactEachRow' as const,
});

describe('an embedded binary insert’s body file', () => {
  it('is in a directory of its own that is gone once the insert is, failed or not', async () => {
    const ok = recordingClient();
    await Promise.all([insertBinary(ok.client, true, params('[1]\n')), insertBinary(ok.client, true, params('[2]\n'))]);
    expect(ok.seen.map((s) => s.body).sort()).toEqual(['[1]\n', '[2]\n']);
    const [first, second] = ok.seen.map((s) => path.dirname(s.file));
    expect(first).not.toBe(second);
    expect(path.basename(first!)).toMatch(new RegExp(`^halflife-insert-${process.pid}-`));
    for (const { file } of ok.seen) expect(existsSync(path.dirname(file)), file).toBe(false);

    const refused = recordingClient(true);
    await expect(insertBinary(refused.client, true, params('[3]\n'))).rejects.toThrow('engine refused');
    expect(existsSync(path.dirname(refused.seen[0]!.file))).toBe(false);
  });

  it('left by a process killed mid-insert, is removed by pid by whoever killed it', () => {
    const pid = 2 ** 22 + 17; // above Linux's pid_max: no live process has it
    const left = mkdtempSync(path.join(os.tmpdir(), `halflife-insert-${pid}-`));
    writeFileSync(path.join(left, 'body.bin'), 'x');
    const other = tempDir(`halflife-insert-${pid}0-`);
    removeInsertBodiesOf(pid);
    expect(existsSync(left)).toBe(false);
    expect(existsSync(other)).toBe(true);
  });

  it('left by a process that is gone, is swept by the next one to start; a live process’s, and anything not exactly a body directory, is left', async () => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await once(child, 'exit');
    const dead = child.pid!;
    expect(() => process.kill(dead, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));

    const deadBody = tempDir(`halflife-insert-${dead}-`);
    writeFileSync(path.join(deadBody, 'body.bin'), Buffer.alloc(1000));
    const mine = tempDir(`halflife-insert-${process.pid}-`);
    writeFileSync(path.join(mine, 'body.bin'), 'x');
    const parents = tempDir(`halflife-insert-${process.ppid}-`);
    // init's: alive, and another user's unless this runs as root (kill(1, 0) is then EPERM).
    const inits = tempDir('halflife-insert-1-');
    // Named like a body directory of the dead pid, but not one: mkdtemp's suffix is six characters.
    const other = tempDir(`halflife-insert-${dead}-ab-`);
    const made = (name: string, make: (at: string) => void): string => {
      const at = path.join(os.tmpdir(), name);
      make(at);
      onTestFinished(() => rmSync(at, { recursive: true, force: true }));
      return at;
    };
    const shortSuffix = made(`halflife-insert-${dead}-abc`, (at) => mkdirSync(at));
    const file = made(`halflife-insert-${dead}-FILE01`, (at) => writeFileSync(at, 'x'));
    // A symlink named like a body directory: neither it nor what it points to is removed.
    const target = tempDir('halflife-spool-target-');
    writeFileSync(path.join(target, 'keep'), 'x');
    const link = made(`halflife-insert-${dead}-LINK01`, (at) => symlinkSync(target, at));

    const logged: { level: string; fields: Record<string, unknown>; msg: string }[] = [];
    const log = {
      info: (fields: Record<string, unknown>, msg: string) => logged.push({ level: 'info', fields, msg }),
      warn: (fields: Record<string, unknown>, msg: string) => logged.push({ level: 'warn', fields, msg }),
    } as unknown as Logger;
    const swept = sweepInsertBodiesOfDeadProcesses(log);

    expect(existsSync(deadBody)).toBe(false);
    expect(swept.removed).toContain(deadBody);
    // Other dead processes' bodies on this machine go too: at least this one's 1000 bytes.
    expect(swept.bytes).toBeGreaterThanOrEqual(1000);
    for (const kept of [mine, parents, inits, other, shortSuffix, file, path.join(target, 'keep')])
      expect(existsSync(kept), kept).toBe(true);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(path.join(mine, 'body.bin'), 'utf8')).toBe('x');
    expect(logged.filter((l) => l.level === 'info')).toEqual([
      {
        level: 'info',
        fields: { removed: swept.removed.length, bytes: swept.bytes, directories: swept.removed },
        msg: 'removed the insert bodies of processes that are gone',
      },
    ]);
  });
});
