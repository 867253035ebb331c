import { describe, expect, it } from 'vitest';
import { parseAllocatorTotals } from '../../../platform/clickhouse/engine-memory-repository.ts';
import { loadConfig } from '../../../platform/config.ts';
import { parseProcStatus } from '../../../workers/process-memory.ts';
import { workflowCacheOptions } from '../../../workers/temporal-worker.ts';

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
    expect(parseAllocatorTotals(report)).toEqual({ allocatorResident: 48988160, allocatorRetained: 6946816 });
    expect(parseAllocatorTotals('no totals here')).toEqual({ allocatorResident: null, allocatorRetained: null });
  });
});

describe('the workflow cache setting', () => {
  const config = (env: Record<string, string>) => loadConfig({ env });

  it('bounds the cache by its default, with the SDK default number of workflow tasks at once', () => {
    expect(workflowCacheOptions(config({}))).toEqual({
      maxCachedWorkflows: config({}).temporal.maxCachedWorkflows,
      maxConcurrentWorkflowTaskExecutions: 40,
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
