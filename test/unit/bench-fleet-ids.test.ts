import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fleetModelIds, parseFleetIdOptions } from '../../bench/lib/fleet-ids.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The fleet bench run with these flags; it exits on --help or a bad flag before starting anything. */
function fleetBench(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/fleet.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe("the fleet bench's model ids", () => {
  it('are fleet-0000, fleet-0001, … by default', () => {
    const options = parseFleetIdOptions(undefined, undefined);
    expect(options.kind).toBe('sequential');
    expect(fleetModelIds(3, options)).toEqual(['fleet-0000', 'fleet-0001', 'fleet-0002']);
    expect(fleetModelIds(1001, options)[1000]).toBe('fleet-1000');
  });

  it('with --ids random are distinct UUID v4s, the same again for the same --seed and others for another', () => {
    const ids = fleetModelIds(1000, parseFleetIdOptions('random', '42'));
    expect(ids).toHaveLength(1000);
    expect(new Set(ids).size).toBe(1000);
    for (const id of ids) expect(id).toMatch(UUID_V4);
    expect(fleetModelIds(1000, parseFleetIdOptions('random', '42'))).toEqual(ids);
    const other = fleetModelIds(1000, parseFleetIdOptions('random', '43'));
    expect(other.filter((id) => ids.includes(id))).toEqual([]);
    // Spread over the key space, not sharing a prefix: the first hex digit takes many values.
    expect(new Set(ids.map((id) => id[0])).size).toBe(16);
  });

  it('without --seed draw a seed in the generator range, which gives the same ids again', () => {
    const drawn = parseFleetIdOptions('random', undefined);
    expect(Number.isInteger(drawn.seed) && drawn.seed >= 0 && drawn.seed < 2 ** 32).toBe(true);
    expect(fleetModelIds(5, parseFleetIdOptions('random', String(drawn.seed)))).toEqual(fleetModelIds(5, drawn));
  });

  it('refuse an unknown kind or a seed that is not a 32-bit unsigned integer, naming the flag', () => {
    expect(() => parseFleetIdOptions('uuid', undefined)).toThrow('--ids uuid: use one of sequential, random');
    for (const seed of ['-1', '1.5', 'abc', '', '4294967296'])
      expect(() => parseFleetIdOptions('random', seed)).toThrow(`--seed ${seed}: an integer from 0 to 4294967295`);
    expect(parseFleetIdOptions('random', '4294967295').seed).toBe(4294967295);
  });

  it('are documented in --help, and a bad --ids stops the bench before it starts anything', () => {
    const help = fleetBench('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/--ids KIND\s+model ids: sequential .* or random/);
    expect(help.stdout).toContain('--seed N');
    const bad = fleetBench('--ids', 'uuid');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--ids uuid: use one of sequential, random');
  });
});
