/**
 * CPU seconds of a process's threads, grouped by thread name, from /proc (Linux). Benchmarks on a
 * shared machine quote CPU per unit of work: unlike wall time it does not grow when other jobs
 * take the cores. Grouping by name separates JavaScript (the main thread) from an embedded
 * engine's native threads and V8's GC helpers, which a `--cpu-prof` profile cannot see.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's utime and stime (`getconf CLK_TCK`; 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** Thread name → CPU seconds (user + system); `total` sums them. */
export type ThreadCpu = Map<string, number>;

/** One /proc stat line's name and user + system ticks (the name may hold spaces and parentheses). */
function statOf(file: string): { name: string; ticks: number } | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined; // the thread ended between listing and reading
  }
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  // Fields after the name start at field 3 (state); utime and stime are fields 14 and 15.
  return { name: text.slice(open + 1, close), ticks: Number(fields[11]) + Number(fields[12]) };
}

/**
 * Per-thread-name CPU of `pid` (default: this process) so far. Threads that ended are counted in
 * `exited` (the process's total minus its living threads).
 */
export function threadCpu(pid: number | 'self' = 'self'): ThreadCpu {
  const byName: ThreadCpu = new Map();
  let living = 0;
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return byName;
  }
  for (const tid of tasks) {
    const stat = statOf(`/proc/${pid}/task/${tid}/stat`);
    if (stat === undefined) continue;
    const name = tid === String(pid === 'self' ? process.pid : pid) ? 'main' : stat.name;
    byName.set(name, (byName.get(name) ?? 0) + stat.ticks / TICKS_PER_SECOND);
    living += stat.ticks;
  }
  const whole = statOf(`/proc/${pid}/stat`);
  if (whole !== undefined && whole.ticks > living) byName.set('exited', (whole.ticks - living) / TICKS_PER_SECOND);
  let total = 0;
  for (const seconds of byName.values()) total += seconds;
  byName.set('total', total);
  return byName;
}

/** CPU spent between two readings, by thread name (names only in `after` count from zero). */
export function cpuSince(before: ThreadCpu, after: ThreadCpu): ThreadCpu {
  const spent: ThreadCpu = new Map();
  for (const [name, seconds] of after) spent.set(name, seconds - (before.get(name) ?? 0));
  return spent;
}
