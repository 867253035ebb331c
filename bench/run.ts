/**
 * Benchmark dispatcher: `npm run bench -- <name> [options]` runs bench/<name>.ts's `main(args)`.
 * Each benchmark prints its own usage; results go to BENCHMARKS.md by hand, with machine, date and command.
 */
const BENCHMARKS: Record<string, () => Promise<{ main: (argv: readonly string[]) => Promise<void> }>> = {
  decisions: () => import('./decisions.ts'),
  detection: () => import('./detection.ts'),
  drift: () => import('./drift.ts'),
};

const [name, ...rest] = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'));
const load = name === undefined ? undefined : BENCHMARKS[name];
if (load === undefined) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(BENCHMARKS).join('|')}> [options]\n`);
  process.exit(2);
}
await (await load()).main(rest);
