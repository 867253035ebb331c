import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A background process halflife started, found again through its pid file. */
export interface ManagedProcess {
  pid: number;
  logFile: string;
}

/**
 * Start a long-running program detached (its own process group, so stopping it stops its
 * children too), with stdout and stderr appended to a log file and its pid in a pid file.
 */
export function startProcess(
  command: string,
  args: string[],
  files: { logFile: string; pidFile: string; cwd?: string; env?: NodeJS.ProcessEnv },
): ManagedProcess {
  mkdirSync(path.dirname(files.logFile), { recursive: true });
  mkdirSync(path.dirname(files.pidFile), { recursive: true });
  const out = openSync(files.logFile, 'a');
  const child = spawn(command, args, {
    cwd: files.cwd,
    env: files.env ?? process.env,
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${command}: see ${files.logFile}`);
  child.unref();
  writeFileSync(files.pidFile, `${child.pid}\n`);
  return { pid: child.pid, logFile: files.logFile };
}

/** The pid recorded in a pid file, if that process is still alive. */
export function runningPid(pidFile: string): number | undefined {
  const pid = recordedPid(pidFile);
  return pid !== undefined && isAlive(pid) ? pid : undefined;
}

/** The pid recorded in a pid file, alive or not. */
function recordedPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Who a service was started for: `<pidFile>.owner` holds the pid of the daemon that started it and
 * stops it when it exits. A service started by `halflife services up` has no owner and outlives
 * every daemon.
 */
export function ownerFile(pidFile: string): string {
  return `${pidFile}.owner`;
}

export function recordOwner(pidFile: string, ownerPid: number): void {
  writeFileSync(ownerFile(pidFile), `${ownerPid}\n`);
}

/**
 * The pid of the daemon that started this service and died without stopping it (kill -9, a
 * crash): its service is the next daemon's to adopt and stop. undefined when the service has no
 * owner or its owner still runs.
 */
export function orphanedBy(pidFile: string): number | undefined {
  const file = ownerFile(pidFile);
  if (!existsSync(file)) return undefined;
  const owner = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(owner) || owner <= 0) return undefined;
  return isAlive(owner) ? undefined : owner;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** How {@link stopProcess} ended: the group exited on SIGTERM, was SIGKILLed after the grace, or was not running. */
export type StopResult = 'stopped' | 'killed' | 'not-running';

/** One signal {@link stopProcess} sent to a process group, for the caller's structured log. */
export interface StopSignal {
  pid: number;
  signal: 'SIGTERM' | 'SIGKILL';
  /** Processes of the group still running when the signal was sent. */
  members: number[];
}

export interface StopOptions {
  /** How long the group may take to exit after SIGTERM before it is SIGKILLed (ms). @default 15000 */
  graceMs?: number;
  /** How long to wait for the group to go after SIGKILL before giving up (ms). @default 5000 */
  killWaitMs?: number;
  /** Called before each signal is sent. @default no-op */
  onSignal?: (sent: StopSignal) => void;
}

/**
 * SIGTERM the process group, wait until no process of it runs, SIGKILL the group after
 * `graceMs`. The group is waited for, not only its leader: a leader that exits first would
 * otherwise leave its children running with nothing pointing at them. The pid file is removed
 * only once the group is gone, so a daemon killed meanwhile leaves it for the next one to adopt.
 * Throws when the group survives SIGKILL (its pid file is kept).
 */
export async function stopProcess(pidFile: string, options: StopOptions = {}): Promise<StopResult> {
  const { graceMs = 15_000, killWaitMs = 5_000, onSignal = () => {} } = options;
  // By the group, not the leader: a leader gone before its children still names their group.
  const pid = recordedPid(pidFile);
  // One /proc scan both tells whether the group runs and names its members for the SIGTERM.
  const members = pid === undefined ? [] : groupMembers(pid);
  if (pid === undefined || members.length === 0) {
    rmSafe(pidFile);
    rmSafe(ownerFile(pidFile));
    return 'not-running';
  }
  onSignal({ pid, signal: 'SIGTERM', members });
  signalGroup(pid, 'SIGTERM');
  let result: StopResult = 'stopped';
  if (!(await groupGone(pid, graceMs))) {
    onSignal({ pid, signal: 'SIGKILL', members: groupMembers(pid) });
    signalGroup(pid, 'SIGKILL');
    result = 'killed';
    if (!(await groupGone(pid, killWaitMs)))
      throw new Error(
        `process group ${pid} (${pidFile}) still runs ${killWaitMs} ms after SIGKILL: ${groupMembers(pid).join(', ')}`,
      );
  }
  rmSafe(pidFile);
  rmSafe(ownerFile(pidFile));
  return result;
}

/** SIGKILL the group a pid file names, at once and synchronously (the last resort before a process exits). */
export function killProcessGroup(pidFile: string): number | undefined {
  const pid = recordedPid(pidFile);
  if (pid === undefined || groupMembers(pid).length === 0) return undefined;
  signalGroup(pid, 'SIGKILL');
  return pid;
}

async function groupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (groupMembers(pgid).length === 0) return true;
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
}

/**
 * Running processes of a process group (zombies have exited: only their parent's wait is
 * missing). Read from /proc; elsewhere, the leader alone if it is alive.
 */
export function groupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return isAlive(pgid) ? [pgid] : [];
  }
  const members: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name is in parentheses and may hold spaces: the fields after it are state, ppid, pgrp.
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') members.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return members;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

function rmSafe(file: string): void {
  rmSync(file, { force: true });
}

/** True when something accepts TCP connections on host:port. */
export function portOpen(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The kernel's range for the local ports of outgoing connections (Linux; the usual default elsewhere). */
export function ephemeralPortRange(): { low: number; high: number } {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low! > 1024) return { low: low!, high: high! };
  } catch {
    // not Linux: fall through
  }
  return { low: 32768, high: 60999 };
}

/** Lowest port {@link freePort} hands out: clear of the well-known and most registered services' ports. */
const FREE_PORT_FLOOR = 15000;

/**
 * A TCP port nobody listens on right now (for tests and throwaway stacks), below the kernel's
 * ephemeral range. A port from `listen(0)` lies inside that range, so between picking it and a
 * server binding it (a JVM takes seconds to start) any outgoing connection on the machine could be
 * given it as its local port — Kafka then failed with "Address already in use". Below the range,
 * only another listener can take it.
 */
export async function freePort(): Promise<number> {
  const { low } = ephemeralPortRange();
  if (low - FREE_PORT_FLOOR >= 1000) {
    for (let attempt = 0; attempt < 200; attempt++) {
      const port = FREE_PORT_FLOOR + Math.floor(Math.random() * (low - FREE_PORT_FLOOR));
      if (await canListen(port)) return port;
    }
  }
  return anyFreePort();
}

/** A port the kernel picks for `listen(0)` (inside its ephemeral range): {@link freePort}'s last resort. */
function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Whether this process could listen on 127.0.0.1:`port` right now (nobody listens there). */
export function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A free port p whose neighbours p + offset are free too, for a server that derives side ports
 * from its main one: a free main port alone let a side port collide with another stack's
 * listener on a busy machine.
 */
export async function freePortWithSides(
  offsets: readonly number[],
  options: {
    /** Candidates tried before giving up. @default 100 */
    attempts?: number;
    /** Where candidates come from. @default freePort */
    pick?: () => Promise<number>;
  } = {},
): Promise<number> {
  const { attempts = 100, pick = freePort } = options;
  for (let i = 0; i < attempts; i++) {
    const p = await pick();
    if (p + Math.max(...offsets) >= 65536) continue;
    let free = true;
    for (const offset of offsets) if (!(free = await canListen(p + offset))) break;
    if (free) return p;
  }
  throw new Error(`no free port with free neighbours at +${offsets.join(', +')} after ${attempts} tries`);
}

/** Poll `check` until it returns true or `timeoutMs` passes; the last error explains a failure. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  logFile?: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      lastError = (err as Error).message;
    }
    await sleep(250);
  }
  const tail =
    logFile && existsSync(logFile)
      ? `\n--- last lines of ${logFile} ---\n${readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n')}`
      : '';
  throw new Error(
    `${what} did not become healthy within ${Math.round(timeoutMs / 1000)}s${lastError ? ` (${lastError})` : ''}${tail}`,
  );
}
