/**
 * Child of bench/workflow-replay.ts: bundle the workflow code, replay the history once to warm up,
 * then `replays` times under a CPU timer; prints one JSON line. Started with or without the
 * stack-trace preload by the parent.
 */
import { loadHistoryFile, replayHistory } from '../../workers/replay.ts';
import { workflowBundle } from '../../workers/workflow-bundle.ts';

const replays = Number(process.argv[2]);
const history = loadHistoryFile(process.argv[3]!);
const bundle = await workflowBundle();
const replayOnce = async (i: number) => {
  const outcome = await replayHistory(history, `replay-cpu-${i}`, () => {}, bundle);
  if (!outcome.ok) throw new Error(`replay failed: ${JSON.stringify(outcome.error)}`);
};
await replayOnce(0);
const cpu = process.cpuUsage();
const wall = performance.now();
for (let i = 1; i <= replays; i++) await replayOnce(i);
const used = process.cpuUsage(cpu);
process.stdout.write(
  `${JSON.stringify({
    replays,
    historyEvents: history.events?.length ?? 0,
    cpuMsPerReplay: (used.user + used.system) / 1000 / replays,
    wallMsPerReplay: (performance.now() - wall) / replays,
  })}\n`,
);
// The SDK's runtime keeps the process alive.
process.exit(0);
