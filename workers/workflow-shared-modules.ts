/**
 * The modules every workflow shares in the worker's reused V8 context. The SDK evaluates a
 * workflow's modules once per workflow (each cached run has its own instance of every module it
 * imports: its functions, classes, constants); a module it preloads is evaluated once, frozen and
 * shared by all. The detectors are pure — no I/O, no state kept between calls at module scope
 * (ARCHITECTURE.md) — so sharing them changes nothing a workflow computes, and a cached monitor no
 * longer carries ~120 kB of its own copies of them (BENCHMARKS.md "What a cached monitor weighs").
 * Preloading the detectors the workflow code imports loads the detectors they import too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** `import … from '…'` and `export … from '…'` specifiers of a module's source, type-only ones left out. */
function importedSpecifiers(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(/^\s*(import|export)\s+(type\s+)?[^'";]*?\bfrom\s+'([^']+)'/gm))
    if (match[2] === undefined) found.push(match[3]!);
  return found;
}

/** Absolute paths of the modules under `detectorsDir` that the workflow code under `workflowsDir` imports values from. */
export function sharedWorkflowModules({
  workflowsDir = path.join(ROOT, 'workflows'),
  detectorsDir = path.join(ROOT, 'detectors'),
}: {
  /** @default the project's workflows/ */
  workflowsDir?: string;
  /** @default the project's detectors/ */
  detectorsDir?: string;
} = {}): string[] {
  const detectors = path.resolve(detectorsDir) + path.sep;
  const shared = new Set<string>();
  const files = readdirSync(workflowsDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  for (const file of files) {
    const from = path.join(workflowsDir, file);
    for (const specifier of importedSpecifiers(readFileSync(from, 'utf8'))) {
      if (!specifier.startsWith('.')) continue;
      const target = path.resolve(path.dirname(from), specifier);
      if (target.startsWith(detectors)) shared.add(target);
    }
  }
  return [...shared].sort();
}
