/**
 * Where this process's memory is, as the operating system and V8 see it. RSS splits into
 * anonymous memory (heaps, the engine's allocations, the workflow thread) and file pages (the
 * code of the native libraries, mostly the embedded engine's, which the kernel can drop and
 * re-read). The V8 figures are the main thread's: the Temporal workflow thread has a heap of
 * its own, counted in RSS but not in them.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

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

/**
 * Resident bytes of the C allocator's heaps (glibc malloc's main heap and its per-thread
 * arenas): native allocations outside V8 and outside the engine's own allocator — the Temporal
 * SDK core, Node's internals, Buffers below malloc's mmap threshold — and what malloc keeps of
 * them after they are freed. Null where /proc is not available. Read off the event loop: the
 * kernel takes ~50 ms to write the smaps of a 2 GB process.
 */
export async function mallocHeaps(): Promise<number | null> {
  try {
    return mallocHeapBytes(await readFile('/proc/self/smaps', 'utf8'));
  } catch {
    return null;
  }
}

/** glibc's arena size on 64-bit Linux (HEAP_MAX_SIZE): each thread arena is one such aligned reservation. */
const ARENA_BYTES = 64 * 2 ** 20;

/**
 * Resident anonymous bytes of glibc malloc's heaps in a /proc/<pid>/smaps text: the `[heap]`
 * mapping (the main arena) and the thread arenas — a 64 MB-aligned mapping that, with the
 * reserved (PROT_NONE) rest of its 64 MB just after it, spans exactly 64 MB.
 */
export function mallocHeapBytes(smaps: string): number {
  const mappings: Array<{ start: number; end: number; inaccessible: boolean; name: string; anonymousKb: number }> = [];
  for (const line of smaps.split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (header) {
      mappings.push({
        start: parseInt(header[1]!, 16),
        end: parseInt(header[2]!, 16),
        inaccessible: header[3]!.startsWith('---'),
        name: header[4]!.trim(),
        anonymousKb: 0,
      });
      continue;
    }
    const anonymous = /^Anonymous:\s+(\d+) kB/.exec(line);
    const last = mappings.at(-1);
    if (anonymous && last) last.anonymousKb = Number(anonymous[1]);
  }
  let kb = 0;
  mappings.forEach((m, i) => {
    if (m.name === '[heap]') {
      kb += m.anonymousKb;
      return;
    }
    if (m.name !== '' || m.inaccessible || m.start % ARENA_BYTES !== 0) return;
    const next = mappings[i + 1];
    const reservedEnd = next && next.inaccessible && next.start === m.end && next.name === '' ? next.end : m.end;
    if (reservedEnd - m.start === ARENA_BYTES) kb += m.anonymousKb;
  });
  return kb * 1024;
}
