import { describe, expect, it } from 'vitest';
import { parseAllocatorTotals } from '../../../platform/clickhouse/engine-memory-repository.ts';
import { loadConfig } from '../../../platform/config.ts';
import { mallocHeapBytes, parseProcStatus } from '../../../workers/process-memory.ts';
import { maxConcurrentLocalActivities, workflowCacheOptions } from '../../../workers/temporal-worker.ts';

describe('the memory breakdown', () => {
  it("reads RSS's anonymous and file parts from /proc/<pid>/status, in bytes", () => {
    const status = 'VmRSS:\t  313276 kB\nRssAnon:\t  132152 kB\nRssFile:\t  181124 kB\nRssShmem:\t       0 kB\n';
    expect(parseProcStatus(status)).toEqual({ rssAnonymous: 132152 * 1024, rssFile: 181124 * 1024 });
    expect(parseProcStatus('')).toEqual({ rssAnonymous: null, rssFile: null });
  });

  it("reads jemalloc's resident and retained bytes from its statistics report", () => {
    const report = [
      'Background threads: 3, num_runs: 6',
      'Allocated: 28746184, active: 29319168, metadata: 9768192 (n_thp 0, edata 163712, rtree 8388608), resident: 48988160, mapped: 64880640, retained: 6946816',
      'arenas[0]:',
      'resident: 1, retained: 2',
    ].join('\n');
    expect(parseAllocatorTotals(report)).toEqual({
      allocatorResident: 48988160,
      allocatorRetained: 6946816,
      allocatorAllocated: 28746184,
      allocatorActive: 29319168,
      allocatorMetadata: 9768192,
    });
    expect(parseAllocatorTotals('no totals here')).toEqual({
      allocatorResident: null,
      allocatorRetained: null,
      allocatorAllocated: null,
      allocatorActive: null,
      allocatorMetadata: null,
    });
  });

  it("counts glibc malloc's main heap and its 64 MB thread arenas in smaps, and no other mapping", () => {
    const mapping = (range: string, perms: string, anonymousKb: number, name = '') =>
      [
        `${range} ${perms} 00000000 00:00 0 ${name}`.trimEnd(),
        `Size:               1 kB`,
        `Rss:                ${anonymousKb} kB`,
        `Anonymous:          ${anonymousKb} kB`,
      ].join('\n');
    const smaps = [
      mapping('44b32000-4637e000', 'rw-p', 19_000, '[heap]'),
      // A thread arena: 64 MB-aligned, its used part then the reserved rest of its 64 MB.
      mapping('7f8354000000-7f83546d6000', 'rw-p', 5_800),
      mapping('7f83546d6000-7f8358000000', '---p', 0),
      // A whole 64 MB arena.
      mapping('7f8360000000-7f8364000000', 'rw-p', 60_000),
      // 64 MB-aligned but its reservation runs past 64 MB: not an arena.
      mapping('7f8b40000000-7f8b408e9000', 'rw-p', 8_000),
      mapping('7f8b408e9000-7f8b48000000', '---p', 0),
      // Not aligned to 64 MB (a V8 page, a thread stack, the engine's allocator).
      mapping('7f834ce00000-7f834d400000', 'rw-p', 5_500),
      mapping('299fa840000-299fafc8000', 'rw-p', 7_500),
      // A library's data.
      mapping('7f8c00000000-7f8c00100000', 'rw-p', 100, '/usr/lib/x86_64-linux-gnu/libc.so.6'),
    ].join('\n');
    expect(mallocHeapBytes(smaps)).toBe((19_000 + 5_800 + 60_000) * 1024);
    expect(mallocHeapBytes('')).toBe(0);
  });
});

describe('the workflow cache setting', () => {
  const config = (env: Record<string, string>) => loadConfig({ env });

  it('bounds the cache by its default, with the SDK default number of workflow tasks at work and one per local activity', () => {
    expect(maxConcurrentLocalActivities(config({}))).toBeGreaterThanOrEqual(128);
    expect(workflowCacheOptions(config({}))).toEqual({
      maxCachedWorkflows: config({}).temporal.maxCachedWorkflows,
      maxConcurrentWorkflowTaskExecutions: 40 + maxConcurrentLocalActivities(config({})),
    });
    // A task waiting for its window read keeps its slot: the local activities the setting allows add theirs.
    expect(workflowCacheOptions(config({ HALFLIFE_MAX_CONCURRENT_ACTIVITIES: '10' }))).toEqual({
      maxCachedWorkflows: config({}).temporal.maxCachedWorkflows,
      maxConcurrentWorkflowTaskExecutions: 50,
    });
  });

  it('runs no more workflow tasks at once than the cache holds (the SDK requires it)', () => {
    expect(workflowCacheOptions(config({ HALFLIFE_MAX_CACHED_WORKFLOWS: '8' }))).toEqual({
      maxCachedWorkflows: 8,
      maxConcurrentWorkflowTaskExecutions: 8,
    });
  });

  it('refuses a cache smaller than the SDK accepts, naming the setting', () => {
    expect(() => config({ HALFLIFE_MAX_CACHED_WORKFLOWS: '1' })).toThrow(
      /HALFLIFE_MAX_CACHED_WORKFLOWS|maxCachedWorkflows/,
    );
  });
});
