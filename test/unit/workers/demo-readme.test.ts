import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../../platform/paths.ts';
import { demoSchedule } from '../../../workers/demo.ts';

describe('the demo as README describes it', () => {
  it("states the daemon's default request rate", () => {
    const readme = readFileSync(`${projectRoot}/README.md`, 'utf8');
    const demo = readme.slice(readme.indexOf('## Demo'), readme.indexOf('## Sending data'));
    const stated = [...demo.matchAll(/~(\d+) scoring requests\/s/g)].map((m) => Number(m[1]));
    expect(stated).toEqual([demoSchedule(1).requestsPerSecond]);
  });
});
