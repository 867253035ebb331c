import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './errors.ts';

/**
 * halflife's configuration. Precedence: defaults < config file (`halflife.yaml`, or
 * HALFLIFE_CONFIG) < environment variables. Every setting is listed in {@link SETTINGS}
 * with its environment variable and default; the README's reference is printed from it
 * (`halflife config --docs`).
 */

const port = z.coerce.number().int().min(1, 'a port is 1–65535').max(65535, 'a port is 1–65535');
const positiveInt = z.coerce.number().int().positive();

export const configSchema = z
  .object({
    /** Where local state lives: embedded ClickHouse, service data, artifacts. @default ".halflife/data" */
    dataDir: z.string().min(1).default('.halflife/data'),
    clickhouse: z
      .object({
        /** Remote ClickHouse server (http[s]://host:port). Unset = embedded chDB. @default undefined */
        url: z.url().optional(),
        /** Database that holds halflife's tables. @default "halflife" */
        database: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'letters, digits and _ only')
          .default('halflife'),
        /** User for a remote server. @default "default" */
        username: z.string().default('default'),
        /** Password for a remote server. @default "" */
        password: z.string().default(''),
        /** Embedded engine's data directory. @default "<dataDir>/chdb" */
        path: z.string().optional(),
      })
      .strict()
      .default({ database: 'halflife', username: 'default', password: '' }),
    kafka: z
      .object({
        /** Comma-separated brokers. Unset = the local broker that `halflife services up` runs. @default undefined */
        brokers: z.string().optional(),
        /** Client id sent to the broker. @default "halflife" */
        clientId: z.string().default('halflife'),
        /** Topic of scoring events. @default "halflife.scoring-events" */
        scoringEventsTopic: z.string().default('halflife.scoring-events'),
        /** Topic of labels. @default "halflife.labels" */
        labelsTopic: z.string().default('halflife.labels'),
        /** Control topic on which promotions are published. @default "halflife.model-updates" */
        modelUpdatesTopic: z.string().default('halflife.model-updates'),
        /** Topic of scoring requests the reference scorer consumes. @default "halflife.scoring-requests" */
        scoringRequestsTopic: z.string().default('halflife.scoring-requests'),
        /** Partitions for topics halflife creates. @default 4 */
        partitions: positiveInt.default(4),
      })
      .strict()
      .default({
        clientId: 'halflife',
        scoringEventsTopic: 'halflife.scoring-events',
        labelsTopic: 'halflife.labels',
        modelUpdatesTopic: 'halflife.model-updates',
        scoringRequestsTopic: 'halflife.scoring-requests',
        partitions: 4,
      }),
    temporal: z
      .object({
        /** Temporal frontend host:port. Unset = the local dev server. @default undefined */
        address: z.string().optional(),
        /** Temporal namespace. @default "default" */
        namespace: z.string().default('default'),
        /** Task queue of halflife's workflows and activities. @default "halflife" */
        taskQueue: z.string().default('halflife'),
      })
      .strict()
      .default({ namespace: 'default', taskQueue: 'halflife' }),
    services: z
      .object({
        /** Local Temporal dev server gRPC port. @default 7233 */
        temporalPort: port.default(7233),
        /** Local Temporal Web UI port. @default 8233 */
        temporalUiPort: port.default(8233),
        /** Local Kafka broker port. @default 9092 */
        kafkaPort: port.default(9092),
        /** Local Kafka KRaft controller port. @default 9093 */
        kafkaControllerPort: port.default(9093),
        /** Heap of the local Kafka broker. @default "512m" */
        kafkaHeap: z
          .string()
          .regex(/^\d+[mg]$/, 'like 512m or 1g')
          .default('512m'),
      })
      .strict()
      .default({
        temporalPort: 7233,
        temporalUiPort: 8233,
        kafkaPort: 9092,
        kafkaControllerPort: 9093,
        kafkaHeap: '512m',
      }),
    api: z
      .object({
        /** Interface the HTTP API listens on. @default "127.0.0.1" */
        host: z.string().default('127.0.0.1'),
        /** HTTP API port (API, dashboard, /metrics, /healthz, /readyz). @default 8080 */
        port: port.default(8080),
        /** Admin token; generated into <dataDir>/api-token when unset. @default undefined */
        token: z.string().min(16, 'use at least 16 characters').optional(),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 8080 }),
    ingest: z
      .object({
        /** Consumer group of the ingest worker. @default "halflife-ingest" */
        groupId: z.string().default('halflife-ingest'),
        /** Rows per ClickHouse insert: a batch is flushed when it reaches this size... @default 20000 */
        batchSize: positiveInt.default(20_000),
        /** ...or when its oldest record is this old (ms). @default 1000 */
        batchMaxWaitMs: positiveInt.default(1000),
        /** Longest back-off between retries while ClickHouse is unavailable (ms). @default 30000 */
        maxRetryBackoffMs: positiveInt.default(30_000),
      })
      .strict()
      .default({ groupId: 'halflife-ingest', batchSize: 20_000, batchMaxWaitMs: 1000, maxRetryBackoffMs: 30_000 }),
    demo: z
      .object({
        /** Run the newcomer's demo (workers/demo.ts). Unset: on only when no external service is configured and no model but the demo's is registered. @default undefined */
        enabled: z
          .union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')])
          .optional(),
        /** Pace of the demo: its world, cadence and rollout durations shrink by this factor. @default 1 */
        speed: z.coerce.number().positive().max(20).default(1),
      })
      .strict()
      .default({ speed: 1 }),
    /** pino log level. @default "info" */
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict();

export type HalflifeConfig = z.infer<typeof configSchema>;

/** One setting: its place in the config file, its environment variable and its doc. */
export interface SettingDoc {
  key: string;
  env: string;
  doc: string;
}

/** Environment variables and the config keys they set. Unknown HALFLIFE_* variables are errors. */
export const ENV_VARS: Record<string, string> = {
  HALFLIFE_DATA_DIR: 'dataDir',
  CLICKHOUSE_URL: 'clickhouse.url',
  CLICKHOUSE_DATABASE: 'clickhouse.database',
  CLICKHOUSE_USER: 'clickhouse.username',
  CLICKHOUSE_PASSWORD: 'clickhouse.password',
  HALFLIFE_CHDB_PATH: 'clickhouse.path',
  KAFKA_BROKERS: 'kafka.brokers',
  HALFLIFE_KAFKA_CLIENT_ID: 'kafka.clientId',
  HALFLIFE_TOPIC_SCORING_EVENTS: 'kafka.scoringEventsTopic',
  HALFLIFE_TOPIC_LABELS: 'kafka.labelsTopic',
  HALFLIFE_TOPIC_MODEL_UPDATES: 'kafka.modelUpdatesTopic',
  HALFLIFE_TOPIC_SCORING_REQUESTS: 'kafka.scoringRequestsTopic',
  HALFLIFE_KAFKA_PARTITIONS: 'kafka.partitions',
  TEMPORAL_ADDRESS: 'temporal.address',
  TEMPORAL_NAMESPACE: 'temporal.namespace',
  HALFLIFE_TASK_QUEUE: 'temporal.taskQueue',
  HALFLIFE_TEMPORAL_PORT: 'services.temporalPort',
  HALFLIFE_TEMPORAL_UI_PORT: 'services.temporalUiPort',
  HALFLIFE_KAFKA_PORT: 'services.kafkaPort',
  HALFLIFE_KAFKA_CONTROLLER_PORT: 'services.kafkaControllerPort',
  HALFLIFE_KAFKA_HEAP: 'services.kafkaHeap',
  HALFLIFE_API_HOST: 'api.host',
  HALFLIFE_API_PORT: 'api.port',
  HALFLIFE_API_TOKEN: 'api.token',
  HALFLIFE_INGEST_GROUP: 'ingest.groupId',
  HALFLIFE_INGEST_BATCH_SIZE: 'ingest.batchSize',
  HALFLIFE_INGEST_BATCH_MAX_WAIT_MS: 'ingest.batchMaxWaitMs',
  HALFLIFE_INGEST_MAX_RETRY_BACKOFF_MS: 'ingest.maxRetryBackoffMs',
  HALFLIFE_DEMO: 'demo.enabled',
  HALFLIFE_DEMO_SPEED: 'demo.speed',
  HALFLIFE_LOG_LEVEL: 'logLevel',
};

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
  config.clickhouse.path = path.resolve(config.dataDir, config.clickhouse.path ?? 'chdb');
  return config;
}

/** Every setting with its environment variable and documentation, for `halflife config --docs`. */
export function describeSettings(): SettingDoc[] {
  const docs: SettingDoc[] = [];
  const walk = (schema: z.ZodType, prefix: string) => {
    const inner = unwrap(schema);
    if (inner instanceof z.ZodObject) {
      for (const [key, child] of Object.entries(inner.shape as Record<string, z.ZodType>))
        walk(child, prefix ? `${prefix}.${key}` : key);
      return;
    }
    const env = Object.entries(ENV_VARS).find(([, k]) => k === prefix)?.[0] ?? '';
    docs.push({ key: prefix, env, doc: SETTING_DOCS[prefix] ?? '' });
  };
  walk(configSchema, '');
  return docs;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current: z.ZodType = schema;
  while (current instanceof z.ZodDefault || current instanceof z.ZodOptional) current = current.unwrap() as z.ZodType;
  return current;
}

/** One-line docs with defaults, kept beside the schema so README and `--docs` agree. */
const SETTING_DOCS: Record<string, string> = {
  dataDir: 'Local state: embedded ClickHouse, service data and logs, artifacts. Default `.halflife/data`.',
  'clickhouse.url': 'Remote ClickHouse server URL. Unset: embedded chDB in `<dataDir>/chdb`.',
  'clickhouse.database': 'Database holding halflife tables. Default `halflife`.',
  'clickhouse.username': 'Remote server user. Default `default`.',
  'clickhouse.password': 'Remote server password. Default empty.',
  'clickhouse.path': 'Embedded engine data directory. Default `<dataDir>/chdb`.',
  'kafka.brokers': 'Comma-separated Kafka brokers. Unset: the local broker (`halflife services up`).',
  'kafka.clientId': 'Kafka client id. Default `halflife`.',
  'kafka.scoringEventsTopic': 'Scoring events topic. Default `halflife.scoring-events`.',
  'kafka.labelsTopic': 'Labels topic. Default `halflife.labels`.',
  'kafka.modelUpdatesTopic': 'Model-update control topic. Default `halflife.model-updates`.',
  'kafka.scoringRequestsTopic': 'Scoring requests for the reference scorer. Default `halflife.scoring-requests`.',
  'kafka.partitions': 'Partitions of topics halflife creates. Default 4.',
  'temporal.address': 'Temporal frontend host:port. Unset: the local dev server.',
  'temporal.namespace': 'Temporal namespace. Default `default`.',
  'temporal.taskQueue': 'Task queue. Default `halflife`.',
  'services.temporalPort': 'Local Temporal dev server port. Default 7233.',
  'services.temporalUiPort': 'Local Temporal Web UI port. Default 8233.',
  'services.kafkaPort': 'Local Kafka broker port. Default 9092.',
  'services.kafkaControllerPort': 'Local Kafka KRaft controller port. Default 9093.',
  'services.kafkaHeap': 'Local Kafka broker heap. Default `512m`.',
  'api.host': 'HTTP API interface. Default `127.0.0.1`.',
  'api.port': 'HTTP API port (API, dashboard, /metrics, /healthz, /readyz). Default 8080.',
  'api.token': 'Admin API token (≥16 chars). Unset: generated into `<dataDir>/api-token`.',
  'ingest.groupId': 'Ingest consumer group. Default `halflife-ingest`.',
  'ingest.batchSize': 'Rows per ClickHouse insert. Default 20000.',
  'ingest.batchMaxWaitMs': 'Longest a record waits for its batch (ms). Default 1000.',
  'ingest.maxRetryBackoffMs': 'Longest back-off while ClickHouse is down (ms). Default 30000.',
  'demo.enabled':
    "Run the newcomer's demo (`demo-churn` fed by a drifting stream). Default: on only when no external Temporal/Kafka/ClickHouse is configured and no model but `demo-churn` is registered.",
  'demo.speed': 'Pace of the demo (durations shrink by this factor). Default 1.',
  logLevel: 'Log level (fatal…trace, silent). Default `info`.',
};

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
