/**
 * Fleet benchmark: one halflife daemon watching N models, measured as a platform team would run it.
 *
 *   npm run bench -- fleet [--models 1000] [--minutes 30] [--cadence 1m] [--rate 5] [--json] [--out file]
 *
 * A fresh daemon (its own data directory, Temporal dev server and Kafka broker, demo off) in a
 * child process; N models registered through the API (`POST /v1/models/:model/versions`: one
 * ONNX artifact, a CSV reference, stage production); their events and labels posted to
 * POST /v1/events and /v1/labels at --rate events/s per model (labels --label-delay later); N
 * monitors started at --cadence. Measured, per minute of the run:
 *
 * - every window that came due (each model's windows are staggered by its offset within the
 *   cadence, detectors/monitor/schedule.ts): decided on its own, decided as part of a coalesced
 *   window (the monitor fell behind), or missed (skipped, or no decision by the end of the run);
 * - tick latency per decided window: when its decision was derived (the daemon's decision log
 *   line) minus when the window was due (its end plus --settle): p50, p99, max, within 10 s;
 * - POST /v1/events latency (client side) p50/p99/max and the events/s the API accepted while
 *   the ticks ran;
 * - daemon CPU (% of one core) and RSS, and the Temporal server's CPU;
 * - where the daemon's memory is (its /metrics): RSS split into anonymous and file pages (the
 *   native libraries' code), and anonymous split into the main thread's and the workflow thread's
 *   V8 heaps, glibc malloc's heaps, the embedded engine's allocator (active pages, metadata) and
 *   the rest; the engine's tracked memory, caches, parts' indexes and merges; workflows cached;
 * - SQL time per window read (the window batcher's counters at /metrics) and the longest wait of
 *   ingest's queries for the embedded engine's query lane;
 * - what the engine did: the events' and labels' active parts, merges run and rows they
 *   rewrote, marks and rows selected per window read, the mark cache's hit rate;
 * - labels stored so far.
 * Also: registration time, monitor start-up time, machine, date and load. `--json` prints the
 * whole report on stdout; progress goes to stderr as the run goes.
 */
import { QUERY_PRIORITIES } from '../platform/clickhouse/query-scheduler.ts';
import { removeInsertBodiesOf } from '../platform/clickhouse/binary-insert.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { staggerOffsetMs, windowStartAt } from '../detectors/monitor/schedule.ts';
import { parseDuration } from '../detectors/policy/duration.ts';
import { Random } from '../detectors/random.ts';
import { freePort, stopProcess } from '../local-services/process.ts';
import type { LocalService } from '../local-services/service.ts';
import { localServices } from '../local-services/stack.ts';
import { freeTemporalPort, temporalMetricsPort } from '../local-services/temporal.ts';
import { MonitorClient } from '../operations/monitor-control.ts';
import { loadConfig } from '../platform/config.ts';
import { parsePolicy } from '../platform/policy-file.ts';
import { connectTemporal } from '../platform/temporal.ts';
import { fitLogistic, predictProbability, type LogisticModel } from '../training/logistic.ts';
import { logisticToOnnx } from '../training/logistic-onnx.ts';
import { monitorWorkflowId } from '../workflows/messages.ts';
import type { ModelMonitorInput } from '../workflows/monitor/input.ts';
import { arrivalOf, PostPacer } from './lib/arrival.ts';
import { machine } from './lib/cli.ts';
import { fleetModelIds, parseFleetIdOptions } from './lib/fleet-ids.ts';
import { inPool, RunStop } from './lib/run-stop.ts';
import { HTTP_INGEST_STAGES, type HttpIngestStage } from '../workers/ingest/http-stages.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TOKEN = 'fleet-bench-admin-token-0123456789';
const FEATURES = { numeric: ['f1', 'f2', 'f3'], categorical: ['region'] };
const REGIONS = ['eu', 'us', 'apac'];

const USAGE = `Usage: npm run bench -- fleet [options]   (or: npx tsx bench/fleet.ts [options])

One daemon, N models with a production version, traffic and labels over HTTP, N monitors:
tick latency per window over time (and windows coalesced or missed), ingest latency and
throughput while ticks run, CPU, RSS, SQL time per window read. Progress on stderr.

  --models N           models (and monitors) (default 20)
  --minutes M          minutes of traffic after the monitors start (default 3)
  --cadence D          monitor cadence (default 1m)
  --settle D           monitor settle time: a window is due this long after it ends (default 10s)
  --rate R             events per second per model (default 5)
  --label-delay D      labels are posted this long after their events (default 30s)
  --post-every D       how often the load generator posts (default 1s)
  --max-post N         most events per POST (default 2000)
  --post-ack A         POSTs answered once stored or once logged to Kafka: stored|logged (?ack=; default stored)
  --arrival A          when each --post-every's POSTs are sent: burst (all at once) or spread (evenly over
                       the interval, as many independent clients send) (default burst)
  --daemon-node-arg A  an option for the daemon's node, repeatable: e.g. --daemon-node-arg=--cpu-prof
                       --daemon-node-arg=--cpu-prof-dir=/tmp/prof profiles its threads (node refuses
                       --cpu-prof in NODE_OPTIONS) (default: none)
  --max-run-history B  bytes of history after which a monitor's run continues as new (the monitor
                       input's maxRunHistoryBytes; default: the monitor's own, 256 KiB)
  --start-concurrency N  monitors started at once (default 32)
  --ready-timeout D    how long the daemon may take to start its services and become ready (default 5m)
  --start-attempts N   daemon start-ups, and starts of each monitor, tried before giving up (default 3)
  --ids KIND           model ids: sequential (fleet-0000, fleet-0001, …) or random (UUID v4s from a
                       seeded generator, the same ids again for the same --seed) (default sequential)
  --seed N             seed of --ids random, 0 … 4294967295 (default: drawn at random; the run prints it
                       and its report records it, so the ids can be had again)
  --data-dir DIR       the daemon's data directory (default: a new temporary one, removed after)
  --keep               keep the data directory
  --out FILE           also write the JSON report here
  --json               print the JSON report on stdout
  -h, --help           this text

The daemon's settings come from the environment, e.g. the workflow cache:
  HALFLIFE_MAX_CACHED_WORKFLOWS=200 npm run bench -- fleet --models 300
It starts through workers/daemon.sh, as \`npm start\` does (HALFLIFE_MALLOC_TUNABLES= runs it without
its malloc tunables).
Each minute also prints where the daemon's memory is (its /metrics): RSS = anonymous + file
pages, anonymous = both V8 heaps (main, workflow thread) + malloc heaps + the engine allocator's
active pages and metadata + rest; the engine's caches, parts' indexes and merges; workflows
cached; and what the engine did (parts of the events and labels, merges and the rows they
rewrote, marks and rows selected per window read, mark cache hits).

The defaults finish in about six minutes. The figures in BENCHMARKS.md ("Fleet") are taken on a
quiet machine, one run per N, e.g. the target fleet:
  npm run bench -- fleet --models 1000 --minutes 30 --json --out fleet-1000.json
`;

const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: '20' },
    minutes: { type: 'string', default: '3' },
    cadence: { type: 'string', default: '1m' },
    settle: { type: 'string', default: '10s' },
    rate: { type: 'string', default: '5' },
    'label-delay': { type: 'string', default: '30s' },
    'post-every': { type: 'string', default: '1s' },
    'max-post': { type: 'string', default: '2000' },
    'post-ack': { type: 'string', default: 'stored' },
    arrival: { type: 'string', default: 'burst' },
    'daemon-node-arg': { type: 'string', multiple: true, default: [] },
    'max-run-history': { type: 'string' },
    'start-concurrency': { type: 'string', default: '32' },
    'ready-timeout': { type: 'string', default: '5m' },
    'start-attempts': { type: 'string', default: '3' },
    ids: { type: 'string', default: 'sequential' },
    seed: { type: 'string' },
    'data-dir': { type: 'string' },
    keep: { type: 'boolean', default: false },
    out: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (args.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const N = positive('models');
const MINUTES = positive('minutes');
const RATE = positive('rate');
const MAX_POST = positive('max-post');
const START_CONCURRENCY = positive('start-concurrency');
const START_ATTEMPTS = positive('start-attempts');
const CADENCE_MS = parseDuration(args.cadence);
const SETTLE_MS = parseDuration(args.settle);
const LABEL_DELAY_MS = parseDuration(args['label-delay']);
const POST_EVERY_MS = parseDuration(args['post-every']);
const READY_TIMEOUT_MS = parseDuration(args['ready-timeout']);
const IDS = idOptions();
const POST_ACK = args['post-ack'];
const ARRIVAL = arrivalOf(args.arrival!);
if (POST_ACK !== 'stored' && POST_ACK !== 'logged') {
  process.stderr.write(`--post-ack ${POST_ACK}: stored or logged\n${USAGE}`);
  process.exit(2);
}
const MAX_RUN_HISTORY = args['max-run-history'] === undefined ? undefined : positive('max-run-history');
/** Monitors whose current run's history size is read each minute: what the worker keeps of a cached run grows with it. */
const HISTORY_SAMPLE = 40;
const log = (line: string) => process.stderr.write(`${line}\n`);

function positive(
  name: 'models' | 'minutes' | 'rate' | 'max-post' | 'start-concurrency' | 'start-attempts' | 'max-run-history',
): number {
  const v = Number(args[name]);
  if (!(v > 0)) {
    process.stderr.write(`--${name} ${args[name]}: a positive number\n${USAGE}`);
    process.exit(2);
  }
  return v;
}

function idOptions(): ReturnType<typeof parseFleetIdOptions> {
  try {
    return parseFleetIdOptions(args.ids, args.seed);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

// ---- the daemon ----------------------------------------------------------------------------

interface Daemon {
  child: ChildProcess;
  api: string;
  temporalAddress: string;
  dataDir: string;
  /** The Temporal dev server and Kafka broker its configuration runs (their pid files). */
  services: LocalService[];
  /** Decisions the daemon logged on a window: model, when derived, the window. */
  decisions: Decision[];
  /** Set when this benchmark stops it: an exit before that ends the run. */
  stopRequested: boolean;
  /** Its last log lines other than decisions (shown when it fails to start or stop). */
  lastLines: string[];
}

interface Decision {
  modelId: string;
  at: number;
  windowStart: number;
  windowEnd: number;
  kind: string;
}

async function startDaemon(dataDir: string): Promise<Daemon> {
  const [apiPort, temporal, temporalUi, kafka, kafkaController] = [
    await freePort(),
    await freeTemporalPort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  // The embedded stack: no ClickHouse server, Kafka or Temporal from the environment.
  const { CLICKHOUSE_URL: _c, KAFKA_BROKERS: _k, TEMPORAL_ADDRESS: _t, ...inherited } = process.env;
  const env = {
    ...inherited,
    HALFLIFE_DATA_DIR: dataDir,
    HALFLIFE_DEMO: 'false',
    HALFLIFE_API_PORT: String(apiPort),
    HALFLIFE_API_TOKEN: TOKEN,
    HALFLIFE_TEMPORAL_PORT: String(temporal),
    HALFLIFE_TEMPORAL_UI_PORT: String(temporalUi),
    HALFLIFE_KAFKA_PORT: String(kafka),
    HALFLIFE_KAFKA_CONTROLLER_PORT: String(kafkaController),
    HALFLIFE_LOG_LEVEL: 'info',
  };
  // The daemon's own configuration, read as it reads it: its services' pid files are where it writes them.
  const services = localServices(loadConfig({ env, cwd: ROOT }));
  // Through the launcher `npm start` uses (it execs node): the daemon starts with the same malloc tunables.
  const child = spawn('sh', [path.join(ROOT, 'workers/daemon.sh'), ...args['daemon-node-arg']], {
    cwd: ROOT,
    // Its own process group: a Ctrl-C reaches the bench alone, which ends the run and stops the daemon.
    detached: true,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const daemon: Daemon = {
    child,
    api: `http://127.0.0.1:${apiPort}`,
    temporalAddress: `127.0.0.1:${temporal}`,
    dataDir,
    services,
    decisions: [],
    stopRequested: false,
    lastLines: [],
  };
  // The daemon logs JSON on stderr, one line per decision (workers/temporal-worker.ts decisionLogSink).
  const errors = daemon.lastLines;
  readline.createInterface({ input: child.stderr! }).on('line', (line) => {
    if (line.includes('"decisionId"')) {
      try {
        const entry = JSON.parse(line) as {
          time: string;
          modelId: string;
          kind: string;
          windowStart?: number;
          windowEnd?: number;
        };
        // Decisions without a window (approvals, retrain outcomes) are not ticks.
        if (entry.windowStart !== undefined && entry.windowEnd !== undefined)
          daemon.decisions.push({
            modelId: entry.modelId,
            at: Date.parse(entry.time),
            windowStart: entry.windowStart,
            windowEnd: entry.windowEnd,
            kind: entry.kind,
          });
        return;
      } catch {
        // not one of its JSON lines
      }
    }
    errors.push(line);
    if (errors.length > 50) errors.shift();
  });
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const ready = await fetch(`${daemon.api}/readyz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ready) {
      // A daemon gone mid-run ends the run: there is nothing left to measure.
      void exited.then((code) => {
        if (!daemon.stopRequested) runStop.request(`the daemon exited (${code ?? child.signalCode})`);
      });
      return daemon;
    }
    const code = await Promise.race([exited, sleep(1000).then(() => undefined)]);
    if (runStop.stopping) {
      await stopDaemon(daemon);
      throw new StoppedEarly();
    }
    if (code !== undefined || Date.now() > deadline) {
      // A daemon that is still starting has spawned Temporal and Kafka: stop it, it stops them.
      await stopDaemon(daemon);
      throw new Error(`the daemon did not become ready (exit ${code ?? 'timeout'}):\n${errors.join('\n')}`);
    }
  }
}

/**
 * A loaded machine can fail a daemon's start-up (a broker that does not yet host a topic it just
 * created): start it again, up to --start-attempts times, on the same data directory.
 */
async function startDaemonRetrying(dataDir: string): Promise<Daemon> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDaemon(dataDir);
    } catch (err) {
      if (attempt >= START_ATTEMPTS || runStop.stopping) throw err;
      log(
        `  the daemon did not start (attempt ${attempt} of ${START_ATTEMPTS}): ${(err as Error).message.split('\n')[0]}; again`,
      );
    }
  }
}

/**
 * How long the daemon may take to stop after SIGINT before it is SIGKILLed: its own stop gives up
 * and kills what is left after 80 s (workers/shutdown.ts `deadlineMs`), so this is a last resort.
 */
const DAEMON_STOP_WAIT_MS = 100_000;

/** Start-up was interrupted by a stop request. */
class StoppedEarly extends Error {
  constructor() {
    super('stopped before the daemon was ready');
  }
}

async function stopDaemon(daemon: Daemon): Promise<void> {
  daemon.stopRequested = true;
  const { child } = daemon;
  // An exit by a signal leaves exitCode null: both say the process is gone.
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  if (!gone()) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const t0 = Date.now();
    child.kill('SIGINT');
    // Unref'd: a pending wait must not keep the bench alive once the daemon is gone.
    await Promise.race([exited, delay(DAEMON_STOP_WAIT_MS, undefined, { ref: false })]);
    if (!gone()) {
      log(`  the daemon did not stop within ${DAEMON_STOP_WAIT_MS / 1000} s: killing it`);
      child.kill('SIGKILL');
      await Promise.race([exited, delay(5_000, undefined, { ref: false })]);
    }
    log(`  the daemon exited (${child.exitCode ?? child.signalCode}) after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // Its stop log says which part failed, missed its deadline or was forced.
    if (child.exitCode !== 0) log(daemon.lastLines.filter((l) => l.includes('"part"')).join('\n'));
  }
  // A daemon killed mid-insert leaves the insert's body (in /dev/shm: memory) behind.
  if (gone() && child.pid !== undefined) {
    const left = removeInsertBodiesOf(child.pid);
    if (left.removed.length > 0) log(`  removed ${left.removed.length} insert bodies (${left.bytes} bytes) it left`);
  }
  // A daemon killed (by us or anyone) leaves its detached Temporal server and Kafka broker running.
  for (const service of daemon.services) {
    const result = await stopProcess(service.pidFile).catch((err: Error) => err.message);
    if (result !== 'not-running') log(`  ${service.name}, left by the daemon: ${result}`);
  }
}

// ---- the models and their traffic ---------------------------------------------------------

const modelIds = fleetModelIds(N, IDS);

/** A SEA-style world: label 1 when f1 + f2 ≤ 9, 10% of labels flipped. */
function row(rng: Random): { features: Record<string, number | string>; label: number } {
  const f1 = 10 * rng.next();
  const f2 = 10 * rng.next();
  const f3 = 10 * rng.next();
  let label = f1 + f2 <= 9 ? 1 : 0;
  if (rng.next() < 0.1) label = 1 - label;
  return { features: { f1, f2, f3, region: REGIONS[Math.floor(rng.next() * 3)]! }, label };
}

function trainModel(): { model: LogisticModel; onnx: Uint8Array; referenceCsv: string } {
  const rng = new Random(17);
  const rows = Array.from({ length: 2000 }, () => row(rng));
  const { model } = fitLogistic(
    { features: FEATURES, rows: rows.map((r) => r.features), labels: rows.map((r) => r.label) },
    { l2: 1 },
  );
  const csv = [
    'f1,f2,f3,region',
    ...rows.map((r) => [r.features.f1, r.features.f2, r.features.f3, r.features.region].join(',')),
  ];
  return { model, onnx: logisticToOnnx(model), referenceCsv: `${csv.join('\n')}\n` };
}

async function api(daemon: Daemon, method: string, url: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${daemon.api}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${text.slice(0, 500)}`);
  return text ? (JSON.parse(text) as unknown) : null;
}

async function registerFleet(
  daemon: Daemon,
  onnx: Uint8Array,
  referenceCsv: string,
): Promise<{ seconds: number; registered: number }> {
  const t0 = performance.now();
  const body = {
    artifact: { name: 'model.onnx', base64: Buffer.from(onnx).toString('base64') },
    reference: { file: { name: 'reference.csv', base64: Buffer.from(referenceCsv).toString('base64') } },
    stage: 'production',
    version: 'v1',
    as: 'fleet-bench',
  };
  let done = 0;
  await inPool(
    N,
    4,
    async (i) => {
      await api(daemon, 'POST', `/v1/models/${modelIds[i]}/versions`, body);
      if (++done % 50 === 0) log(`  registered ${done}/${N}`);
    },
    runStop,
  );
  return { seconds: (performance.now() - t0) / 1000, registered: done };
}

interface Traffic {
  stop(): Promise<void>;
  /** Per POST /v1/events: when it was sent, its latency (ms), events the API accepted. */
  posts: { at: number; ms: number; accepted: number }[];
  /** Per POST /v1/labels: when it was answered and labels the API accepted. */
  labelPosts: { at: number; accepted: number }[];
  failures: number;
}

function startTraffic(daemon: Daemon, model: LogisticModel): Traffic {
  const rng = new Random(99);
  const posts: Traffic['posts'] = [];
  const labelPosts: Traffic['labelPosts'] = [];
  const pendingLabels: { due: number; label: { event_id: string; label: number; timestamp: number } }[] = [];
  const inFlight = new Set<Promise<unknown>>();
  const traffic: Traffic = { stop: async () => {}, posts, labelPosts, failures: 0 };
  let sequence = 0;
  let owed = 0;
  const pacer = new PostPacer(ARRIVAL, POST_EVERY_MS);
  const send = (url: '/v1/events' | '/v1/labels', records: unknown[]) => {
    const t0 = performance.now();
    const at = Date.now();
    const p = api(daemon, 'POST', `${url}?ack=${POST_ACK}`, records)
      .then((answer) => {
        // ack=logged counts records logged: they are stored a moment later, duplicates dropped then.
        const { accepted, logged } = answer as { accepted?: number; logged?: number };
        const taken = accepted ?? logged ?? 0;
        if (url === '/v1/events') posts.push({ at, ms: performance.now() - t0, accepted: taken });
        else labelPosts.push({ at: Date.now(), accepted: taken });
      })
      .catch(() => {
        traffic.failures += 1;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  const tick = () => {
    const now = Date.now();
    owed += (RATE * POST_EVERY_MS) / 1000;
    const perModel = Math.floor(owed);
    owed -= perModel;
    const events: unknown[] = [];
    for (const modelId of modelIds)
      for (let k = 0; k < perModel; k++) {
        const r = row(rng);
        const id = `${modelId}-${sequence++}`;
        const ts = now - Math.floor(rng.next() * POST_EVERY_MS);
        events.push({
          event_id: id,
          model_id: modelId,
          model_version: 'v1',
          timestamp: ts,
          features: r.features,
          prediction: { score: predictProbability(model, r.features) },
        });
        pendingLabels.push({ due: now + LABEL_DELAY_MS, label: { event_id: id, label: r.label, timestamp: ts } });
      }
    const eventPosts: (() => void)[] = [];
    for (let i = 0; i < events.length; i += MAX_POST)
      eventPosts.push(() => send('/v1/events', events.slice(i, i + MAX_POST)));
    let due = 0;
    while (due < pendingLabels.length && pendingLabels[due]!.due <= now) due++;
    const labels = pendingLabels.splice(0, due).map((l) => ({ ...l.label, timestamp: now }));
    const labelPosts: (() => void)[] = [];
    for (let i = 0; i < labels.length; i += MAX_POST)
      labelPosts.push(() => send('/v1/labels', labels.slice(i, i + MAX_POST)));
    pacer.send(eventPosts, labelPosts);
  };
  const timer = setInterval(tick, POST_EVERY_MS);
  traffic.stop = async () => {
    clearInterval(timer);
    pacer.cancel();
    await Promise.allSettled([...inFlight]);
  };
  return traffic;
}

// ---- sampling --------------------------------------------------------------------------------

interface ProcessSample {
  at: number;
  /** CPU seconds (user + system) so far. */
  cpu: number;
  rssMb: number;
}

const CLOCK_TICKS = 100;

function processSample(pid: number): ProcessSample | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { at: Date.now(), cpu, rssMb: rss ? Number(rss[1]) / 1024 : 0 };
  } catch {
    return null;
  }
}

/** The Temporal dev server and Kafka the daemon started: processes whose command line names its data directory. */
function servicePids(dataDir: string): { temporal: number | null; kafka: number | null } {
  const out = { temporal: null as number | null, kafka: null as number | null };
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue;
    }
    if (!cmd.includes(dataDir)) continue;
    if (/temporal/.test(cmd) && /start-dev/.test(cmd)) out.temporal = Number(entry);
    else if (/kafka/i.test(cmd) && /java/.test(cmd)) out.kafka = Number(entry);
  }
  return out;
}

/** Counters of the daemon's /metrics this benchmark reads. */
async function scrape(daemon: Daemon): Promise<Record<string, number>> {
  const text = await fetch(`${daemon.api}/metrics`)
    .then((r) => r.text())
    .catch(() => '');
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(halflife_(?:monitor_window_\w+|clickhouse_\w+|memory_bytes|temporal_\w+)(?:\{[^}]*\})?) (\S+)$/.exec(
      line,
    );
    if (m) out[m[1]!] = Number(m[2]);
    // The event loop's delay since the previous scrape (prom-client resets it at each collect).
    const lag = /^halflife_(nodejs_eventloop_lag_(?:p50|p99|max)_seconds) (\S+)$/.exec(line);
    if (lag) out[lag[1]!] = Number(lag[2]);
    // POST /v1/events as the server timed it (handler and body parsing), cumulative buckets.
    // The server's stages of events POSTs (workers/ingest/http-stages.ts): time and count a stage.
    const stage = /^halflife_http_ingest_stage_seconds_(sum|count)\{kind="events",stage="(\w+)"\} (\S+)$/.exec(line);
    if (stage) out[`stage_${stage[1]}_${stage[2]}`] = Number(stage[3]);
    const post = /^halflife_http_request_duration_seconds_bucket\{([^}]*)\} (\S+)$/.exec(line);
    if (post && /method="POST"/.test(post[1]!) && /route="\/v1\/events"/.test(post[1]!)) {
      const le = /le="([^"]+)"/.exec(post[1]!)?.[1];
      if (le) out[`post_bucket_${le}`] = (out[`post_bucket_${le}`] ?? 0) + Number(post[2]);
    }
  }
  return out;
}

/**
 * The Temporal dev server's own counters this benchmark reads: its store's commits (a workflow
 * task is several) and how long workflow tasks waited for the worker.
 */
async function scrapeTemporal(daemon: Daemon): Promise<Record<string, number>> {
  const port = Number(daemon.temporalAddress.split(':').at(-1));
  const text = await fetch(`http://127.0.0.1:${temporalMetricsPort(port)}/metrics`)
    .then((r) => r.text())
    .catch(() => '');
  const out: Record<string, number> = {};
  const add = (key: string, v: number) => (out[key] = (out[key] ?? 0) + v);
  for (const line of text.split('\n')) {
    const m = /^(persistence_latency|task_schedule_to_start_latency)_(sum|count)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const [, name, part, labels, value] = m;
    if (name === 'persistence_latency' && /operation="(UpdateWorkflowExecution|CreateTasks)"/.test(labels!))
      add(`store_${part}`, Number(value));
    if (name === 'task_schedule_to_start_latency' && /task_type="Workflow"/.test(labels!))
      add(`workflow_task_wait_${part}`, Number(value));
  }
  return out;
}

// ---- windows -------------------------------------------------------------------------------

interface WindowOutcome {
  modelId: string;
  start: number;
  /** When the window was due: its end plus the settle time. */
  due: number;
  /** When the decision covering the window was derived; null when none did. */
  decidedAt: number | null;
  /** Decided as part of a window spanning several cadences (the monitor had fallen behind). */
  coalesced: boolean;
  /** No decision covers it but a later window was decided: the monitor skipped it. */
  skipped: boolean;
}

/**
 * Every window of every model that starts at or after `from` and is due by `to` (each model's
 * windows shifted by its stagger offset, as the monitor cuts them), and what became of it.
 */
function windowOutcomes(decisions: readonly Decision[], from: number, to: number): WindowOutcome[] {
  const byModel = new Map<string, Decision[]>();
  for (const d of decisions) {
    const mine = byModel.get(d.modelId);
    if (mine) mine.push(d);
    else byModel.set(d.modelId, [d]);
  }
  const out: WindowOutcome[] = [];
  for (const modelId of modelIds) {
    const mine = byModel.get(modelId) ?? [];
    const offset = staggerOffsetMs(modelId, CADENCE_MS);
    let start = windowStartAt(from, CADENCE_MS, offset);
    if (start < from) start += CADENCE_MS;
    for (; start + CADENCE_MS + SETTLE_MS <= to; start += CADENCE_MS) {
      const end = start + CADENCE_MS;
      const covering = mine.find((d) => d.windowStart <= start && d.windowEnd >= end);
      out.push({
        modelId,
        start,
        due: end + SETTLE_MS,
        decidedAt: covering?.at ?? null,
        coalesced: covering !== undefined && covering.windowEnd - covering.windowStart > CADENCE_MS,
        skipped: covering === undefined && mine.some((d) => d.windowStart >= end),
      });
    }
  }
  return out;
}

/** Tick latency (decision derived − window due, seconds) and what became of the windows. */
function tickSummary(windows: readonly WindowOutcome[]) {
  const lags = windows.filter((w) => w.decidedAt !== null).map((w) => (w.decidedAt! - w.due) / 1000);
  return {
    windowsDue: windows.length,
    decided: lags.length,
    coalesced: windows.filter((w) => w.coalesced).length,
    skipped: windows.filter((w) => w.skipped).length,
    undecided: windows.filter((w) => w.decidedAt === null && !w.skipped).length,
    lagP50S: round(quantile(lags, 0.5)),
    lagP99S: round(quantile(lags, 0.99)),
    lagMaxS: round(lags.length ? Math.max(...lags) : null),
    within10s: lags.filter((l) => l <= 10).length,
    within60s: lags.filter((l) => l <= 60).length,
  };
}

// ---- report ----------------------------------------------------------------------------------

const quantile = (xs: readonly number[], q: number): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const round = (v: number | null, digits = 1) => (v === null ? null : Number(v.toFixed(digits)));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Ctrl-C (or SIGTERM) ends the run early: nothing more is registered or started, the load stops,
 * the report covers what was measured so far, and the daemon — with the Temporal server and Kafka
 * broker it started — is stopped as at the end.
 */
const runStop = new RunStop(log);
runStop.onSignals();
const sum = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);

interface Sample {
  at: number;
  daemon: ProcessSample | null;
  temporal: ProcessSample | null;
  metrics: Record<string, number>;
  /** The Temporal server's counters (scrapeTemporal). */
  temporalMetrics: Record<string, number>;
  /** History sizes of a sample of monitors' current runs. */
  runHistory: RunHistorySample | null;
}

/** Resources, ingest and SQL between two samples. */
function interval(a: Sample, b: Sample, traffic: Traffic) {
  const seconds = (b.at - a.at) / 1000;
  const cpu = (x: ProcessSample | null, y: ProcessSample | null) =>
    x && y ? round(((y.cpu - x.cpu) / seconds) * 100) : null;
  const delta = (name: string) => (b.metrics[name] ?? 0) - (a.metrics[name] ?? 0);
  const sqlSeconds = sum(
    Object.keys(b.metrics)
      .filter((k) => k.startsWith('halflife_monitor_window_sql_seconds_total'))
      .map(delta),
  );
  const reads = delta('halflife_monitor_window_reads_total');
  const batches = delta('halflife_monitor_window_batches_total');
  const ingestQueries = delta('halflife_clickhouse_queries_total{priority="ingest"}');
  const ingestWait = delta('halflife_clickhouse_query_wait_seconds_total{priority="ingest"}');
  const posts = traffic.posts.filter((p) => p.at >= a.at && p.at < b.at);
  const ms = posts.map((p) => p.ms);
  // How busy the embedded engine's one-query lane was, and with whose queries (% of wall time).
  const laneBusy = Object.fromEntries(
    QUERY_PRIORITIES.map((p) => [
      p,
      round((delta(`halflife_clickhouse_query_seconds_total{priority="${p}"}`) / seconds) * 100),
    ]),
  ) as Record<(typeof QUERY_PRIORITIES)[number], number | null>;
  const temporalDelta = (name: string) => (b.temporalMetrics[name] ?? 0) - (a.temporalMetrics[name] ?? 0);
  const commits = temporalDelta('store_count');
  const workflowTasks = temporalDelta('workflow_task_wait_count');
  return {
    postP50Ms: round(quantile(ms, 0.5), 0),
    postP99Ms: round(quantile(ms, 0.99), 0),
    postMaxMs: round(ms.length ? Math.max(...ms) : null, 0),
    // The server's own time for the POSTs (from its histogram: the upper bound of the bucket the
    // quantile falls in) and the event loop's delay: client time − server time is time the
    // request waited to be read, mostly behind a busy event loop.
    serverPostP50Ms: bucketQuantile(a.metrics, b.metrics, 0.5),
    serverPostP99Ms: bucketQuantile(a.metrics, b.metrics, 0.99),
    // Mean ms of each server stage of an events POST: where its time goes during the ticks.
    postStageMeanMs: Object.fromEntries(
      HTTP_INGEST_STAGES.map((st) => {
        const n = delta(`stage_count_${st}`);
        return [st, n > 0 ? round((delta(`stage_sum_${st}`) * 1000) / n) : null];
      }).filter(([, ms]) => ms !== null),
    ) as Partial<Record<HttpIngestStage, number>>,
    eventLoopLagP99Ms: lagMs(b.metrics.nodejs_eventloop_lag_p99_seconds),
    eventLoopLagMaxMs: lagMs(b.metrics.nodejs_eventloop_lag_max_seconds),
    eventsPerSecond: Math.round(sum(posts.map((p) => p.accepted)) / seconds),
    daemonCpuPct: cpu(a.daemon, b.daemon),
    daemonRssMb: b.daemon ? Math.round(b.daemon.rssMb) : null,
    temporalCpuPct: cpu(a.temporal, b.temporal),
    windowReads: reads,
    sqlMsPerWindow: reads > 0 ? round((sqlSeconds * 1000) / reads) : null,
    // The same, per query of a batch (embedded: each includes its wait for the query lane).
    sqlMsPerWindowByQuery: Object.fromEntries(
      Object.keys(b.metrics)
        .map((k) => [k, /^halflife_monitor_window_sql_seconds_total\{query="([^"]+)"\}$/.exec(k)?.[1]] as const)
        .filter((e): e is readonly [string, string] => e[1] !== undefined)
        .map(([k, query]) => [query, reads > 0 ? round((delta(k) * 1000) / reads) : null]),
    ),
    // Rows the engine read per window read, per query: a query bounded by its window stays flat.
    rowsReadPerWindowByQuery: Object.fromEntries(
      Object.keys(b.metrics)
        .map((k) => [k, /^halflife_monitor_window_rows_read_total\{query="([^"]+)"\}$/.exec(k)?.[1]] as const)
        .filter((e): e is readonly [string, string] => e[1] !== undefined)
        .map(([k, query]) => [query, reads > 0 ? Math.round(delta(k) / reads) : null]),
    ),
    windowsPerBatch: batches > 0 ? round(reads / batches) : null,
    windowReadsWaiting: b.metrics.halflife_monitor_window_reads_waiting ?? null,
    ingestQueryWaitAvgMs: ingestQueries > 0 ? round((ingestWait * 1000) / ingestQueries) : null,
    laneBusyPct: laneBusy,
    // Temporal's store: workflow-execution updates and task writes a second, their mean latency,
    // and the share of wall time the store spent in them (SQLite writes one at a time).
    temporalStore: {
      commitsPerSecond: round(commits / seconds),
      commitMs: commits > 0 ? round((temporalDelta('store_sum') * 1000) / commits) : null,
      busyPct: round((temporalDelta('store_sum') / seconds) * 100),
      workflowTaskWaitMs:
        workflowTasks > 0 ? round((temporalDelta('workflow_task_wait_sum') * 1000) / workflowTasks) : null,
    },
    labelsStored: sum(traffic.labelPosts.filter((p) => p.at < b.at).map((p) => p.accepted)),
    memory: memoryBreakdown(b.metrics),
    engine: engineWork(a.metrics, b.metrics, reads),
  };
}

/**
 * What the engine did in the interval: its tables' active parts at its end, the merges it ran
 * and how much they rewrote, and the marks and rows its queries selected per window read — so a
 * minute where every query got slower can be matched to a merge, a parts count or a cache.
 */
function engineWork(a: Record<string, number>, b: Record<string, number>, windowReads: number) {
  const work = (event: string) => {
    const key = `halflife_clickhouse_work_total{event="${event}"}`;
    return b[key] === undefined ? null : b[key] - (a[key] ?? 0);
  };
  const parts = (table: string) => b[`halflife_clickhouse_parts{table="${table}"}`] ?? null;
  const perWindow = (x: number | null) => (x === null || windowReads <= 0 ? null : Math.round(x / windowReads));
  const hits = work('MarkCacheHits');
  const misses = work('MarkCacheMisses');
  return {
    eventsParts: parts('scoring_events'),
    labelsParts: parts('labels'),
    mergesRunning: b.halflife_clickhouse_merges_running ?? null,
    merges: work('Merge'),
    mergedRows: work('MergedRows'),
    mergeMs: work('MergeTotalMilliseconds'),
    mergeProjectionMs: work('MergeProjectionStageTotalMilliseconds'),
    selectedMarksPerWindow: perWindow(work('SelectedMarks')),
    selectedRowsPerWindow: perWindow(work('SelectedRows')),
    markCacheHitPct:
      hits !== null && misses !== null && hits + misses > 0 ? round((hits / (hits + misses)) * 100) : null,
  };
}

function renderEngine(e: ReturnType<typeof engineWork>): string {
  return (
    `parts: events ${e.eventsParts ?? '-'}, labels ${e.labelsParts ?? '-'}; ` +
    `${e.merges ?? '-'} merges (${e.mergedRows ?? '-'} rows, ${e.mergeMs ?? '-'} ms of which projections ${e.mergeProjectionMs ?? '-'} ms), ${e.mergesRunning ?? '-'} running; ` +
    `selected per window read: ${e.selectedMarksPerWindow ?? '-'} marks, ${e.selectedRowsPerWindow ?? '-'} rows; ` +
    `mark cache hits ${e.markCacheHitPct ?? '-'}%`
  );
}

const lagMs = (seconds: number | undefined) => (seconds === undefined ? null : round(seconds * 1000, 0));

/** The `q` quantile of POST /v1/events' server-side durations between two samples: a bucket's upper bound (ms). */
function bucketQuantile(a: Record<string, number>, b: Record<string, number>, q: number): number | null {
  const buckets = Object.keys(b)
    .filter((k) => k.startsWith('post_bucket_'))
    .map((k) => {
      const le = k.slice('post_bucket_'.length);
      return { le: le === '+Inf' ? Infinity : Number(le), n: (b[k] ?? 0) - (a[k] ?? 0) };
    })
    .sort((x, y) => x.le - y.le);
  const total = buckets.at(-1)?.n ?? 0;
  if (total <= 0) return null;
  const hit = buckets.find((x) => x.n >= q * total);
  return hit ? (Number.isFinite(hit.le) ? hit.le * 1000 : Infinity) : null;
}

/**
 * Where the daemon's memory was at a sample (MB), from its /metrics gauges; null where not
 * reported. `restMb` is anonymous RSS less the parts measured apart — both V8 heaps (reserved),
 * glibc malloc's heaps and the engine allocator's active pages and metadata — i.e. thread stacks,
 * large native buffers mapped outside malloc's heaps, the engine's freed pages not yet returned,
 * and code the engine compiled.
 */
function memoryBreakdown(metrics: Record<string, number>) {
  const mb = (name: string) => (metrics[name] === undefined ? null : Math.round(metrics[name] / 2 ** 20));
  const processPart = (part: string) => mb(`halflife_memory_bytes{part="${part}"}`);
  const enginePart = (part: string) => mb(`halflife_clickhouse_memory_bytes{part="${part}"}`);
  const parts = {
    rssMb: processPart('rss'),
    rssAnonymousMb: processPart('rss_anonymous'),
    rssFileMb: processPart('rss_file'),
    heapUsedMb: processPart('heap_used'),
    heapTotalMb: processPart('heap_total'),
    externalMb: processPart('external'),
    workflowHeapUsedMb: processPart('workflow_heap_used'),
    workflowHeapTotalMb: processPart('workflow_heap_total'),
    mallocHeapsMb: processPart('malloc_heaps'),
    engineTrackedMb: enginePart('tracked'),
    engineMarkCacheMb: enginePart('mark_cache'),
    engineQueryConditionCacheMb: enginePart('query_condition_cache'),
    enginePrimaryKeyMb: enginePart('primary_key'),
    engineIndexGranularityMb: enginePart('index_granularity'),
    engineMergesMb: enginePart('merges'),
    engineAllocatorAllocatedMb: enginePart('allocator_allocated'),
    engineAllocatorActiveMb: enginePart('allocator_active'),
    engineAllocatorMetadataMb: enginePart('allocator_metadata'),
    engineAllocatorResidentMb: enginePart('allocator_resident'),
    engineAllocatorRetainedMb: enginePart('allocator_retained'),
    cachedWorkflows: metrics.halflife_temporal_cached_workflows ?? null,
    enginePoolThreads: metrics['halflife_clickhouse_pool_threads{state="total"}'] ?? null,
  };
  const measured = [
    parts.heapTotalMb,
    parts.workflowHeapTotalMb,
    parts.mallocHeapsMb,
    parts.engineAllocatorActiveMb,
    parts.engineAllocatorMetadataMb,
  ];
  const restMb =
    parts.rssAnonymousMb === null || measured.some((p) => p === null)
      ? null
      : parts.rssAnonymousMb - measured.reduce<number>((sum, p) => sum + (p ?? 0), 0);
  return { ...parts, restMb };
}

async function main(): Promise<void> {
  const dataDir = args['data-dir'] ?? mkdtempSync(path.join(os.tmpdir(), 'halflife-fleet-'));
  const load = os.loadavg();
  log(`fleet: ${N} models, ${MINUTES} min at ${args.cadence}, ${RATE} events/s each; data in ${dataDir}`);
  if (IDS.kind === 'random') log(`  model ids: random UUID v4s, --seed ${IDS.seed} (the same ids again with it)`);
  const { model, onnx, referenceCsv } = trainModel();
  log('starting the daemon…');
  let daemon: Daemon;
  try {
    daemon = await startDaemonRetrying(dataDir);
  } catch (err) {
    if (!(err instanceof StoppedEarly)) throw err;
    log('stopped before the daemon was ready: nothing measured');
    if (!args.keep && !args['data-dir']) rmSync(dataDir, { recursive: true, force: true });
    return;
  }
  const pids = servicePids(dataDir);
  let traffic: Traffic | undefined;
  // The load generator stops at the first request, not when the run gets round to it.
  runStop.onStop(() => traffic?.stop());
  const partial = (startup: Record<string, number | null>) => {
    const report = {
      benchmark: 'fleet',
      command: `npm run bench -- fleet ${process.argv.slice(2).join(' ')}`.trim(),
      stoppedEarly: runStop.reason,
      machine: { ...machine(), loadAtStart: load.map((l) => Number(l.toFixed(2))) },
      settings: {
        models: N,
        minutes: MINUTES,
        cadence: args.cadence,
        ids: IDS.kind,
        ...(IDS.kind === 'random' ? { seed: IDS.seed } : {}),
      },
      startup,
    };
    const json = JSON.stringify(report, null, 2);
    if (args.out) writeFileSync(args.out, `${json}\n`);
    log(`stopped during start-up: ${JSON.stringify(startup)}`);
    if (args.json) process.stdout.write(`${json}\n`);
  };
  try {
    log('registering the models…');
    const { seconds: registerSeconds, registered } = await registerFleet(daemon, onnx, referenceCsv);
    if (runStop.stopping) return partial({ registerSeconds: round(registerSeconds), registered });
    log(`  ${N} registered in ${registerSeconds.toFixed(1)} s`);

    const monitors = new MonitorClient(
      loadConfig({ env: {}, overrides: { dataDir, temporal: { address: daemon.temporalAddress }, logLevel: 'warn' } }),
    );
    const inputs: ModelMonitorInput[] = modelIds.map((modelId) => {
      const policy = parsePolicy({
        name: 'fleet',
        version: '1',
        model: modelId,
        // A retrain would add training to the load being measured: its cost is out of reach.
        trigger: {
          kind: 'cost-aware',
          valuePerQualityUnit: 1,
          retrainCost: 1e9,
          deploymentRisk: { probability: 0, cost: 0 },
        },
        guards: { approval: { required: false } },
      });
      return {
        modelId,
        policy: policy.policy,
        policyRef: policy.ref,
        cadence: args.cadence,
        settle: args.settle,
        ...(MAX_RUN_HISTORY === undefined ? {} : { maxRunHistoryBytes: MAX_RUN_HISTORY }),
      };
    });
    const trafficStartedAt = Date.now();
    traffic = startTraffic(daemon, model);
    if (runStop.stopping) await traffic.stop();
    log('starting the monitors…');
    const t0 = performance.now();
    let started = 0;
    try {
      await inPool(
        N,
        START_CONCURRENCY,
        async (i) => {
          // A loaded Temporal server can time a start out; starting again joins the one that began.
          for (let attempt = 1; ; attempt++) {
            try {
              await monitors.start(inputs[i]!);
              break;
            } catch (err) {
              // Asked to stop: the monitor not started is reported as such, not as a failure.
              if (runStop.stopping) return;
              if (attempt >= START_ATTEMPTS) throw err;
            }
          }
          if (++started % 100 === 0) log(`  started ${started}/${N}`);
        },
        runStop,
      );
    } finally {
      await monitors.close();
    }
    const startSeconds = (performance.now() - t0) / 1000;
    if (runStop.stopping)
      return partial({
        registerSeconds: round(registerSeconds),
        monitorStartSeconds: round(startSeconds),
        monitorsStarted: started,
      });
    const monitorsStartedAt = Date.now();
    log(`  ${N} monitors started in ${startSeconds.toFixed(1)} s`);

    const samples: Sample[] = [];
    const histories = await runHistorySampler(daemon, modelIds);
    const sample = async () =>
      samples.push({
        at: Date.now(),
        daemon: processSample(daemon.child.pid!),
        temporal: pids.temporal ? processSample(pids.temporal) : null,
        metrics: await scrape(daemon),
        temporalMetrics: await scrapeTemporal(daemon),
        runHistory: await histories.sample(),
      });
    await sample();
    const end = monitorsStartedAt + MINUTES * 60_000;
    for (let minute = 1; Date.now() < end; minute++) {
      await Promise.race([sleep(Math.max(0, monitorsStartedAt + minute * 60_000 - Date.now())), runStop.requested]);
      // A run stopped within a minute still reports that part-minute.
      if (runStop.stopping && samples.length > 1) break;
      await sample();
      const [a, b] = [samples.at(-2)!, samples.at(-1)!];
      const r = interval(a, b, traffic);
      const decided = daemon.decisions.filter((d) => d.at >= a.at && d.at < b.at).length;
      log(
        `  min ${String(minute).padStart(3)}: ${decided} decisions, POST p50 ${r.postP50Ms ?? '-'} ms p99 ${r.postP99Ms ?? '-'} ms, ` +
          `${r.eventsPerSecond} ev/s, CPU ${r.daemonCpuPct ?? '-'}% RSS ${r.daemonRssMb ?? '-'} MB, ` +
          `SQL ${r.sqlMsPerWindow ?? '-'} ms/window (${r.windowsPerBatch ?? '-'} per batch), ${r.windowReadsWaiting ?? '-'} reads waiting, ` +
          `lane busy ${QUERY_PRIORITIES.map((p) => `${p} ${r.laneBusyPct[p] ?? '-'}%`).join(' ')}`,
      );
      log(
        `          SQL ms/window by query: ${Object.entries(r.sqlMsPerWindowByQuery)
          .map(([q, ms]) => `${q} ${ms ?? '-'}`)
          .join(', ')}`,
      );
      log(
        `          Temporal store: ${r.temporalStore.commitsPerSecond ?? '-'} writes/s of ${r.temporalStore.commitMs ?? '-'} ms ` +
          `(busy ${r.temporalStore.busyPct ?? '-'}%), workflow tasks waited ${r.temporalStore.workflowTaskWaitMs ?? '-'} ms on average`,
      );
      log(
        `          POST /v1/events in the server: p50 ≤ ${r.serverPostP50Ms ?? '-'} ms, p99 ≤ ${r.serverPostP99Ms ?? '-'} ms; ` +
          `event loop delay p99 ${r.eventLoopLagP99Ms ?? '-'} ms, max ${r.eventLoopLagMaxMs ?? '-'} ms; ` +
          `stage means ms: ${Object.entries(r.postStageMeanMs)
            .map(([st, ms]) => `${st} ${ms}`)
            .join(', ')}`,
      );
      log(`          memory: ${renderMemory(r.memory)}`);
      log(`          current runs' history: ${renderRunHistory(b.runHistory)}`);
      log(`          engine: ${renderEngine(r.engine)}`);
      log(
        `          rows read per window by query: ${Object.entries(r.rowsReadPerWindowByQuery)
          .map(([q, n]) => `${q} ${n ?? '-'}`)
          .join(', ')}`,
      );
    }
    await histories.close();
    await traffic.stop();
    const trafficEndedAt = Date.now();
    // The windows due by now are counted; wait (up to a minute) for their decisions to come in.
    const graceEnd = runStop.stopping ? Date.now() : Date.now() + 60_000;
    while (
      Date.now() < graceEnd &&
      windowOutcomes(daemon.decisions, monitorsStartedAt, trafficEndedAt).some((w) => w.decidedAt === null)
    )
      await sleep(1000);
    const windows = windowOutcomes(daemon.decisions, monitorsStartedAt, trafficEndedAt);

    const minutes = samples.slice(1).map((b, i) => {
      const a = samples[i]!;
      return {
        minute: i + 1,
        ...tickSummary(windows.filter((w) => w.due >= a.at && w.due < b.at)),
        ...interval(a, b, traffic!),
        runHistory: b.runHistory,
      };
    });
    const whole = interval(samples[0]!, samples.at(-1)!, traffic);
    const eventMs = traffic.posts.map((p) => p.ms);
    const decidedModels = new Set(daemon.decisions.map((d) => d.modelId));
    const report = {
      benchmark: 'fleet',
      command: `npm run bench -- fleet ${process.argv.slice(2).join(' ')}`.trim(),
      machine: {
        ...(machine() as { nproc: string; date: string; memory: string; cpu: string; node: string }),
        loadAtStart: load.map((l) => Number(l.toFixed(2))),
        loadAtEnd: os.loadavg().map((l) => Number(l.toFixed(2))),
      },
      settings: {
        models: N,
        minutes: MINUTES,
        cadence: args.cadence,
        settle: args.settle,
        eventsPerSecondPerModel: RATE,
        labelDelay: args['label-delay'],
        postEvery: args['post-every'],
        arrival: ARRIVAL,
        postAck: POST_ACK,
        maxPost: MAX_POST,
        maxRunHistoryBytes: MAX_RUN_HISTORY ?? 'monitor default',
        /** glibc's arena limit, when the run set one (an environment knob of the daemon's memory). */
        mallocArenaMax: process.env.MALLOC_ARENA_MAX ?? null,
        /** glibc's tunables workers/daemon.sh started the daemon with: 'default' (its own), '' (off), or those set. */
        mallocTunables: process.env.GLIBC_TUNABLES ?? process.env.HALFLIFE_MALLOC_TUNABLES ?? 'default',
        ids: IDS.kind,
        ...(IDS.kind === 'random' ? { seed: IDS.seed } : {}),
      },
      startup: { registerSeconds: round(registerSeconds), monitorStartSeconds: round(startSeconds) },
      ticks: tickSummary(windows),
      /** Models of the run (by the ids it minted) with at least one decision on a window: a monitor that never decides shows here. */
      modelsDecided: modelIds.filter((id) => decidedModels.has(id)).length,
      /** Every decision on a window during the run, by kind (a retrain would add training to the load). */
      decisionKinds: Object.fromEntries(
        [...new Set(daemon.decisions.map((d) => d.kind))].map((k) => [
          k,
          daemon.decisions.filter((d) => d.kind === k).length,
        ]),
      ),
      ingest: {
        postP50Ms: round(quantile(eventMs, 0.5), 0),
        postP99Ms: round(quantile(eventMs, 0.99), 0),
        postMaxMs: round(eventMs.length ? Math.max(...eventMs) : null, 0),
        eventsPerSecondTarget: N * RATE,
        eventsPerSecondAccepted: Math.round(
          sum(traffic.posts.map((p) => p.accepted)) / ((trafficEndedAt - trafficStartedAt) / 1000),
        ),
        labelsStored: sum(traffic.labelPosts.map((p) => p.accepted)),
        failedPosts: traffic.failures,
        ingestQueryWaitMaxMs: round(
          (samples.at(-1)!.metrics['halflife_clickhouse_query_wait_seconds_max{priority="ingest"}'] ?? 0) * 1000,
          0,
        ),
      },
      resources: {
        daemonCpuAvgPct: whole.daemonCpuPct,
        daemonRssMaxMb: Math.round(Math.max(...samples.map((s) => s.daemon?.rssMb ?? 0))),
        temporalCpuAvgPct: whole.temporalCpuPct,
        sqlMsPerWindow: whole.sqlMsPerWindow,
        windowsPerBatch: whole.windowsPerBatch,
        /** Where the daemon's memory was at the last sample. */
        memoryAtEnd: whole.memory,
        /** And at the sample with the largest RSS. */
        memoryAtMaxRss: memoryBreakdown(
          samples.reduce((a, b) => ((b.daemon?.rssMb ?? 0) > (a.daemon?.rssMb ?? 0) ? b : a)).metrics,
        ),
      },
      minutes,
    };
    const json = JSON.stringify(report, null, 2);
    if (args.out) writeFileSync(args.out, `${json}\n`);
    log(renderSummary(report));
    if (args.json) process.stdout.write(`${json}\n`);
  } finally {
    await traffic?.stop();
    log('stopping the daemon…');
    await stopDaemon(daemon);
    if (!args.keep && !args['data-dir']) rmSync(dataDir, { recursive: true, force: true });
  }
}

function renderSummary(report: {
  settings: { models: number; cadence: string; minutes: number; eventsPerSecondPerModel: number };
  machine: { nproc: string; date: string; loadAtStart: number[] };
  startup: { registerSeconds: number | null; monitorStartSeconds: number | null };
  ticks: ReturnType<typeof tickSummary>;
  modelsDecided: number;
  ingest: {
    postP50Ms: number | null;
    postP99Ms: number | null;
    postMaxMs: number | null;
    eventsPerSecondAccepted: number;
    eventsPerSecondTarget: number;
    failedPosts: number;
  };
  resources: {
    daemonCpuAvgPct: number | null;
    daemonRssMaxMb: number;
    temporalCpuAvgPct: number | null;
    memoryAtMaxRss: ReturnType<typeof memoryBreakdown>;
  };
}): string {
  const { settings: s, machine: m, startup, ticks: t, ingest: i, resources: r } = report;
  return [
    `fleet: ${s.models} models at ${s.cadence}, ${s.minutes} min, ${s.eventsPerSecondPerModel} ev/s each (${m.nproc} cores, load ${m.loadAtStart.join(' ')}, ${m.date})`,
    `  start-up: registered in ${startup.registerSeconds} s, monitors started in ${startup.monitorStartSeconds} s`,
    `  windows due: ${t.windowsDue}; decided ${t.decided} (${t.coalesced} as part of a coalesced window), skipped ${t.skipped}, undecided ${t.undecided}; models with a decision: ${report.modelsDecided}/${s.models}`,
    `  tick latency: p50 ${t.lagP50S} s, p99 ${t.lagP99S} s, max ${t.lagMaxS} s; within 10 s: ${t.within10s}, within 60 s: ${t.within60s}`,
    `  POST /v1/events: p50 ${i.postP50Ms} ms, p99 ${i.postP99Ms} ms, max ${i.postMaxMs} ms; ${i.eventsPerSecondAccepted}/${i.eventsPerSecondTarget} ev/s accepted; ${i.failedPosts} failed`,
    `  daemon: CPU ${r.daemonCpuAvgPct}% of a core, RSS max ${r.daemonRssMaxMb} MB; Temporal server CPU ${r.temporalCpuAvgPct}%`,
    `  memory at max RSS: ${renderMemory(r.memoryAtMaxRss)}`,
  ].join('\n');
}

interface RunHistorySample {
  /** Monitors whose current run was described. */
  sampled: number;
  meanBytes: number;
  maxBytes: number;
  /** The mean times the fleet's size: what all current runs' histories add up to. */
  fleetEstimateMb: number;
}

/**
 * Reads the history size of a fixed, evenly spread sample of the monitors' current runs. The
 * worker keeps every payload of a cached run until the run ends (BENCHMARKS.md, "What a monitor's
 * run keeps"), so the fleet's sum is a floor of what the daemon's native heap holds for them.
 */
async function runHistorySampler(daemon: Daemon, modelIds: readonly string[]) {
  const { connection, client } = await connectTemporal(
    loadConfig({
      env: {},
      overrides: { dataDir: daemon.dataDir, temporal: { address: daemon.temporalAddress }, logLevel: 'warn' },
    }),
  );
  const step = Math.max(1, Math.floor(modelIds.length / HISTORY_SAMPLE));
  const sampled = modelIds.filter((_, i) => i % step === 0).slice(0, HISTORY_SAMPLE);
  return {
    async sample(): Promise<RunHistorySample | null> {
      const sizes: number[] = [];
      for (const modelId of sampled) {
        try {
          const description = await client.workflow.getHandle(monitorWorkflowId(modelId)).describe();
          sizes.push(Number(description.raw.workflowExecutionInfo?.historySizeBytes ?? 0));
        } catch {
          // A monitor between runs, or a loaded server: the sample is the others.
        }
      }
      if (sizes.length === 0) return null;
      const meanBytes = sum(sizes) / sizes.length;
      return {
        sampled: sizes.length,
        meanBytes: Math.round(meanBytes),
        maxBytes: Math.max(...sizes),
        fleetEstimateMb: round((meanBytes * modelIds.length) / 2 ** 20)!,
      };
    },
    close: () => connection.close(),
  };
}

function renderRunHistory(h: RunHistorySample | null): string {
  if (!h) return '-';
  return (
    `mean ${(h.meanBytes / 1024).toFixed(1)} kB, max ${(h.maxBytes / 1024).toFixed(1)} kB over ${h.sampled} monitors; ` +
    `the fleet's ~${h.fleetEstimateMb} MB`
  );
}

function renderMemory(m: ReturnType<typeof memoryBreakdown>): string {
  const v = (x: number | null) => x ?? '-';
  return (
    `RSS ${v(m.rssMb)} MB = anonymous ${v(m.rssAnonymousMb)} + file ${v(m.rssFileMb)}; anonymous = ` +
    `V8 main ${v(m.heapUsedMb)}/${v(m.heapTotalMb)} + V8 workflow thread ${v(m.workflowHeapUsedMb)}/${v(m.workflowHeapTotalMb)} + ` +
    `malloc heaps ${v(m.mallocHeapsMb)} + engine allocator active ${v(m.engineAllocatorActiveMb)} (allocated ` +
    `${v(m.engineAllocatorAllocatedMb)}) + metadata ${v(m.engineAllocatorMetadataMb)} + rest ${v(m.restMb)} MB; ` +
    `external ${v(m.externalMb)} MB; engine tracked ${v(m.engineTrackedMb)} MB (mark cache ${v(m.engineMarkCacheMb)}, ` +
    `condition cache ${v(m.engineQueryConditionCacheMb)}, primary key ${v(m.enginePrimaryKeyMb)}, granularity ` +
    `${v(m.engineIndexGranularityMb)}, merges ${v(m.engineMergesMb)}), allocator resident ≤ ${v(m.engineAllocatorResidentMb)} MB, ` +
    `retained ${v(m.engineAllocatorRetainedMb)} MB, ${v(m.enginePoolThreads)} pool threads; ${v(m.cachedWorkflows)} workflows cached`
  );
}

await main();
