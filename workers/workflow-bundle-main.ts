/**
 * Bundles the workflow code and writes it (code and source map, as JSON) to the file named by the
 * first argument. Run as a child process by workflowBundle() (./temporal-worker.ts): webpack's
 * working memory then goes away with the child instead of staying in the daemon's heap.
 */
import { writeFileSync } from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';
import { quietBundlerLogger, workflowsPath } from './workflow-bundle.ts';
import { sharedWorkflowModules } from './workflow-shared-modules.ts';

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: workflow-bundle-main.ts <output.json>\n');
  process.exit(2);
}
const bundle = await bundleWorkflowCode({
  workflowsPath,
  logger: quietBundlerLogger,
  // Evaluated once and shared by every cached workflow, not once per workflow (./workflow-shared-modules.ts).
  preloadModules: sharedWorkflowModules(),
});
writeFileSync(out, JSON.stringify({ code: bundle.code, sourceMap: bundle.sourceMap }));
