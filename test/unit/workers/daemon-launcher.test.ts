import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MALLOC_TUNABLES } from '../../../platform/config.ts';
import { projectRoot } from '../../../platform/paths.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

/**
 * workers/daemon.sh with a stand-in `node` first on PATH that reports what it was started with:
 * its pid (the launcher must exec, not fork, so the daemon keeps the pid it was started with),
 * GLIBC_TUNABLES and its arguments.
 */
function run(env: Record<string, string>, args: string[], launcher = path.join(projectRoot, 'workers/daemon.sh')) {
  const bin = tempDir('hl-launcher-');
  writeFileSync(
    path.join(bin, 'node'),
    '#!/bin/sh\necho "$$"\necho "${GLIBC_TUNABLES-<unset>}"\nfor a in "$@"; do echo "$a"; done\n',
  );
  chmodSync(path.join(bin, 'node'), 0o755);
  const script = `echo $$; exec sh ${JSON.stringify(launcher)} "$@"`;
  return spawnSync('sh', ['-c', script, 'sh', ...args], {
    cwd: projectRoot,
    env: { PATH: `${bin}:${process.env.PATH}`, ...env },
    encoding: 'utf8',
  });
}

function launch(
  env: Record<string, string>,
  args: string[] = [],
  launcher?: string,
): { pid: number; tunables: string; args: string[] } {
  const result = run(env, args, launcher);
  expect(result.status, result.stderr).toBe(0);
  const [shellPid, pid, tunables, ...rest] = result.stdout.trimEnd().split('\n');
  expect(pid).toBe(shellPid);
  return { pid: Number(pid), tunables: tunables!, args: rest };
}

describe('workers/daemon.sh', () => {
  it('execs node with the setting’s malloc tunables, its arguments before the daemon', () => {
    const started = launch({}, ['--cpu-prof']);
    expect(started.tunables).toBe(MALLOC_TUNABLES);
    expect(started.args).toEqual(['--cpu-prof', '--import', 'tsx', path.join(projectRoot, 'workers/daemon.ts')]);
  });

  it('takes HALFLIFE_MALLOC_TUNABLES, runs without them when it is empty, and keeps a GLIBC_TUNABLES already set', () => {
    expect(launch({ HALFLIFE_MALLOC_TUNABLES: 'glibc.malloc.arena_max=4' }).tunables).toBe('glibc.malloc.arena_max=4');
    expect(launch({ HALFLIFE_MALLOC_TUNABLES: '' }).tunables).toBe('<unset>');
    expect(launch({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=8' }).tunables).toBe('glibc.malloc.arena_max=8');
  });

  it('preloads the stack-trace switch when HALFLIFE_WORKFLOW_STACK_TRACES is false or 0, and only then', () => {
    const preload = path.join(projectRoot, 'platform/temporal-stack-traces-off.cjs');
    for (const value of ['false', '0']) {
      const { args } = launch({ HALFLIFE_WORKFLOW_STACK_TRACES: value }, ['--cpu-prof']);
      expect(args.slice(0, 2)).toEqual(['--cpu-prof', '--require']);
      // Absolute: node reads `--require dir/file` (no ./) as a package name.
      expect(args[2]).toBe(preload);
      expect(args.slice(3)).toEqual(['--import', 'tsx', path.join(projectRoot, 'workers/daemon.ts')]);
    }
    // Started as `npm start` starts it, by a relative path.
    expect(launch({ HALFLIFE_WORKFLOW_STACK_TRACES: 'false' }, [], 'workers/daemon.sh').args[1]).toBe(preload);
    // true, unset, and values the daemon's config check rejects with its own message: no preload.
    for (const env of [
      { HALFLIFE_WORKFLOW_STACK_TRACES: 'true' },
      {},
      { HALFLIFE_WORKFLOW_STACK_TRACES: 'off' },
    ] as Record<string, string>[])
      expect(launch(env).args).not.toContain('--require');
  });
});
