/**
 * Where this process's memory is, as the operating system and V8 see it. RSS splits into
 * anonymous memory (heaps, the engine's allocations, the workflow thread) and file pages (the
 * code of the native libraries, mostly the embedded engine's, which the kernel can drop and
 * re-read). The V8 figures are the main thread's: the Temporal workflow thread has a heap of
 * its own, counted in RSS but not in them.
 */
import { readFileSync } from 'node:fs';

/** Bytes. */
export interface ProcessMemory {
  rss: number;
  /** Anonymous resident memory; null where /proc is not available. */
  rssAnonymous: number | null;
  /** Resident file pages (mapped code and data of the executables and libraries); null where /proc is not available. */
  rssFile: number | null;
  /** The main thread's V8 heap: in use and reserved. */
  heapUsed: number;
  heapTotal: number;
  /** Memory of C++ objects bound to the main thread's JavaScript objects (Buffers included). */
  external: number;
  /** ArrayBuffers and Buffers (part of `external`). */
  arrayBuffers: number;
}

export function processMemory(): ProcessMemory {
  const usage = process.memoryUsage();
  let status = '';
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    // not Linux: RSS from Node only
  }
  const { rssAnonymous, rssFile } = parseProcStatus(status);
  return {
    rss: usage.rss,
    rssAnonymous,
    rssFile,
    heapUsed: usage.heapUsed,
    heapTotal: usage.heapTotal,
    external: usage.external,
    arrayBuffers: usage.arrayBuffers,
  };
}

/** RssAnon and RssFile of a /proc/<pid>/status text, in bytes; null when absent. */
export function parseProcStatus(status: string): { rssAnonymous: number | null; rssFile: number | null } {
  const kib = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(status);
    return m ? Number(m[1]) * 1024 : null;
  };
  return { rssAnonymous: kib('RssAnon'), rssFile: kib('RssFile') };
}
