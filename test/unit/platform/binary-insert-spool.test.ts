import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { describe, expect, it } from 'vitest';
import { insertBinary, removeInsertBodiesOf } from '../../../platform/clickhouse/binary-insert.ts';
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
});
