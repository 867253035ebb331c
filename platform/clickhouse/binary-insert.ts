/**
 * Inserts of binary formats (RowBinary, Native). Embedded chDB cannot take them inline: its query
 * path splits an INSERT's inline data at the first empty line ("\n\n", the client's multi-query
 * rule), which any float's bytes may contain; that is why chdb's raw insert allows text formats
 * only. So the body goes to a file and the engine reads it with `FROM INFILE`, which takes the
 * bytes as they are. A ClickHouse server gets the body as the request's stream.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';

/** Binary formats, and JSONCompactEachRow for comparing the file transport with chdb's raw insert. */
export type BinaryFormat = 'RowBinary' | 'Native' | 'JSONCompactEachRow';

export interface BinaryInsertParams {
  table: string;
  columns: readonly string[];
  body: Buffer;
  format: BinaryFormat;
  settings?: Record<string, number>;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Characters a file path may hold to be written into the statement as a literal. */
const PLAIN_PATH = /^[A-Za-z0-9/_.-]+$/;

function identifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`binary insert: ${JSON.stringify(name)} is not a plain identifier`);
  return name;
}

function head({ table, columns, settings }: BinaryInsertParams): { into: string; settings: string } {
  const set = settings
    ? Object.entries(settings)
        .map(([k, v]) => `${identifier(k)}=${Number(v)}`)
        .join(', ')
    : '';
  return {
    into: `INSERT INTO ${identifier(table)} (${columns.map(identifier).join(', ')})`,
    settings: set ? ` SETTINGS ${set}` : '',
  };
}

/** A directory of its own for the bodies: shared memory when there is some, else the temp dir. */
function spoolDirectory(): string | undefined {
  for (const base of ['/dev/shm', os.tmpdir()]) {
    try {
      const dir = mkdtempSync(path.join(base, 'halflife-insert-'));
      if (PLAIN_PATH.test(dir)) return dir;
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // not writable here: try the next
    }
  }
  return undefined;
}

let spool: string | undefined;
let spooled = 0;

/** Remove the spool directory when the process ends (bodies are unlinked after each insert). */
function spoolDir(): string | undefined {
  if (spool === undefined) {
    spool = spoolDirectory();
    const dir = spool;
    if (dir) process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return spool;
}

/**
 * Insert `body` (rows of `columns` in `format`). `embedded`: the client runs on chDB (body through
 * a file); otherwise a server (body as the request stream).
 */
export async function insertBinary(
  client: ClickHouseClient,
  embedded: boolean,
  params: BinaryInsertParams,
): Promise<void> {
  const { into, settings } = head(params);
  if (!embedded) {
    const result = await client.exec({
      query: `${into}${settings} FORMAT ${params.format}`,
      values: Readable.from([params.body], { objectMode: false }),
    });
    result.stream.resume();
    return;
  }
  const dir = spoolDir();
  if (!dir)
    throw new Error('binary insert: no writable directory for the insert body (tried /dev/shm and the temp dir)');
  const file = path.join(dir, `${process.pid}-${++spooled}.bin`);
  await writeFile(file, params.body);
  try {
    await client.command({ query: `${into} FROM INFILE '${file}'${settings} FORMAT ${params.format}` });
  } finally {
    await unlink(file).catch(() => undefined);
  }
}
