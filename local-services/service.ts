import type { ManagedProcess } from './process.ts';

/** A service halflife can run on this machine for local use and tests. */
export interface LocalService {
  /** What the daemon's log calls it: 'temporal' or 'kafka' for the services halflife runs. */
  name: string;
  /** Where clients connect (host:port). */
  address: string;
  /** Other addresses worth printing (e.g. the Temporal Web UI). */
  extra: Record<string, string>;
  logFile: string;
  pidFile: string;
  /** Ports the service listens on; a port already taken by someone else is a start error. */
  ports: number[];
  start(): ManagedProcess;
  health(): Promise<boolean>;
}
