/**
 * One daemon per data directory. While a daemon runs, `<dataDir>/run/daemon.pid` holds its pid, so
 * a second daemon on the same directory stops before it starts or adopts a local service, naming
 * the first, instead of failing later on the embedded engine's own lock (which stays the last
 * guard). A file left by a daemon that died without removing it (kill -9, a crash) names a pid
 * that no longer runs: the next daemon takes it over, under `<lock>.takeover` so that of daemons
 * starting at once exactly one does.
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

/** How long a daemon waits for another's takeover of a stale lock before giving up. */
const TAKEOVER_PATIENCE_MS = 5_000;
/** Between looks at a takeover in progress. */
const TAKEOVER_POLL_MS = 10;

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
    const giveUpAt = Date.now() + TAKEOVER_PATIENCE_MS;
    for (;;) {
      if (linkNew(mine, file)) {
        heldHere.add(file);
        return () => releaseDaemonLock(file, pid);
      }
      const holder = pidIn(file);
      if (holder !== undefined && holdsLock(file, holder, pid)) throw new DaemonAlreadyRunning(dataDir, holder);
      // Stale: removed under the takeover guard (then linked again above), or another daemon is taking it over.
      if (!removeStaleUnderGuard(file, mine, pid)) {
        if (Date.now() >= giveUpAt)
          throw new ConflictError(
            `could not take the daemon lock ${file}: another daemon kept taking it over for ${TAKEOVER_PATIENCE_MS} ms; start one daemon at a time on ${dataDir}`,
          );
        pause(TAKEOVER_POLL_MS);
      }
    }
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
 * Removes a stale lock while holding `<lock>.takeover` (created only where none exists), after
 * checking again under it that the lock is still stale: every takeover passes through the guard
 * one at a time, so a second daemon finds the first's live lock there and is refused, and a live
 * lock is never moved. False when another live daemon holds the guard (look again shortly). A
 * guard left by a daemon that died inside this function is set aside.
 */
function removeStaleUnderGuard(file: string, mine: string, pid: number): boolean {
  const guard = `${file}.takeover`;
  if (!linkNew(mine, guard)) {
    const taker = pidIn(guard);
    if (taker !== undefined && taker !== pid && isAlive(taker)) return false;
    setDeadGuardAside(guard, pid);
    return true;
  }
  try {
    // Gone meanwhile: nothing to remove (removing now could remove a lock just linked in its place).
    // Still there and stale: only a takeover removes a lock whose daemon is gone, and this one holds the guard.
    const text = textOf(file);
    const holder = text === undefined ? undefined : pidOfText(text);
    if (text !== undefined && (holder === undefined || !holdsLock(file, holder, pid))) rmSync(file);
  } finally {
    rmSync(guard, { force: true });
  }
  return true;
}

/**
 * Moves aside a takeover guard whose daemon died (the move is atomic: of several daemons only one
 * moves it); if what it moved is a live daemon's guard created meanwhile, it is put back.
 */
function setDeadGuardAside(guard: string, pid: number): void {
  const aside = `${guard}.stale.${pid}`;
  try {
    renameSync(guard, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const taker = pidIn(aside);
  if (taker !== undefined && taker !== pid && isAlive(taker)) linkNew(aside, guard);
  rmSync(aside, { force: true });
}

/** Blocks this thread for `ms` (the lock is taken before anything else runs, synchronously). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
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
  const text = textOf(file);
  return text === undefined ? undefined : pidOfText(text);
}

function pidOfText(text: string): number | undefined {
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** A file's text; undefined when it is gone. */
function textOf(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
