import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './errors.ts';

/**
 * halflife's configuration. Precedence: defaults < config file (`halflife.yaml`, or
 * HALFLIFE_CONFIG) < environment variables.
 *
 * Every setting is declared once, in {@link SETTINGS}: its place in the file, its environment
 * variable, its type, its default and its meaning. The zod schema, the environment mapping,
 * `halflife config --docs` and README's configuration table (`npm run docs:config`) are all
 * derived from that declaration.
 */

interface SettingBase<S extends z.ZodType> {
  /** Environment variable that sets it. */
  env: string;
  /** Type and validation (a zod schema without default). */
  schema: S;
  /** What it does, in a sentence; the documented default is appended to it. */
  doc: string;
}

/** A setting with a default value. */
interface DefaultedSetting<S extends z.ZodType = z.ZodType> extends SettingBase<S> {
  /** Value when neither the file nor the environment sets it. */
  default: z.output<S>;
  unset?: never;
}

/** An optional setting: unset has a meaning of its own. */
interface OptionalSetting<S extends z.ZodType = z.ZodType> extends SettingBase<S> {
  default?: never;
  /** What happens when it is not set. */
  unset: string;
}

/** One setting: environment variable, type, meaning, and its default or what unset means. */
type Setting = DefaultedSetting | OptionalSetting;

/** A section of the config file: settings or nested sections by key. */
interface SettingsSection {
  [key: string]: Setting | SettingsSection;
}

/** Keeps each setting's own schema type and kind, so {@link HalflifeConfig} is inferred exactly. */
function setting<S extends z.ZodType>(declaration: DefaultedSetting<S>): DefaultedSetting<S>;
function setting<S extends z.ZodType>(declaration: OptionalSetting<S>): OptionalSetting<S>;
function setting(declaration: Setting): Setting {
  return declaration;
}

/** What `workers/daemon.sh` sets by default (a unit test holds the two equal). */
export const MALLOC_TUNABLES =
  'glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=131072:glibc.malloc.trim_threshold=131072';

const port = z.coerce.number().int().min(1, 'a port is 1–65535').max(65535, 'a port is 1–65535');
const positiveInt = z.coerce.number().int().positive();

export const SETTINGS = {
  dataDir: setting({
    env: 'HALFLIFE_DATA_DIR',
    schema: z.string().min(1),
    default: '.halflife/data',
    doc: 'Local state: embedded ClickHouse, service data and logs, artifacts.',
  }),
  clickhouse: {
    url: setting({
      env: 'CLICKHOUSE_URL',
      schema: z.url(),
      unset: 'embedded chDB in `<dataDir>/chdb`',
      doc: 'Remote ClickHouse server URL.',
    }),
    database: setting({
      env: 'CLICKHOUSE_DATABASE',
      schema: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'letters, digits and _ only'),
      default: 'halflife',
      doc: 'Database holding halflife tables.',
    }),
    username: setting({
      env: 'CLICKHOUSE_USER',
      schema: z.string(),
      default: 'default',
      doc: 'Remote server user.',
    }),
    password: setting({
      env: 'CLICKHOUSE_PASSWORD',
      schema: z.string(),
      default: '',
      doc: 'Remote server password.',
    }),
    path: setting({
      env: 'HALFLIFE_CHDB_PATH',
      schema: z.string(),
      default: 'chdb',
      doc: 'Embedded engine data directory, relative to `dataDir`.',
    }),
  },
  kafka: {
    brokers: setting({
      env: 'KAFKA_BROKERS',
      schema: z.string(),
      unset: 'the local broker (`halflife services up`)',
      doc: 'Comma-separated Kafka brokers.',
    }),
    clientId: setting({
      env: 'HALFLIFE_KAFKA_CLIENT_ID',
      schema: z.string(),
      default: 'halflife',
      doc: 'Kafka client id.',
    }),
    scoringEventsTopic: setting({
      env: 'HALFLIFE_TOPIC_SCORING_EVENTS',
      schema: z.string(),
      default: 'halflife.scoring-events',
      doc: 'Scoring events topic.',
    }),
    labelsTopic: setting({
      env: 'HALFLIFE_TOPIC_LABELS',
      schema: z.string(),
      default: 'halflife.labels',
      doc: 'Labels topic.',
    }),
    modelUpdatesTopic: setting({
      env: 'HALFLIFE_TOPIC_MODEL_UPDATES',
      schema: z.string(),
      default: 'halflife.model-updates',
      doc: 'Model-update control topic, on which promotions are published.',
    }),
    servingReportsTopic: setting({
      env: 'HALFLIFE_TOPIC_SERVING_REPORTS',
      schema: z.string(),
      default: 'halflife.serving-reports',
      doc: 'Serving reports: what each scorer serves, on start, on every applied or refused model update and every heartbeat (docs/contracts.md).',
    }),
    scoringRequestsTopic: setting({
      env: 'HALFLIFE_TOPIC_SCORING_REQUESTS',
      schema: z.string(),
      default: 'halflife.scoring-requests',
      doc: 'Scoring requests for the reference scorer.',
    }),
    partitions: setting({
      env: 'HALFLIFE_KAFKA_PARTITIONS',
      schema: positiveInt,
      default: 4,
      doc: 'Partitions of topics halflife creates.',
    }),
    maxMessageBytes: setting({
      env: 'HALFLIFE_KAFKA_MAX_MESSAGE_BYTES',
      schema: positiveInt,
      // The broker's own default (1 MiB + its 12-byte log overhead): kafkajs checks no size.
      default: 1_048_588,
      doc: "Largest record batch the broker takes (its `message.max.bytes`, a topic's `max.message.bytes`); the local broker is started with it. A record POSTed with `ack=logged` whose message would be larger is rejected and dead-lettered, the rest of the request logged. Raise it together with the broker's.",
    }),
  },
  temporal: {
    address: setting({
      env: 'TEMPORAL_ADDRESS',
      schema: z.string(),
      unset: 'the local dev server',
      doc: 'Temporal frontend host:port.',
    }),
    namespace: setting({
      env: 'TEMPORAL_NAMESPACE',
      schema: z.string(),
      default: 'default',
      doc: 'Temporal namespace.',
    }),
    taskQueue: setting({
      env: 'HALFLIFE_TASK_QUEUE',
      schema: z.string(),
      default: 'halflife',
      doc: "Task queue of halflife's workflows and activities.",
    }),
    compressPayloads: setting({
      env: 'HALFLIFE_COMPRESS_PAYLOADS',
      schema: z.union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')]),
      default: false,
      doc: "Compress workflow payloads of 1 kB or more (zlib, encoding `binary/zlib`, as Go's `converter.NewZlibCodec` writes them): a monitor's tick then writes ~2.4× fewer history bytes (8.2 against 19.6 kB), so its runs continue as new less often and the server stores less. Off by default: at 1,000 monitors it did not shorten ticks or shrink the daemon, and its one run there fell further behind than the run without it (BENCHMARKS.md, runs O and O-off). With it on, the Temporal UI and `temporal workflow show` show those payloads as bytes; `halflife replay` reads them. Compressed payloads are read whether it is on or off.",
    }),
    maxConcurrentActivities: setting({
      env: 'HALFLIFE_MAX_CONCURRENT_ACTIVITIES',
      schema: positiveInt,
      unset: '32 per CPU core, at least 128',
      doc: "Activities the worker runs at once, and as many local activities (the monitors' window reads, which wait in batches, so more only queue in memory).",
    }),
    maxCachedWorkflows: setting({
      env: 'HALFLIFE_MAX_CACHED_WORKFLOWS',
      schema: z.coerce.number().int().min(2, 'at least 2 (the SDK needs two workflows in its cache)'),
      default: 1000,
      doc: "Workflows the worker keeps in memory between their tasks (a monitor: ~0.3–0.4 MB of the workflow thread's heap at fleet shape, flat over its run, and its run's history in the SDK core until the run continues as new). A monitor outside the cache replays its run's history at its next tick, about 1 ms of CPU per history event (~18 a tick): keep it at or above the number of monitors at short cadences (ARCHITECTURE.md, \"Memory\").",
    }),
    workflowStackTraces: setting({
      env: 'HALFLIFE_WORKFLOW_STACK_TRACES',
      schema: z.union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')]),
      default: true,
      doc: 'Keep the Temporal SDK\'s workflow stack traces (the `__stack_trace` query: `temporal workflow stack`, the Web UI\'s Stack Trace tab). The SDK captures and formats a stack trace for every promise a workflow creates to answer it: replaying a monitor\'s history costs ~28% less CPU without (BENCHMARKS.md "The SDK\'s workflow stack traces"), an estimated ~6% of a core at 1,000 monitors on a 1-minute cadence. `false`: the query answers "Workflow stack traces are not enabled on this worker"; decisions, replay and `explain` are unchanged. Environment only: the SDK installs its hook in the workflow thread as it starts, before any halflife code runs there, so `workers/daemon.sh` (`npm start`, the fleet benchmark) preloads `platform/temporal-stack-traces-off.cjs` (`node --require`) when this is false; another entry needs that preload on its own command line (the worker logs whether stack traces are on).',
    }),
  },
  services: {
    temporalPort: setting({
      env: 'HALFLIFE_TEMPORAL_PORT',
      schema: port,
      default: 7233,
      doc: 'Local Temporal dev server port.',
    }),
    temporalUiPort: setting({
      env: 'HALFLIFE_TEMPORAL_UI_PORT',
      schema: port,
      default: 8233,
      doc: 'Local Temporal Web UI port.',
    }),
    temporalSqliteSync: setting({
      env: 'HALFLIFE_TEMPORAL_SQLITE_SYNC',
      schema: z.enum(['full', 'normal']),
      default: 'normal',
      doc: "Local Temporal dev server's SQLite `synchronous` (its store is in WAL mode): `normal` syncs only at checkpoints — a killed process loses nothing, a power loss may roll back the last commits, whose workflow tasks Temporal re-runs; `full` syncs the log at every commit (~3× the time per commit here, the store's capacity a third) and survives a power loss (ARCHITECTURE.md, \"Temporal's local store\").",
    }),
    kafkaPort: setting({
      env: 'HALFLIFE_KAFKA_PORT',
      schema: port,
      default: 9092,
      doc: 'Local Kafka broker port.',
    }),
    kafkaControllerPort: setting({
      env: 'HALFLIFE_KAFKA_CONTROLLER_PORT',
      schema: port,
      default: 9093,
      doc: 'Local Kafka KRaft controller port.',
    }),
    kafkaHeap: setting({
      env: 'HALFLIFE_KAFKA_HEAP',
      schema: z.string().regex(/^\d+[mg]$/, 'like 512m or 1g'),
      default: '512m',
      doc: 'Local Kafka broker heap.',
    }),
  },
  api: {
    host: setting({
      env: 'HALFLIFE_API_HOST',
      schema: z.string(),
      default: '127.0.0.1',
      doc: 'HTTP API interface.',
    }),
    port: setting({
      env: 'HALFLIFE_API_PORT',
      schema: port,
      default: 8080,
      doc: 'HTTP API port (API, dashboard, /metrics, /healthz, /readyz).',
    }),
    token: setting({
      env: 'HALFLIFE_API_TOKEN',
      schema: z.string().min(16, 'use at least 16 characters'),
      unset: 'generated into `<dataDir>/api-token`',
      doc: 'Admin API token (≥16 chars).',
    }),
  },
  ingest: {
    groupId: setting({
      env: 'HALFLIFE_INGEST_GROUP',
      schema: z.string(),
      default: 'halflife-ingest',
      doc: 'Ingest consumer group.',
    }),
    batchSize: setting({
      env: 'HALFLIFE_INGEST_BATCH_SIZE',
      schema: positiveInt,
      // Larger inserts make fewer parts for the engine to merge: 100,000 cost ~5 µs less CPU an
      // event than 20,000 (BENCHMARKS.md, "Kafka ingest: where an event's CPU goes"). At low rates
      // batchMaxWaitMs flushes first, so only a backlog or a burst fills a batch this large.
      default: 100_000,
      doc: 'Rows per ClickHouse insert: a batch is flushed when it holds this many.',
    }),
    batchMaxWaitMs: setting({
      env: 'HALFLIFE_INGEST_BATCH_MAX_WAIT_MS',
      schema: positiveInt,
      default: 1000,
      doc: 'Longest a record waits for its batch (ms).',
    }),
    maxRetryBackoffMs: setting({
      env: 'HALFLIFE_INGEST_MAX_RETRY_BACKOFF_MS',
      schema: positiveInt,
      default: 30_000,
      doc: 'Longest back-off while ClickHouse is down (ms).',
    }),
    timestampMin: setting({
      env: 'HALFLIFE_INGEST_TIMESTAMP_MIN',
      schema: z.iso.datetime({ offset: true, message: 'an ISO-8601 date-time with a time zone' }),
      default: '2000-01-01T00:00:00Z',
      doc: 'Earliest plausible event or label timestamp; older records are dead-lettered (a backfill of older data lowers it).',
    }),
    timestampMaxAheadMs: setting({
      env: 'HALFLIFE_INGEST_TIMESTAMP_MAX_AHEAD_MS',
      schema: z.coerce.number().int().min(0),
      default: 86_400_000,
      doc: "How far a timestamp may lie ahead of the ingesting machine's clock (ms; clock skew); later ones are dead-lettered.",
    }),
    httpAcknowledge: setting({
      env: 'HALFLIFE_INGEST_HTTP_ACKNOWLEDGE',
      schema: z.enum(['stored', 'logged']),
      default: 'stored',
      doc: 'When POST /v1/events and /v1/labels answer (a request overrides it with `?ack=`): `stored` once the valid records are in the store (200, `accepted`/`duplicates` counted); `logged` once the broker has them from all in-sync replicas on the topics Kafka ingest consumes (202, `logged`), which lands them exactly once a moment later — the POST no longer waits for the engine (README "Sizing POSTs"). Invalid records are rejected and dead-lettered either way.',
    }),
    landingThread: setting({
      env: 'HALFLIFE_INGEST_LANDING_THREAD',
      schema: z.union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')]),
      // The daemon's one event loop also answers the API: landing's per-record work there delayed
      // POSTs during bursts (BENCHMARKS.md "Where the ~200 ms of `ack=logged` went").
      default: true,
      doc: "Run the Kafka ingest's consumer and its per-record work (fetch, decode, JSON parse, contract checks, RowBinary encoding, de-duplication keys) in a worker thread; the main thread keeps the engine's look-ups and inserts and commits offsets once a batch is stored. `false` does it all on the main thread's event loop, beside the API.",
    }),
    provenanceKey: setting({
      env: 'HALFLIFE_INGEST_PROVENANCE_KEY',
      schema: z.string().min(32, 'use at least 32 characters'),
      unset: 'generated into `<dataDir>/ingest-provenance-key`',
      doc: 'Secret that signs the `halflife-source` header of records POSTed with `ack=logged`; the Kafka ingest honours the header (the record keeps `http:<token name>` as its source) only when its signature verifies. Processes that produce and land the same records (an API and a separate ingest) need the same key.',
    }),
  },
  serving: {
    heartbeatMs: setting({
      env: 'HALFLIFE_SERVING_HEARTBEAT_MS',
      schema: positiveInt.min(100, 'at least 100 ms'),
      default: 10_000,
      doc: 'How often a scorer reports what it serves (ms); a scorer silent for three heartbeats is no longer counted as serving.',
    }),
    confirmTimeoutMs: setting({
      env: 'HALFLIFE_SERVING_CONFIRM_TIMEOUT_MS',
      schema: positiveInt,
      default: 30_000,
      doc: 'How long a promotion, rollback or withdrawal waits for every live scorer to confirm it serves the new routing (ms); past it the change is recorded as failed and undone.',
    }),
    requireLiveScorer: setting({
      env: 'HALFLIFE_SERVING_REQUIRE_LIVE_SCORER',
      schema: z.union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')]),
      default: false,
      doc: 'Fail a promotion or rollback when no scorer reports at all (true), instead of completing it as unconfirmed (false: your serving may not speak the serving-report protocol).',
    }),
  },
  gdpr: {
    withdrawal: setting({
      env: 'HALFLIFE_GDPR_WITHDRAWAL',
      schema: z.enum(['newest-untainted', 'stop-serving']),
      default: 'newest-untainted',
      doc: 'What an erasure that taints the production version serves instead: `newest-untainted` promotes the newest untainted version that has been production before (none: stop serving), `stop-serving` serves nothing for the model until a retrain promotes a new version.',
    }),
    withdrawalGraceMs: setting({
      env: 'HALFLIFE_GDPR_WITHDRAWAL_GRACE_MS',
      schema: z.coerce.number().int().min(0),
      default: 0,
      doc: 'How long a tainted production version may keep serving after the erasure (ms) while its retrain runs; 0 withdraws it at once. A grace period needs Temporal (a durable timer).',
    }),
  },
  demo: {
    enabled: setting({
      env: 'HALFLIFE_DEMO',
      schema: z.union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')]),
      unset:
        'on only when no external Temporal/Kafka/ClickHouse is configured and no model but `demo-churn` is registered',
      doc: "Run the newcomer's demo (`demo-churn` fed by a drifting stream).",
    }),
    speed: setting({
      env: 'HALFLIFE_DEMO_SPEED',
      schema: z.coerce.number().positive().max(20),
      default: 1,
      doc: 'Pace of the demo (its world, cadence and rollout durations shrink by this factor).',
    }),
  },
  daemon: {
    mallocTunables: setting({
      env: 'HALFLIFE_MALLOC_TUNABLES',
      schema: z
        .string()
        .regex(
          /^$|^glibc\.malloc\.[a-z_]+=\d+(:glibc\.malloc\.[a-z_]+=\d+)*$/,
          'glibc.malloc.<name>=<number>, joined by :',
        ),
      default: MALLOC_TUNABLES,
      doc: 'glibc malloc\'s tunables the daemon is started with (`GLIBC_TUNABLES`): two arenas and a fixed 128 KiB mmap and trim threshold, so large native buffers are mapped and handed back rather than left to fragment malloc\'s heaps — at 300 monitors malloc\'s heaps ~90 MB smaller; at 1,000 smaller at 10 minutes, within the runs\' spread at 30 (BENCHMARKS.md "Fleet memory", "Runs Y5, Y6 and Y7"). Environment only: glibc reads it when the process starts, so `workers/daemon.sh` (`npm start`, the fleet benchmark) sets it before Node starts, a config file cannot; `halflife start` runs the daemon in its own process, without it. Empty turns it off; a `GLIBC_TUNABLES` already set is kept.',
    }),
  },
  logLevel: setting({
    env: 'HALFLIFE_LOG_LEVEL',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: 'info',
    doc: 'Log level (fatal…trace, silent).',
  }),
} satisfies SettingsSection;

// ---- derived from SETTINGS ----------------------------------------------------------------------

function isSetting(node: Setting | SettingsSection): node is Setting {
  return node.schema instanceof z.ZodType && typeof node.env === 'string';
}

/** The zod schema of one declaration: a defaulted or optional setting, or a strict section defaulting to its defaults. */
type SchemaOf<T> =
  T extends DefaultedSetting<infer S>
    ? z.ZodDefault<S>
    : T extends OptionalSetting<infer S>
      ? z.ZodOptional<S>
      : z.ZodPrefault<z.ZodObject<{ [K in keyof T]: SchemaOf<T[K]> }, z.core.$strict>>;

function sectionSchema(section: SettingsSection): z.ZodObject {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, node] of Object.entries(section)) {
    if (!isSetting(node)) shape[key] = sectionSchema(node).prefault({});
    else shape[key] = node.default !== undefined ? node.schema.default(node.default) : node.schema.optional();
  }
  return z.object(shape).strict();
}

export const configSchema = sectionSchema(SETTINGS) as unknown as z.ZodObject<
  { [K in keyof typeof SETTINGS]: SchemaOf<(typeof SETTINGS)[K]> },
  z.core.$strict
>;

export type HalflifeConfig = z.infer<typeof configSchema>;

/** One setting as documented: its place in the config file, its environment variable, its meaning and default. */
export interface SettingDoc {
  key: string;
  env: string;
  doc: string;
}

/** Every setting in declaration order, keyed by its dotted place in the config file. */
function flatSettings(section: SettingsSection = SETTINGS, prefix = ''): [key: string, setting: Setting][] {
  return Object.entries(section).flatMap(([key, node]) => {
    const dotted = prefix ? `${prefix}.${key}` : key;
    return isSetting(node) ? [[dotted, node] as [string, Setting]] : flatSettings(node, dotted);
  });
}

/** Environment variables and the config keys they set. Unknown HALFLIFE_* variables are errors. */
export const ENV_VARS: Record<string, string> = Object.fromEntries(flatSettings().map(([key, s]) => [s.env, key]));

/** Every setting with its environment variable and documentation, for `halflife config --docs` and README. */
export function describeSettings(): SettingDoc[] {
  return flatSettings().map(([key, s]) => ({ key, env: s.env, doc: `${s.doc} ${defaultDoc(s)}` }));
}

function defaultDoc(s: Setting): string {
  if (s.unset !== undefined) return `Unset: ${s.unset}.`;
  if (s.default === '') return 'Default empty.';
  return typeof s.default === 'string' ? `Default \`${s.default}\`.` : `Default ${String(s.default)}.`;
}

/** HALFLIFE_* variables that are not settings but are read elsewhere (not config errors). */
const NON_SETTING_ENV = new Set(['HALFLIFE_CONFIG', 'HALFLIFE_CRASH_AT', 'HALFLIFE_CRASH_MARKER_DIR']);

export interface LoadConfigOptions {
  /** Environment to read. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Config file; missing = no file. @default HALFLIFE_CONFIG or "./halflife.yaml" if it exists */
  file?: string;
  /** Values that win over everything (from tests or CLI flags), as a partial config object. */
  overrides?: Record<string, unknown>;
  /** Directory relative paths are resolved against. @default process.cwd() */
  cwd?: string;
}

/** Load, merge and validate configuration. Throws {@link ConfigError} naming every bad key. */
export function loadConfig(options: LoadConfigOptions = {}): HalflifeConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const raw: Record<string, unknown> = {};

  const file =
    options.file ?? env.HALFLIFE_CONFIG ?? (existsSync(path.join(cwd, 'halflife.yaml')) ? 'halflife.yaml' : undefined);
  if (file !== undefined) {
    const filePath = path.resolve(cwd, file);
    if (!existsSync(filePath))
      throw new ConfigError(`config file ${filePath} does not exist (set by HALFLIFE_CONFIG or --config)`);
    let parsed: unknown;
    try {
      parsed = parseYaml(readFileSync(filePath, 'utf8'));
    } catch (err) {
      throw new ConfigError(`config file ${filePath} is not valid YAML: ${(err as Error).message}`);
    }
    if (parsed !== null && parsed !== undefined) {
      if (typeof parsed !== 'object' || Array.isArray(parsed))
        throw new ConfigError(`config file ${filePath} must be a mapping of settings`);
      deepMerge(raw, parsed as Record<string, unknown>);
    }
  }

  const unknownEnv = Object.keys(env).filter(
    (k) => k.startsWith('HALFLIFE_') && !(k in ENV_VARS) && !NON_SETTING_ENV.has(k),
  );
  if (unknownEnv.length > 0) {
    throw new ConfigError(
      `unknown environment variable(s) ${unknownEnv.join(', ')}: see \`halflife config --docs\` for the settings`,
    );
  }
  for (const [name, key] of Object.entries(ENV_VARS)) {
    const value = env[name];
    if (value !== undefined && value !== '') setPath(raw, key, value);
  }
  if (options.overrides) deepMerge(raw, options.overrides);

  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const key = issue.path.join('.');
      const envName = Object.entries(ENV_VARS).find(([, k]) => k === key)?.[0];
      const keys =
        issue.code === 'unrecognized_keys'
          ? ` (${issue.keys.map((k) => [...issue.path, k].join('.')).join(', ')})`
          : '';
      return `  ${key || '(top level)'}${envName ? ` [${envName}]` : ''}: ${issue.message}${keys}`;
    });
    throw new ConfigError(
      `invalid configuration:\n${lines.join('\n')}\nSee \`halflife config --docs\` for every setting and its default.`,
    );
  }
  const config = result.data;
  config.dataDir = path.resolve(cwd, config.dataDir);
  config.clickhouse.path = path.resolve(config.dataDir, config.clickhouse.path);
  return config;
}

function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

function deepMerge(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    if (
      value &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      typeof target[key] === 'object' &&
      target[key] !== null
    ) {
      deepMerge(target[key] as Record<string, unknown>, value as Record<string, unknown>);
    } else {
      target[key] = value;
    }
  }
}
