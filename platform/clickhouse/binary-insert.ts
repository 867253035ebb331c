/**
 * Inserts of binary formats (RowBinary, Native). Embedded chDB cannot take them inline: its query
 * path splits an INSERT's inline data at the first empty line ("\n\n", the client's multi-query
 * rule), which any float's bytes may contain; that is why chdb's raw insert allows text formats
 * only. So the body goes to a file and the engine reads it with `FROM INFILE`, which takes the
 * bytes as they are. A ClickHouse server gets the body as the request's stream.
 */
import { mkdtempSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { mkdtemp, rmdir, unlink, writeFile } from 'node:fs/promises';
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

const spoolBases = (): string[] => ['/dev/shm', os.tmpdir()];
/** Named after the process, so that whoever kills one mid-insert can remove what it left. */
const bodyDirPrefix = (pid: number): string => `halflife-insert-${pid}-`;

/** Where the bodies go: shared memory when there is some, else the temp dir (tried once a process). */
function spoolBaseDirectory(): string | undefined {
  for (const base of spoolBases()) {
    try {
      const probe = mkdtempSync(path.join(base, bodyDirPrefix(process.pid)));
      rmdirSync(probe);
      if (PLAIN_PATH.test(probe)) return base;
    } catch {
      // not writable here: try the next
    }
  }
  return undefined;
}

let spoolBase: string | undefined;
let spoolBaseProbed = false;

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
  if (!spoolBaseProbed) {
    spoolBase = spoolBaseDirectory();
    spoolBaseProbed = true;
  }
  if (!spoolBase)
    throw new Error('binary insert: no writable directory for the insert body (tried /dev/shm and the temp dir)');
  // A private directory per insert, gone when the insert is: one kept for the process's life was
  // left behind by every process that ended on a signal (a test worker gets SIGTERM; no 'exit').
  const dir = await mkdtemp(path.join(spoolBase, bodyDirPrefix(process.pid)));
  const file = path.join(dir, 'body.bin');
  try {
    if (!PLAIN_PATH.test(file))
      throw new Error(`binary insert: ${JSON.stringify(file)} cannot be written into a statement`);
    await writeFile(file, params.body);
    await client.command({ query: `${into} FROM INFILE '${file}'${settings} FORMAT ${params.format}` });
  } finally {
    await unlink(file).catch(() => undefined);
    await rmdir(dir).catch(() => undefined);
  }
}

/**
 * Remove the insert bodies a process killed mid-insert (SIGKILL) left behind. Only for a process
 * that has exited: a live one's directory may be in use.
 */
export function removeInsertBodiesOf(pid: number): void {
  for (const base of spoolBases()) {
    let names: string[];
    try {
      names = readdirSync(base);
    } catch {
      continue;
    }
    for (const name of names)
      if (name.startsWith(bodyDirPrefix(pid))) rmSync(path.join(base, name), { recursive: true, force: true });
  }
}
