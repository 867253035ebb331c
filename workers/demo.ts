/**
 * The newcomer's demo: what `npm start` shows on a fresh machine.
 *
 * 1. Trains a first model, `demo-churn` v1, on the initial concept with the built-in logistic
 *    regression, stores its ONNX artifact, registers it and promotes it (which publishes a
 *    model update, so the scorer loads it).
 * 2. Runs a producer that sends scoring requests from a drifting world to the scoring-requests
 *    topic (the scorer scores them and emits scoring events; ingest lands them) and, a little
 *    later, their labels to the labels topic.
 * 3. Starts the demo monitor with a cost-aware policy (examples/policies/demo-cost-aware.yaml)
 *    and a short cadence. The world's concept holds, then moves: the monitor sees quality
 *    decay, decides (with the cost of staleness against the cost of retraining) to retrain,
 *    trains, shadow-evaluates, canaries and promotes; the scorer swaps to the new version and
 *    quality recovers. The concept later moves back, and the cycle repeats.
 *
 * Ctrl-C stops the producer only. The monitor workflow keeps running in Temporal (the local dev
 * server keeps its state on disk); the next `npm start` resumes the producer, finds v1 already
 * registered and the monitor already running, and the world continues from where its clock is.
 */
import { readFileSync } from 'node:fs';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Producer } from 'kafkajs';
import { parse as parseYaml } from 'yaml';
import { fitLogistic } from '../training/logistic.ts';
import { logisticToOnnx } from '../training/logistic-onnx.ts';
import { parseDuration } from '../detectors/policy/duration.ts';
import { MonitorClient } from '../operations/monitor-control.ts';
import { promoteVersion } from '../operations/promote-version.ts';
import { openPromotionContext } from '../operations/promotion-context.ts';
import { ClickHouseRegistryRepository } from '../platform/clickhouse/registry-repository.ts';
import type { HalflifeConfig } from '../platform/config.ts';
import { createKafka, createProducer, ensureTopics } from '../platform/kafka.ts';
import { subsystemLog, type Logger } from '../platform/logger.ts';
import { projectRoot } from '../platform/paths.ts';
import { LocalArtifactStore } from '../platform/registry/artifact-store.ts';
import { parsePolicy } from '../platform/policy-file.ts';
import { Random } from '../detectors/random.ts';
import type { ModelMonitorInput } from '../workflows/monitor/input.ts';

export const DEMO_MODEL = 'demo-churn';
export const DEMO_POLICY_FILE = `${projectRoot}/examples/policies/demo-cost-aware.yaml`;
const FEATURES = { numeric: ['f1', 'f2', 'f3'], categorical: [] as string[] };

/** The demo world's clock and concept: SEA-style f1 + f2 ≤ θ(t), θ holding, ramping, holding, ramping back. */
export interface DemoWorld {
  /** When the demo began (v1's creation): the world's clock starts here. */
  epoch: number;
  /** Time at the initial concept before the first move (ms). */
  holdMs: number;
  /** Time θ takes to move between its two values (ms). */
  rampMs: number;
  /** Time θ stays at each value between moves (ms). */
  plateauMs: number;
  thetaLow: number;
  thetaHigh: number;
  /** Share of labels flipped. */
  labelNoise: number;
}

/** Everything the demo's pace decides, derived from `demo.speed`. */
export interface DemoSchedule {
  world: Omit<DemoWorld, 'epoch'>;
  cadence: string;
  settle: string;
  /** How long after its request a label is sent (ms). */
  labelDelayMs: number;
  requestsPerSecond: number;
  retrain: NonNullable<ModelMonitorInput['retrain']>;
}

/** Durations shrink by `speed`; 1 is the pace a person watches (decay within ~2 minutes, a promotion within ~5). */
export function demoSchedule(speed: number, requestsPerSecond = 100): DemoSchedule {
  const s = (ms: number) => Math.max(1000, Math.round(ms / speed));
  const text = (ms: number) => `${Math.round(s(ms) / 1000)}s`;
  // Each move starts a whole number of windows after the last (the first is aligned in demoWorld).
  const cadenceMs = Math.round(s(30_000) / 1000) * 1000;
  const rampMs = s(20_000);
  const plateauMs = Math.ceil((rampMs + s(360_000)) / cadenceMs) * cadenceMs - rampMs;
  return {
    world: {
      holdMs: s(120_000),
      rampMs,
      plateauMs,
      thetaLow: 8,
      thetaHigh: 10.5,
      labelNoise: 0.05,
    },
    cadence: text(30_000),
    settle: text(9_000),
    labelDelayMs: s(3_000),
    requestsPerSecond,
    retrain: {
      trainer: { kind: 'builtin', params: {} },
      seed: 42,
      shadow: { mode: 'non-inferiority', margin: 0.01, lookback: text(60_000), maxEvents: 20_000 },
      // The Retrain workflow watches a canary step for at least a minute, whatever the pace.
      canary: { steps: [0.5], stepDuration: '60s', minEvents: 50, darkLaunch: false },
      timeouts: { heartbeat: '1m', shortStep: '2m' },
    },
  };
}

/**
 * The world of a demo that began at `epoch`: the first move starts on a window boundary of the
 * monitor's cadence (windows are aligned to it), later than `holdMs` by less than a window, and so
 * does every later move (demoSchedule). No window then holds a sliver of a move: each one the
 * monitor evaluates is either before a move or begins with it, wherever in a window the demo began.
 */
export function demoWorld(epoch: number, schedule: DemoSchedule): DemoWorld {
  const cadenceMs = parseDuration(schedule.cadence);
  const firstMove = Math.ceil((epoch + schedule.world.holdMs) / cadenceMs) * cadenceMs;
  return { epoch, ...schedule.world, holdMs: firstMove - epoch };
}

export function demoTheta(world: DemoWorld, ts: number): number {
  const u = ts - world.epoch - world.holdMs;
  if (u < 0) return world.thetaLow;
  const { rampMs: r, plateauMs: p, thetaLow: lo, thetaHigh: hi } = world;
  const phase = u % (2 * (r + p));
  if (phase < r) return lo + ((hi - lo) * phase) / r;
  if (phase < r + p) return hi;
  if (phase < 2 * r + p) return hi - ((hi - lo) * (phase - r - p)) / r;
  return lo;
}

export interface DemoRow {
  features: { f1: number; f2: number; f3: number };
  label: 0 | 1;
}

/** One row of the world at `ts`. */
export function demoRow(world: DemoWorld, ts: number, rng: Random): DemoRow {
  const f1 = 10 * rng.next();
  const f2 = 10 * rng.next();
  const f3 = 10 * rng.next();
  let label: 0 | 1 = f1 + f2 <= demoTheta(world, ts) ? 1 : 0;
  if (rng.next() < world.labelNoise) label = label === 1 ? 0 : 1;
  return { features: { f1, f2, f3 }, label };
}

/**
 * The demo policy at a speed: the file's durations shrink by `speed` (a test runs the same
 * policy faster); it is re-validated, so the hash in every decision is that of the policy in effect.
 */
export function demoPolicy(
  speed: number,
  modelId = DEMO_MODEL,
  file = DEMO_POLICY_FILE,
): ReturnType<typeof parsePolicy> {
  const raw = parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown>;
  raw.model = modelId;
  if (speed !== 1) {
    const scale = (d: string) => `${Math.max(1, Math.round(parseDuration(d) / speed / 1000))}s`;
    const guards = raw.guards as { cooldown?: string } | undefined;
    if (guards?.cooldown) guards.cooldown = scale(guards.cooldown);
    const tw = raw.trainingWindow as Record<string, string> | undefined;
    for (const key of ['duration', 'minimum', 'fallback']) if (tw?.[key]) tw[key] = scale(tw[key]);
    raw.version = `${String(raw.version)}-speed${speed}`;
  }
  return parsePolicy(raw, file);
}

/** Whether the demo runs when `demo.enabled` is unset: only on a machine halflife has not been given real work. */
export async function demoWanted(config: HalflifeConfig, clickhouse: ClickHouseClient): Promise<boolean> {
  if (config.demo.enabled !== undefined) return config.demo.enabled;
  if (config.temporal.address || config.kafka.brokers || config.clickhouse.url) return false;
  const models = await new ClickHouseRegistryRepository(clickhouse).listModels();
  return models.every((m) => m.modelId === DEMO_MODEL);
}

export interface DemoOptions {
  config: HalflifeConfig;
  clickhouse: ClickHouseClient;
  log: Logger;
  /** Model id. @default "demo-churn" */
  modelId?: string;
  /** Pace; a test passes a larger one. @default config.demo.speed */
  speed?: number;
  /**
   * Scoring requests per second. Shadow evaluation needs ≥ 500 held-out labelled events since the
   * change point, and a fifth of the events are held out: 100/s gives that within a minute.
   * @default 100
   */
  requestsPerSecond?: number;
  /** Roll out through a 50% canary step (at least a minute) before promoting. @default true */
  canary?: boolean;
}

export interface Demo {
  modelId: string;
  world: DemoWorld;
  schedule: DemoSchedule;
  /** Lines for the daemon's banner. */
  banner(apiUrl: string): string[];
  /** Requests and labels sent so far. */
  readonly sent: { requests: number; labels: number };
  /** Stop the producer (the monitor keeps running in Temporal). */
  stop(): Promise<void>;
}

/** Bootstrap v1 (once), start the monitor (no-op if it runs) and the traffic producer. */
export async function startDemo(options: DemoOptions): Promise<Demo> {
  const { config, clickhouse } = options;
  const modelId = options.modelId ?? DEMO_MODEL;
  const speed = options.speed ?? config.demo.speed;
  const log = subsystemLog(options.log, 'demo').child({ modelId });
  const schedule = demoSchedule(speed, options.requestsPerSecond);
  const registry = new ClickHouseRegistryRepository(clickhouse);

  const first = (await registry.listVersions(modelId)).find((v) => v.version === 'v1') ?? null;
  const epoch = first ? parseStoredTime(first.createdAt) : Date.now();
  const world = demoWorld(epoch, schedule);
  if (!first || (await registry.productionVersion(modelId)) === null)
    await bootstrap(options, modelId, world, registry, first !== null);

  const policy = demoPolicy(speed, modelId);
  const retrain =
    options.canary === false
      ? { ...schedule.retrain, canary: { ...schedule.retrain.canary!, steps: [] } }
      : schedule.retrain;
  const input: ModelMonitorInput = {
    modelId,
    policy: policy.policy,
    policyRef: policy.ref,
    cadence: schedule.cadence,
    settle: schedule.settle,
    retrain,
  };
  const monitors = new MonitorClient(config);
  try {
    await monitors.start(input);
  } finally {
    await monitors.close();
  }

  const kafka = createKafka(config, { clientId: `${config.kafka.clientId}-demo`, logger: log });
  await ensureTopics(config, [config.kafka.scoringRequestsTopic, config.kafka.labelsTopic], kafka);
  const producer = createProducer(kafka);
  await producer.connect();
  const traffic = new Traffic(producer, config, modelId, world, schedule, log);
  traffic.start();
  log.info({ cadence: schedule.cadence, speed, requestsPerSecond: schedule.requestsPerSecond }, 'demo running');

  return {
    modelId,
    world,
    schedule,
    sent: traffic.sent,
    banner: (apiUrl) => [
      `  Demo:         ${modelId} is scored from a drifting stream (${schedule.requestsPerSecond} req/s); its concept moves ${Math.round((world.holdMs - (Date.now() - epoch)) / 1000) > 0 ? `in ${Math.round((world.holdMs - (Date.now() - epoch)) / 1000)} s` : 'periodically'}. Watch it decay, retrain and recover:`,
      `                  npx halflife monitor status ${modelId}`,
      `                  npx halflife decisions --model ${modelId}`,
      `                  dashboard ${apiUrl}/#/model/${modelId}  (sign in with the API token)`,
      `                Set HALFLIFE_DEMO=false to run without it.`,
    ],
    stop: async () => {
      await traffic.stop();
      await producer.disconnect().catch(() => undefined);
    },
  };
}

/** A registry time ("2026-01-01 12:00:00.000", UTC) or ISO-8601 as epoch ms; now when unreadable. */
function parseStoredTime(text: string): number {
  const iso = /[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.replace(' ', 'T')}Z`;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : Date.now();
}

/** Train v1 on the initial concept, register and promote it (publishing the model update the scorer loads). */
async function bootstrap(
  options: DemoOptions,
  modelId: string,
  world: DemoWorld,
  registry: ClickHouseRegistryRepository,
  registered: boolean,
) {
  const rng = new Random(7);
  const rows = Array.from({ length: 4000 }, () =>
    demoRow({ ...world, holdMs: Number.POSITIVE_INFINITY }, world.epoch, rng),
  );
  const params = { l2: 1 };
  let v = registered ? await registry.getVersion(modelId, 'v1') : null;
  if (!v) {
    const { model } = fitLogistic(
      { features: FEATURES, rows: rows.map((r) => r.features), labels: rows.map((r) => r.label) },
      params,
      7,
    );
    const stored = await LocalArtifactStore.forDataDir(options.config.dataDir).put(
      `models/${modelId}/demo-v1/model.onnx`,
      logisticToOnnx(model, { trained_by: 'halflife demo' }),
    );
    v = await registry.registerVersion({
      modelId,
      stage: 'candidate',
      artifactUri: stored.uri,
      sha256: stored.sha256,
      trainer: 'builtin:logistic-regression',
      params,
      metrics: {},
      features: FEATURES,
      codeVersion: 'demo',
      seed: 7,
      createdBy: 'demo',
    });
  }
  const promotion = openPromotionContext({
    config: options.config,
    clickhouse: options.clickhouse,
    log: options.log,
  });
  try {
    await promoteVersion(promotion.ctx, {
      retrainId: `${modelId}-demo-bootstrap`,
      modelId,
      version: v.version,
      actor: 'demo',
      reason: 'the demo bootstrap: v1 trained on the initial concept',
    });
  } finally {
    await promotion.close();
  }
  options.log.info({ modelId, version: v.version }, 'demo model registered and promoted');
  return v;
}

/** The producer: requests every 100 ms, their labels `labelDelayMs` later. */
class Traffic {
  readonly sent = { requests: 0, labels: 0 };
  #timer: NodeJS.Timeout | undefined;
  #pendingLabels: Array<{ at: number; message: { key: string; value: string } }> = [];
  #inFlight: Promise<unknown> = Promise.resolve();
  #carry = 0;
  readonly #rng = new Random((Date.now() & 0x7fffffff) >>> 0);
  readonly #run = Date.now().toString(36);
  #seq = 0;

  constructor(
    readonly producer: Producer,
    readonly config: HalflifeConfig,
    readonly modelId: string,
    readonly world: DemoWorld,
    readonly schedule: DemoSchedule,
    readonly log: Logger,
  ) {}

  start(): void {
    this.#timer = setInterval(() => this.#tick(), 100);
  }

  #tick(): void {
    // Skip a beat rather than queue up when Kafka is slow (busy machine): the rate is a target.
    if (this.#busy) return;
    const now = Date.now();
    this.#carry += this.schedule.requestsPerSecond / 10;
    const n = Math.floor(this.#carry);
    this.#carry -= n;
    const requests: Array<{ key: string; value: string }> = [];
    for (let i = 0; i < n; i++) {
      const row = demoRow(this.world, now, this.#rng);
      const id = `${this.modelId}-${this.#run}-${this.#seq++}`;
      requests.push({
        key: id,
        value: JSON.stringify({
          request_id: id,
          model_id: this.modelId,
          timestamp: now,
          features: row.features,
          subject_id: `customer-${Math.floor(this.#rng.next() * 500)}`,
        }),
      });
      this.#pendingLabels.push({
        at: now + this.schedule.labelDelayMs,
        message: {
          key: id,
          value: JSON.stringify({ event_id: id, label: row.label, timestamp: now + this.schedule.labelDelayMs }),
        },
      });
    }
    const due = this.#pendingLabels.filter((l) => l.at <= now);
    this.#pendingLabels = this.#pendingLabels.filter((l) => l.at > now);
    const topicMessages = [
      ...(requests.length ? [{ topic: this.config.kafka.scoringRequestsTopic, messages: requests }] : []),
      ...(due.length ? [{ topic: this.config.kafka.labelsTopic, messages: due.map((l) => l.message) }] : []),
    ];
    if (topicMessages.length === 0) return;
    this.#busy = true;
    this.#inFlight = this.producer
      .sendBatch({ topicMessages, acks: -1 })
      .then(() => {
        this.sent.requests += requests.length;
        this.sent.labels += due.length;
      })
      .catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'demo traffic: send failed; continuing'))
      .finally(() => (this.#busy = false));
  }

  #busy = false;

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#inFlight;
  }
}
