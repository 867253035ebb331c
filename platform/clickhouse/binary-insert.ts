/**
 * Inserts of binary formats (RowBinary, Native). Embedded chDB cannot take them inline: its query
 * path splits an INSERT's inline data at the first empty line ("\n\n", the client's multi-query
 * rule), which any float's bytes may contain; that is why chdb's raw insert allows text formats
 * only. So the body goes to a file and the engine reads it with `FROM INFILE`, which takes the
 * bytes as they are. A ClickHouse server gets the body as the request's stream.
 */
import { lstatSync, mkdtempSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { mkdtemp, rmdir, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from '../logger.ts';

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
/** The prefix and mkdtemp's six characters: nothing else is an insert body's directory. */
const BODY_DIR = /^halflife-insert-([1-9][0-9]*)-[A-Za-z0-9]{6}$/;

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

/** What a clean-up removed (directories, and the bytes of the files in them) and what it could not. */
export interface InsertBodyCleanup {
  removed: string[];
  bytes: number;
  failed: { path: string; err: unknown }[];
}

/** Remove the insert body directories whose process `gone` says has exited. Throws nothing. */
function removeInsertBodies(gone: (pid: number) => boolean): InsertBodyCleanup {
  const cleanup: InsertBodyCleanup = { removed: [], bytes: 0, failed: [] };
  const uid = process.getuid?.();
  for (const base of new Set(spoolBases())) {
    let names: string[];
    try {
      names = readdirSync(base);
    } catch (err) {
      // No /dev/shm (not Linux) is no failure.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') cleanup.failed.push({ path: base, err });
      continue;
    }
    for (const name of names) {
      const pid = BODY_DIR.exec(name)?.[1];
      if (pid === undefined || !gone(Number(pid))) continue;
      const dir = path.join(base, name);
      try {
        const stat = lstatSync(dir);
        // A symlink or file named like one is not a body's directory; another user's is theirs to sweep.
        if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid)) continue;
        let bytes = 0;
        for (const entry of readdirSync(dir)) bytes += lstatSync(path.join(dir, entry)).size;
        // rmSync unlinks a symlink inside; it never follows one.
        rmSync(dir, { recursive: true, force: true });
        cleanup.removed.push(dir);
        cleanup.bytes += bytes;
      } catch (err) {
        // Gone meanwhile: another process's sweep took it.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') cleanup.failed.push({ path: dir, err });
      }
    }
  }
  return cleanup;
}

/**
 * Remove the insert bodies a process killed mid-insert (SIGKILL) left behind. Only for a process
 * that has exited: a live one's directory may be in use.
 */
export function removeInsertBodiesOf(pid: number): InsertBodyCleanup {
  return removeInsertBodies((owner) => owner === pid);
}

/** No process has this pid (ESRCH). EPERM is a live process of another user's. */
function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * At the start of every process that inserts: remove the insert bodies of processes that are gone
 * (killed mid-insert by kill -9, the OOM killer, a container stopped past its grace). In /dev/shm
 * a body is memory, up to ~50 MB, held until reboot. A directory whose pid is live is left: its
 * insert may be running; or the pid was reused by an unrelated process, and a later sweep or a
 * reboot takes the body. Never fatal: what fails is logged, the rest swept.
 * Pids are this PID namespace's: two containers sharing a spool directory but not their pids could
 * take each other's body before its insert reads it, which fails that insert (Kafka ingest retries it).
 */
export function sweepInsertBodiesOfDeadProcesses(log: Pick<Logger, 'info' | 'warn'>): InsertBodyCleanup {
  const cleanup = removeInsertBodies(processGone);
  if (cleanup.removed.length > 0)
    log.info(
      { removed: cleanup.removed.length, bytes: cleanup.bytes, directories: cleanup.removed },
      'removed the insert bodies of processes that are gone',
    );
  for (const { path: where, err } of cleanup.failed)
    log.warn({ err, path: where }, 'could not sweep the insert bodies of processes that are gone');
  return cleanup;
}
