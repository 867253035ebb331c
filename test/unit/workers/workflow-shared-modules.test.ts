import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sharedWorkflowModules } from '../../../workers/workflow-shared-modules.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'shared-modules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sharedWorkflowModules', () => {
  it('lists the detectors the workflow code imports values from, not its type-only imports', () => {
    mkdirSync(path.join(dir, 'workflows/monitor'), { recursive: true });
    writeFileSync(
      path.join(dir, 'workflows/monitor/state.ts'),
      [
        "import { proxyActivities } from '@temporalio/workflow';",
        "import type { MonitorState } from '../../detectors/monitor/types.ts';",
        'import {',
        '  monitorTick,',
        '  startVersion,',
        "} from '../../detectors/monitor/tick.ts';",
        "import { helper } from './helper.ts';",
      ].join('\n'),
    );
    writeFileSync(
      path.join(dir, 'workflows/index.ts'),
      "export { formatDuration } from '../detectors/texts/format.ts';\nexport type { Kind } from '../detectors/kinds.ts';\n",
    );
    const shared = sharedWorkflowModules({
      workflowsDir: path.join(dir, 'workflows'),
      detectorsDir: path.join(dir, 'detectors'),
    });
    expect(shared).toEqual([path.join(dir, 'detectors/monitor/tick.ts'), path.join(dir, 'detectors/texts/format.ts')]);
  });

  it("finds the project's monitor tick among the shared modules, and nothing outside detectors/", () => {
    const shared = sharedWorkflowModules();
    expect(shared.some((file) => file.endsWith(path.join('detectors', 'monitor', 'tick.ts')))).toBe(true);
    expect(shared.every((file) => file.includes(`${path.sep}detectors${path.sep}`))).toBe(true);
  });
});
