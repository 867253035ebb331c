/**
 * One daemon per data directory. While a daemon runs, `<dataDir>/run/daemon.pid` holds its pid, so
 * a second daemon on the same directory stops before it starts or adopts a local service, naming
 * the first, instead of failing later on the embedded engine's own lock (which stays the last
 * guard). A file left by a daemon that died without removing it (kill -9, a crash) names a pid
 * that no longer runs: the next daemon takes it over.
 */
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConflictError } from '../platform/errors.ts';
import { serviceDirs } from '../platform/paths.ts';
import { isAlive } from './process.ts';

/** Where a data directory's daemon keeps its pid. */
export function daemonLockFile(dataDir: string): string {
  return path.join(serviceDirs(dataDir).run, 'daemon.pid');
}

/** Another live daemon holds the data directory. Exit code 1. */
export class DaemonAlreadyRunning extends ConflictError {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `a halflife daemon already runs on ${dataDir} (pid ${pid}); stop it first, ` +
        'or set HALFLIFE_DATA_DIR (dataDir in the configuration file) to another directory',
    );
  }
}

/** Lock files this process holds: a file naming this process's pid is its own only if listed here (else the pid was reused). */
const heldHere = new Set<string>();

/**
 * Takes the data directory's daemon lock for `pid` (this process) and returns its release. Throws
 * DaemonAlreadyRunning when a live daemon holds it; takes over a file whose daemon is gone.
 */
export function acquireDaemonLock(dataDir: string, pid: number = process.pid): () => void {
  const file = daemonLockFile(dataDir);
  mkdirSync(path.dirname(file), { recursive: true });
  // Written whole beside the lock, then linked into place: a link fails when the lock exists, so
  // the lock never exists without its pid and two daemons cannot both create it.
  const mine = `${file}.${pid}`;
  writeFileSync(mine, `${pid}\n`);
  try {
    // Each failed attempt removed a stale file, or lost it to another daemon taking it over.
    for (let attempt = 0; attempt < 5; attempt++) {
      if (linkNew(mine, file)) {
        heldHere.add(file);
        return () => releaseDaemonLock(file, pid);
      }
      const holder = pidIn(file);
      if (holder !== undefined && holdsLock(file, holder, pid)) throw new DaemonAlreadyRunning(dataDir, holder);
      setStaleAside(file, pid, dataDir);
    }
    throw new ConflictError(
      `could not take the daemon lock ${file}: other daemons kept taking it; start one daemon at a time on ${dataDir}`,
    );
  } finally {
    rmSync(mine, { force: true });
  }
}

function releaseDaemonLock(file: string, pid: number): void {
  heldHere.delete(file);
  if (pidIn(file) === pid) rmSync(file, { force: true });
}

/** Whether the daemon a lock names runs: another process that is alive, or this one if it took the lock. */
function holdsLock(file: string, holder: number, pid: number): boolean {
  return holder === pid ? heldHere.has(file) : isAlive(holder);
}

/**
 * Moves a stale lock out of the way. The move is atomic, so of several daemons taking over one
 * stale file only one moves it; if what it moved is a live daemon's lock written meanwhile, it is
 * put back and that daemon named.
 */
function setStaleAside(file: string, pid: number, dataDir: string): void {
  const aside = `${file}.stale.${pid}`;
  try {
    renameSync(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const holder = pidIn(aside);
  if (holder !== undefined && holdsLock(file, holder, pid)) {
    linkNew(aside, file);
    rmSync(aside, { force: true });
    throw new DaemonAlreadyRunning(dataDir, holder);
  }
  rmSync(aside, { force: true });
}

/** Links `from` as `to` unless `to` exists; whether it did. */
function linkNew(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** The pid a lock file names; undefined when it is gone or names none. */
function pidIn(file: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}
