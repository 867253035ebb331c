/**
 * What a running daemon's Temporal workflow thread keeps: a heap snapshot of that thread, and what
 * grew between two snapshots. This is how the per-tick growth of every monitor (the SDK's root
 * cancellation scope keeping each tick's activity arguments; workflows/monitor/turn-scopes.ts) was
 * found: two snapshots a few ticks apart, compared by constructor and by object shape.
 *
 *   npm run bench -- workflow-heap snapshot --pid <daemon pid> --out a.heapsnapshot [--thread workflow|main] [--port 9229]
 *   npm run bench -- workflow-heap compare a.heapsnapshot b.heapsnapshot [--top 25] [--json]
 *   npm run bench -- workflow-heap retained a.heapsnapshot [--class MonitorWorkflowState]… [--depth 2] [--json]
 *
 * `retained` answers what one cached monitor weighs and in which of its fields: every instance
 * of a class (the monitor's state, the SDK's Activator of each workflow, its ReusableVMWorkflow)
 * with its retained size — the bytes only it keeps alive, from the snapshot's dominator tree
 * (bench/lib/heap-graph.ts) — split by the fields that hold them, mean over the instances.
 *
 * `snapshot` sends the daemon SIGUSR1, which makes Node open its inspector on 127.0.0.1:<port>
 * (Node's own behaviour for that signal; nothing else is exposed), attaches to the SDK's workflow
 * thread through the inspector's NodeWorker domain and streams its heap snapshot to the file. The
 * inspector stays open until the daemon exits: take snapshots of a benchmark's daemon, not of a
 * production one reachable by other local users.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { instancesOf, readHeapGraph, retainedByField, retainedComposition } from './lib/heap-graph.ts';

const USAGE = `Usage:
  npm run bench -- workflow-heap snapshot --pid PID --out FILE [--thread workflow|main] [--port N]
  npm run bench -- workflow-heap compare A B [--top N] [--json]
  npm run bench -- workflow-heap retained A [--class NAME]... [--depth N] [--min-kb K] [--json]

  snapshot   a heap snapshot of a running daemon's workflow thread (or main thread) into FILE
    --pid PID        the daemon's process id (its data directory's run/daemon.pid)
    --out FILE       where the snapshot is written
    --thread T       workflow (the SDK's workflow thread, default) or main
    --port N         the inspector port Node opens on SIGUSR1 (default 9229)
  compare    what grew from snapshot A to snapshot B: objects and bytes by constructor, and plain
             objects by their first properties that hold heap values (small integers are stored
             in the object and do not show): which of the program's values are kept
    --top N          rows of each table (default 25)
    --json           print the tables as JSON
  retained   what each instance of a class keeps alive in snapshot A (its retained size: the
             objects reachable from the roots only through it), split by the fields that hold
             them, mean over the instances; a row "a + b" is held by both fields, "(self)" is
             the instance's own bytes. What a cached monitor weighs and in which fields.
    --class NAME     a class (constructor name) to report; repeat for several (default:
                     MonitorWorkflowState, Activator (the SDK's per-workflow runtime) and
                     ReusableVMWorkflow (the worker's handle of each workflow in the reused context))
    --depth N        split a field's object by its own fields down to N levels (default 2)
    --min-kb K       rows under K kB a mean instance are summed into one (default 0.5)
    --kinds N        also what a mean instance retains by kind of object (constructor or system
                     name), without what the classes before it retain: its N largest (default 12)
    --json           print the tables as JSON
  -h, --help         this text

With the fleet benchmark: run it with --keep, take a snapshot a few ticks apart, compare. Growth of
about one object of a shape per monitor per tick is a tick's value kept by the run. \`retained\`
on a snapshot says what each monitor holds, field by field.
`;

/** The part of Node's (browser-style) WebSocket client used here; Node 20's types do not declare it. */
interface InspectorSocket {
  addEventListener(event: 'open' | 'error', listener: (event: unknown) => void): void;
  addEventListener(event: 'message', listener: (event: { data: unknown }) => void): void;
  send(data: string): void;
  close(): void;
}
const WebSocketClient = (globalThis as { WebSocket?: new (url: string) => InspectorSocket }).WebSocket;

interface Message {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: unknown;
}

async function snapshot(pid: number, out: string, thread: 'workflow' | 'main', port: number): Promise<void> {
  process.kill(pid, 'SIGUSR1');
  let targets: Array<{ webSocketDebuggerUrl: string }> = [];
  for (let attempt = 0; attempt < 50 && targets.length === 0; attempt++) {
    await new Promise((r) => setTimeout(r, 200));
    targets = await fetch(`http://127.0.0.1:${port}/json/list`)
      .then((r) => r.json() as Promise<typeof targets>)
      .catch(() => []);
  }
  if (targets.length === 0) throw new Error(`no inspector answered on 127.0.0.1:${port} after SIGUSR1 to ${pid}`);
  const socket = new WebSocketClient!(targets[0]!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve);
    socket.addEventListener('error', reject);
  });
  let nextId = 1;
  const replies = new Map<number, (m: Message) => void>();
  const chunks: string[] = [];
  let workerSession: string | null = null;
  let finished: () => void = () => {};
  const done = new Promise<void>((r) => (finished = r));
  const SNAPSHOT_ID = 1_000_000;
  socket.addEventListener('message', (event) => {
    const m = JSON.parse(String(event.data)) as Message;
    if (m.id !== undefined && replies.has(m.id)) {
      replies.get(m.id)!(m);
      replies.delete(m.id);
      if (m.id === SNAPSHOT_ID) finished();
      return;
    }
    if (m.method === 'HeapProfiler.addHeapSnapshotChunk') chunks.push(String(m.params!.chunk));
    if (m.method === 'NodeWorker.attachedToWorker') {
      const info = m.params!.workerInfo as { url: string; title: string };
      if (/workflow-worker-thread/.test(info.url + info.title)) workerSession ??= String(m.params!.sessionId);
    }
    if (m.method === 'NodeWorker.receivedMessageFromWorker') {
      const inner = JSON.parse(String(m.params!.message)) as Message;
      if (inner.method === 'HeapProfiler.addHeapSnapshotChunk') chunks.push(String(inner.params!.chunk));
      if (inner.id === SNAPSHOT_ID) finished();
    }
  });
  const send = (method: string, params: Record<string, unknown> = {}, id = nextId++) =>
    new Promise<Message>((resolve) => {
      replies.set(id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  const started = Date.now();
  if (thread === 'main') {
    await send('HeapProfiler.takeHeapSnapshot', { reportProgress: false }, SNAPSHOT_ID);
  } else {
    await send('NodeWorker.enable', { waitForDebuggerOnStart: false });
    for (let i = 0; i < 50 && workerSession === null; i++) await new Promise((r) => setTimeout(r, 100));
    if (workerSession === null)
      throw new Error(`the daemon ${pid} has no Temporal workflow thread (is its worker running?)`);
    const message = JSON.stringify({
      id: SNAPSHOT_ID,
      method: 'HeapProfiler.takeHeapSnapshot',
      params: { reportProgress: false },
    });
    socket.send(
      JSON.stringify({
        id: nextId++,
        method: 'NodeWorker.sendMessageToWorker',
        params: { sessionId: workerSession, message },
      }),
    );
    await done;
    await send('NodeWorker.detach', { sessionId: workerSession });
  }
  socket.close();
  const text = chunks.join('');
  writeFileSync(out, text);
  process.stderr.write(
    `${thread} thread of ${pid}: ${(text.length / 1e6).toFixed(1)} MB in ${Date.now() - started} ms → ${out}\n`,
  );
}

interface Tally {
  count: number;
  bytes: number;
}

/** Objects and self bytes by constructor, and plain objects by their first eight properties that hold heap values. */
function tally(file: string): { byConstructor: Map<string, Tally>; byShape: Map<string, Tally> } {
  const g = readHeapGraph(file, { dominators: false });
  const byConstructor = new Map<string, Tally>();
  const byShape = new Map<string, Tally>();
  const add = (map: Map<string, Tally>, key: string, bytes: number) => {
    const t = map.get(key) ?? { count: 0, bytes: 0 };
    t.count += 1;
    t.bytes += bytes;
    map.set(key, t);
  };
  for (let node = 0; node < g.nodeCount; node++) {
    const kind = g.nodeTypes[g.nodeType[node]!]!;
    const bytes = g.selfSize[node]!;
    const label = kind === 'object' || kind === 'closure' ? g.strings[g.nodeName[node]!]! : `(${kind})`;
    add(byConstructor, /string/.test(kind) ? '(string)' : label, bytes);
    const properties: string[] = [];
    for (let e = g.firstEdge[node]!; e < g.firstEdge[node + 1]! && properties.length < 8; e++) {
      if (g.edgeTypes[g.edgeType[e]!] === 'property') properties.push(g.strings[g.edgeName[e]!]!);
    }
    if (kind === 'object' && label === 'Object' && properties.some((p) => p !== '__proto__')) {
      add(byShape, properties.filter((p) => p !== '__proto__').join(','), bytes);
    }
  }
  return { byConstructor, byShape };
}

function grown(before: Map<string, Tally>, after: Map<string, Tally>, top: number) {
  return [...after]
    .map(([key, t]) => {
      const b = before.get(key) ?? { count: 0, bytes: 0 };
      return { key, count: t.count - b.count, bytes: t.bytes - b.bytes, totalBytes: t.bytes };
    })
    .sort((x, y) => y.bytes - x.bytes)
    .slice(0, top);
}

/** What grew from snapshot file `a` to `b`, the `top` largest rows of each table. */
export function compareSnapshots(a: string, b: string, top: number) {
  const [before, after] = [tally(a), tally(b)];
  return {
    byConstructor: grown(before.byConstructor, after.byConstructor, top),
    byShape: grown(before.byShape, after.byShape, top),
  };
}

/** The classes `retained` reports without --class: a monitor's state and the SDK's per-workflow objects. */
export const DEFAULT_RETAINED_CLASSES = ['MonitorWorkflowState', 'Activator', 'ReusableVMWorkflow'];

export interface RetainedReport {
  className: string;
  instances: number;
  /** Retained bytes of a mean instance, and the smallest and largest. */
  meanBytes: number;
  minBytes: number;
  maxBytes: number;
  /** Bytes a mean instance retains through each field (path), largest first; they add up to meanBytes. */
  fields: { field: string; meanBytes: number }[];
  /**
   * What a mean instance retains by kind of object, without what instances of the classes
   * reported before it retain (the Activator without its workflow's monitor state), largest first.
   */
  kinds: { kind: string; meanBytes: number }[];
  /** The sum of `kinds`: the instance's retained bytes without those of the classes before it. */
  ownMeanBytes: number;
}

/** What each instance of each class in snapshot `file` retains, split by field down to `depth` levels. */
export function retainedReport(
  file: string,
  classes: readonly string[],
  { depth = 2, minBytes = 512, kinds = 12 }: { depth?: number; minBytes?: number; kinds?: number } = {},
): { heapBytes: number; classes: RetainedReport[] } {
  const graph = readHeapGraph(file);
  const reportedBefore = new Set<number>();
  return {
    heapBytes: graph.retained[0]!,
    classes: classes.map((className) => {
      const instances = instancesOf(graph, className);
      const kindSums = new Map<string, number>();
      for (const node of instances)
        for (const [kind, bytes] of retainedComposition(graph, node, reportedBefore))
          kindSums.set(kind, (kindSums.get(kind) ?? 0) + bytes);
      for (const node of instances) reportedBefore.add(node);
      const sums = new Map<string, number>();
      for (const node of instances)
        for (const [field, bytes] of retainedByField(graph, node, depth))
          sums.set(field, (sums.get(field) ?? 0) + bytes);
      const sizes = instances.map((n) => graph.retained[n]!);
      const mean = (bytes: number) => (instances.length === 0 ? 0 : bytes / instances.length);
      const rows = [...sums].map(([field, bytes]) => ({ field, meanBytes: mean(bytes) }));
      const small = rows.filter((r) => Math.abs(r.meanBytes) < minBytes);
      const fields = rows.filter((r) => Math.abs(r.meanBytes) >= minBytes).sort((a, b) => b.meanBytes - a.meanBytes);
      if (small.length > 0)
        fields.push({
          field: `(${small.length} rows under ${minBytes / 1024} kB)`,
          meanBytes: small.reduce((sum, r) => sum + r.meanBytes, 0),
        });
      const kindRows = [...kindSums]
        .map(([kind, bytes]) => ({ kind, meanBytes: mean(bytes) }))
        .sort((a, b) => b.meanBytes - a.meanBytes);
      const ownMeanBytes = kindRows.reduce((sum, r) => sum + r.meanBytes, 0);
      const shown = kindRows.slice(0, kinds);
      if (kinds > 0 && kindRows.length > kinds)
        shown.push({
          kind: `(${kindRows.length - kinds} other kinds)`,
          meanBytes: kindRows.slice(kinds).reduce((sum, r) => sum + r.meanBytes, 0),
        });
      return {
        className,
        instances: instances.length,
        kinds: shown,
        ownMeanBytes,
        meanBytes: mean(sizes.reduce((a, b) => a + b, 0)),
        minBytes: sizes.length ? Math.min(...sizes) : 0,
        maxBytes: sizes.length ? Math.max(...sizes) : 0,
        fields,
      };
    }),
  };
}

export async function main(argv: readonly string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      pid: { type: 'string' },
      out: { type: 'string' },
      thread: { type: 'string', default: 'workflow' },
      port: { type: 'string', default: '9229' },
      top: { type: 'string', default: '25' },
      class: { type: 'string', multiple: true },
      depth: { type: 'string', default: '2' },
      'min-kb': { type: 'string', default: '0.5' },
      kinds: { type: 'string', default: '12' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...files] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(USAGE);
    return;
  }
  if (command === 'snapshot') {
    const pid = Number(values.pid);
    if (!Number.isInteger(pid) || pid <= 0)
      throw new Error('snapshot needs --pid <the daemon process id> (see --help)');
    if (!values.out) throw new Error('snapshot needs --out <file> (see --help)');
    if (values.thread !== 'workflow' && values.thread !== 'main')
      throw new Error(`--thread is workflow or main, got ${values.thread}`);
    if (WebSocketClient === undefined)
      throw new Error('this Node has no WebSocket client: run it through `npm run bench` (which enables it)');
    await snapshot(pid, values.out, values.thread, Number(values.port));
    return;
  }
  if (command === 'compare') {
    if (files.length !== 2) throw new Error('compare needs two snapshot files: compare A B (see --help)');
    const result = compareSnapshots(files[0]!, files[1]!, Number(values.top));
    if (values.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    for (const [title, rows] of [
      ['by constructor', result.byConstructor],
      ['plain objects by their first properties', result.byShape],
    ] as const) {
      process.stdout.write(`grown ${title}: objects  MB  (MB in B)\n`);
      for (const r of rows) {
        process.stdout.write(
          `${String(r.count).padStart(9)} ${(r.bytes / 1e6).toFixed(2).padStart(7)} (${(r.totalBytes / 1e6).toFixed(2)})  ${r.key.slice(0, 110)}\n`,
        );
      }
    }
    return;
  }
  if (command === 'retained') {
    if (files.length !== 1) throw new Error('retained needs one snapshot file: retained A (see --help)');
    const depth = Number(values.depth);
    if (!Number.isInteger(depth) || depth < 1) throw new Error(`--depth is a whole number ≥ 1, got ${values.depth}`);
    const minKb = Number(values['min-kb']);
    if (!Number.isFinite(minKb) || minKb < 0) throw new Error(`--min-kb is a number ≥ 0, got ${values['min-kb']}`);
    const kinds = Number(values.kinds);
    if (!Number.isInteger(kinds) || kinds < 0) throw new Error(`--kinds is a whole number ≥ 0, got ${values.kinds}`);
    const report = retainedReport(files[0]!, values.class ?? DEFAULT_RETAINED_CLASSES, {
      depth,
      minBytes: minKb * 1024,
      kinds,
    });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return;
    }
    const kb = (bytes: number) => (bytes / 1024).toFixed(1);
    process.stdout.write(`heap: ${(report.heapBytes / 1e6).toFixed(1)} MB reachable\n`);
    for (const c of report.classes) {
      process.stdout.write(
        `\n${c.className}: ${c.instances} instances, retained kB mean ${kb(c.meanBytes)} (min ${kb(c.minBytes)}, max ${kb(c.maxBytes)})\n`,
      );
      for (const r of c.fields) process.stdout.write(`${kb(r.meanBytes).padStart(10)}  ${r.field}\n`);
      if (c.kinds.length === 0) continue;
      const before = report.classes.slice(0, report.classes.indexOf(c)).map((b) => b.className);
      process.stdout.write(
        `  by kind${before.length ? ` (without what ${before.join(', ')} retain)` : ''}: ${kb(c.ownMeanBytes)} kB\n`,
      );
      for (const r of c.kinds) process.stdout.write(`${kb(r.meanBytes).padStart(10)}  ${r.kind}\n`);
    }
    return;
  }
  throw new Error(`unknown command ${command}: snapshot, compare or retained (see --help)`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`workflow-heap: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  });
}
