/**
 * The reference scoring service: model serving inside the stream.
 *
 * - Consumes scoring requests (`kafka.scoringRequestsTopic`, JSON `{ request_id, model_id,
 *   timestamp?, features, subject_id?, metadata? }`), scores each with the version its traffic
 *   split assigns (deterministic by hash of request_id, so a request always lands on the same
 *   side and a ramp from 5% to 25% keeps the first 5% on the candidate), and emits a scoring
 *   event (docs/contracts.md) with that model_version to `kafka.scoringEventsTopic`.
 * - Shadow versions score the same requests; their events go out under the model id
 *   `<model>.shadow` (metadata shadow=true, shadow_of=<model>), so production quality and drift
 *   statistics of `<model>` never include them, while labels (joined by event id) still reach
 *   them for live shadow evaluation. Each batch's routed version and its shadows take turns
 *   running first, and each run is timed alone (platform/onnx/run-clock.mjs), so the latencies the
 *   live shadow's guardrail compares measure the models, not the order they ran in.
 * - Consumes the model-update control topic (compacted, keyed by model; its own consumer group,
 *   from the beginning) and hot-swaps: new versions are verified (sha256) and loaded first, then
 *   the routing is swapped under the same lock that scoring holds per batch — swaps happen between
 *   batches, so no request is scored twice or dropped. An update whose artifact fails verification
 *   or loading is refused; the old routing stays. On start only the newest update of each model
 *   is applied — the registry's current routing — never an older one: if the newest is refused,
 *   the model is not served rather than served by a stale version.
 * - Reports what it serves (platform/registry/serving-report.ts) on `kafka.servingReportsTopic`:
 *   on start, on every update applied or refused (with the scorer's reason), every
 *   `serving.heartbeatMs`, and when it stops. Promotions wait for these reports.
 * - onnxruntime runs through {@link OnnxPool}: on the event loop only for batches whose timed cost
 *   fits its budget (1 ms), in worker threads otherwise.
 * - Offsets are committed after the events are acknowledged: a crash re-scores at most the
 *   uncommitted requests, and ingest stores each (model_id, event_id) once.
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import { z } from 'zod';
import type { HalflifeConfig } from '../platform/config.ts';
import { CONTRACT_VERSION } from '../platform/contracts.ts';
import { createKafka, createProducer, ensureTopics, whileLeadersSettle } from '../platform/kafka.ts';
import { ensureCompactedTopic } from '../platform/kafka-compaction.ts';
import { subsystemLog, type Logger } from '../platform/logger.ts';
import type { RawFeatures } from '../platform/onnx/features.ts';
import { OnnxPool } from '../platform/onnx/pool.ts';
import { loadModelRunner, type ModelRunner } from '../platform/onnx/runner.ts';
import { outputProblem, type RunClock } from '../platform/onnx/session.mjs';
import { LocalArtifactStore, type ArtifactStore } from '../platform/registry/artifact-store.ts';
import { isWithdrawal, modelUpdateSchema, type ModelUpdateMessage } from '../platform/registry/model-update.ts';
import {
  SERVING_REPORT_SCHEMA_VERSION,
  servingReportSchema,
  type ServedRouting,
  type ServingReport,
  type ServingReportEvent,
} from '../platform/registry/serving-report.ts';
import { shadowModelId } from '../platform/registry/shadow.ts';
import { runOrder } from './run-order.ts';
import type { Guard } from './api.ts';

export const scoringRequestSchema = z
  .object({
    request_id: z.string().min(1).max(128),
    model_id: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/),
    timestamp: z.union([z.number().int().min(0), z.iso.datetime({ offset: true })]).optional(),
    features: z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()])),
    subject_id: z.string().min(1).max(256).optional(),
    metadata: z.record(z.string(), z.string()).optional(),
  })
  .strict();

export type ScoringRequest = z.infer<typeof scoringRequestSchema>;

/** One scored request: a binary model's `score`, a multiclass model's `probabilities` and `class`, a regression model's `value`. */
export interface ScoreResult {
  request_id: string;
  model_id: string;
  model_version: string;
  score?: number;
  probabilities?: Record<string, number>;
  class?: string;
  value?: number;
}

/** A scoring event's `prediction` (docs/contracts.md) from row `row` of a runner's outputs. */
export function predictionOf(
  runner: Pick<ModelRunner, 'ref'>,
  scores: Float64Array,
  row: number,
): Omit<ScoreResult, 'request_id' | 'model_id' | 'model_version'> {
  const output = runner.ref.output;
  if (output?.kind === 'multiclass') {
    const classes = runner.ref.classes ?? [];
    const probabilities: Record<string, number> = {};
    let best = 0;
    for (let j = 0; j < output.classes; j++) {
      const p = scores[row * output.classes + j] as number;
      probabilities[classes[j] ?? String(j)] = p;
      if (p > (scores[row * output.classes + best] as number)) best = j;
    }
    return { probabilities, class: classes[best] ?? String(best) };
  }
  if (output?.kind === 'regression') return { value: scores[row] as number };
  return { score: scores[row] as number };
}

export interface ScorerOptions {
  config: HalflifeConfig;
  log: Logger;
  kafka?: Kafka;
  /** @default LocalArtifactStore in <dataDir>/artifacts */
  artifacts?: ArtifactStore;
  /** @default a new pool (closed by stop()) */
  pool?: OnnxPool;
  /** Consumer group of scoring requests. @default "halflife-scorer" */
  groupId?: string;
  /** Consumer group of model updates; unique per instance since every scorer needs every update. @default "halflife-scorer-updates-<pid>-<random>" */
  updatesGroupId?: string;
  /** Requests per onnxruntime call. @default 256 */
  maxBatch?: number;
  /** This scorer's id in its serving reports. @default "scorer-<host>-<pid>-<random>" */
  instanceId?: string;
  /** How often it reports what it serves (ms). @default config.serving.heartbeatMs */
  heartbeatMs?: number;
}

export interface ScorerStats {
  requests: number;
  scored: number;
  shadowScored: number;
  /** Requests that could not be parsed or validated. */
  invalid: number;
  /** Requests for a model the scorer has no version of. */
  unscorable: number;
  fallbacks: number;
  updatesApplied: number;
  updatesRefused: number;
  /** Serving reports that could not be sent (the broker was unreachable). */
  reportsFailed: number;
}

/** One version's run over a batch: its outputs, its onnxruntime time per row, and the run's id. */
interface Scored {
  scores: Float64Array;
  perRowMs: number;
  /** Unique per run: the events of one run carry one latency measurement (a live shadow counts it once). */
  runId: string;
}

interface ServingState {
  updateKeys: Set<string>;
  /** The update this routing came from, and when it was put in place. */
  updateKey: string;
  since: number;
  /** Live versions in routing order (the update's subject first) with cumulative share bounds. */
  routes: Array<{ version: string; upTo: number }>;
  shadow: string[];
  runners: Map<string, ModelRunner>;
  /** Batches scored per routed version: whose turn it is to run first (run-order.ts). */
  turns: Map<string, number>;
}

/** Position of a request in [0, 1): stable across processes and restarts. */
export function routingPoint(requestId: string): number {
  return createHash('sha256').update(requestId).digest().readUInt32BE(0) / 2 ** 32;
}

export class Scorer {
  readonly stats: ScorerStats = {
    requests: 0,
    scored: 0,
    shadowScored: 0,
    invalid: 0,
    unscorable: 0,
    fallbacks: 0,
    updatesApplied: 0,
    updatesRefused: 0,
    reportsFailed: 0,
  };
  /** This scorer's id in its serving reports. */
  readonly instanceId: string;
  readonly #config: HalflifeConfig;
  readonly #log: Logger;
  readonly #kafka: Kafka;
  readonly #artifacts: ArtifactStore;
  readonly #pool: OnnxPool;
  readonly #ownsPool: boolean;
  readonly #maxBatch: number;
  readonly #groupId: string;
  readonly #updatesGroupId: string;
  #states = new Map<string, ServingState>();
  #lock: Promise<void> = Promise.resolve();
  #producer: Producer | undefined;
  #requests: Consumer | undefined;
  #updates: Consumer | undefined;
  /** Serialises updates so two swaps never interleave. */
  #updateChain: Promise<void> = Promise.resolve();
  readonly #heartbeatMs: number;
  #seq = 0;
  /** Runs timed so far: each run's id (its events' `latency_run`). */
  #runs = 0;
  #heartbeat: NodeJS.Timeout | undefined;
  /** Reports go out one at a time, in order. */
  #reportChain: Promise<void> = Promise.resolve();

  constructor(options: ScorerOptions) {
    this.#config = options.config;
    this.#log = subsystemLog(options.log, 'scorer');
    this.#kafka =
      options.kafka ??
      createKafka(options.config, { clientId: `${options.config.kafka.clientId}-scorer`, logger: options.log });
    this.#artifacts = options.artifacts ?? LocalArtifactStore.forDataDir(options.config.dataDir);
    this.#ownsPool = !options.pool;
    this.#pool = options.pool ?? new OnnxPool({ log: this.#log });
    this.#maxBatch = options.maxBatch ?? 256;
    this.#groupId = options.groupId ?? 'halflife-scorer';
    this.#updatesGroupId =
      options.updatesGroupId ?? `halflife-scorer-updates-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    this.instanceId =
      options.instanceId ??
      `scorer-${os.hostname().replace(/[^A-Za-z0-9._-]/g, '-') || 'host'}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    this.#heartbeatMs = options.heartbeatMs ?? options.config.serving.heartbeatMs;
  }

  /** Versions currently routed for a model (for tests, /metrics and the API). */
  routing(modelId: string): { live: Array<{ version: string; share: number }>; shadow: string[] } | null {
    const s = this.#states.get(modelId);
    if (!s) return null;
    const live = s.routes.map((r, i) => ({
      version: r.version,
      share: Math.round((r.upTo - (s.routes[i - 1]?.upTo ?? 0)) * 1e9) / 1e9,
    }));
    return { live, shadow: [...s.shadow] };
  }

  /** What this scorer serves for a model, as its reports say it (null: nothing known of the model). */
  served(modelId: string): ServedRouting | null {
    const s = this.#states.get(modelId);
    if (!s) return null;
    const routes = s.routes.map((r, i) => ({
      version: r.version,
      share: Math.round((r.upTo - (s.routes[i - 1]?.upTo ?? 0)) * 1e9) / 1e9,
      sha256: s.runners.get(r.version)!.ref.sha256,
    }));
    const primary = [...routes].sort((a, b) => b.share - a.share)[0];
    return {
      version: primary?.version ?? '',
      sha256: primary?.sha256 ?? '',
      since: s.since,
      update_key: s.updateKey,
      routes,
      shadow: [...s.shadow],
    };
  }

  async start(): Promise<void> {
    const { scoringRequestsTopic, modelUpdatesTopic, scoringEventsTopic, servingReportsTopic } = this.#config.kafka;
    await ensureTopics(this.#config, [scoringRequestsTopic, scoringEventsTopic, servingReportsTopic], this.#kafka);
    await ensureCompactedTopic(this.#config, modelUpdatesTopic, this.#kafka);
    this.#producer = createProducer(this.#kafka, { idempotent: true, maxInFlightRequests: 1 });
    await this.#producer.connect();

    // Catch up on model updates before scoring anything, so the first request sees the current routing.
    const admin = this.#kafka.admin();
    await admin.connect();
    const ends = await whileLeadersSettle(() => admin.fetchTopicOffsets(modelUpdatesTopic));
    await admin.disconnect();
    const pending = new Map(
      ends.filter((p) => Number(p.high) > Number(p.low)).map((p) => [p.partition, Number(p.high)]),
    );
    let caughtUp!: () => void;
    const ready = new Promise<void>((resolve) => (caughtUp = resolve));
    // While catching up only the newest update of each model is kept (the topic is keyed by
    // model, so a model's updates are in order on one partition); it alone is applied.
    let catchingUp = pending.size > 0;
    const newest = new Map<string, { value: Buffer | null; at: string }>();
    const finishCatchUp = async () => {
      catchingUp = false;
      for (const [, message] of newest) await this.#onUpdateMessage(message.value, message.at);
      newest.clear();
      caughtUp();
    };
    if (pending.size === 0) caughtUp();
    this.#updates = this.#kafka.consumer({
      groupId: this.#updatesGroupId,
      sessionTimeout: 30_000,
      heartbeatInterval: 3000,
    });
    await this.#updates.connect();
    await this.#updates.subscribe({ topic: modelUpdatesTopic, fromBeginning: true });
    await this.#updates.run({
      eachMessage: async ({ partition, message }) => {
        const at = `${partition}:${message.offset}`;
        if (catchingUp) newest.set(updateModelOf(message.key, message.value) ?? `?${at}`, { value: message.value, at });
        else await this.#onUpdateMessage(message.value, at);
        const end = pending.get(partition);
        if (catchingUp && end !== undefined && Number(message.offset) + 1 >= end) {
          pending.delete(partition);
          if (pending.size === 0) await finishCatchUp();
        }
      },
    });
    await ready;
    this.#report('started', '');
    for (const modelId of this.#states.keys()) this.#report('serving', modelId);
    this.#heartbeat = setInterval(() => {
      this.#report('heartbeat', '');
      for (const modelId of this.#states.keys()) this.#report('serving', modelId);
    }, this.#heartbeatMs);
    this.#heartbeat.unref();

    this.#requests = this.#kafka.consumer({ groupId: this.#groupId, sessionTimeout: 30_000, heartbeatInterval: 3000 });
    await this.#requests.connect();
    await this.#requests.subscribe({ topic: scoringRequestsTopic, fromBeginning: true });
    await this.#requests.run({
      eachBatchAutoResolve: false,
      autoCommit: false,
      eachBatch: (payload) => this.#eachBatch(payload),
    });
    this.#log.info({ groupId: this.#groupId, models: [...this.#states.keys()] }, 'scorer started');
  }

  async stop(): Promise<void> {
    clearInterval(this.#heartbeat);
    await this.#requests?.disconnect().catch(() => undefined);
    await this.#updates?.disconnect().catch(() => undefined);
    await this.#updateChain.catch(() => undefined);
    // Said last, so a promotion waiting on this scorer stops waiting for it.
    if (this.#producer && this.#heartbeat) this.#report('stopped', '');
    await this.#reportChain;
    this.#heartbeat = undefined;
    await this.#producer?.disconnect().catch(() => undefined);
    for (const s of this.#states.values()) for (const r of s.runners.values()) await r.unload().catch(() => undefined);
    this.#states = new Map();
    if (this.#ownsPool) await this.#pool.close();
  }

  /** Apply a model update (also used directly by tests and by an API that bypasses Kafka). */
  applyUpdate(message: ModelUpdateMessage): Promise<void> {
    const next = this.#updateChain.then(() => this.#apply(message));
    this.#updateChain = next.catch(() => undefined);
    return next;
  }

  /**
   * Score requests and emit their scoring events (and shadow events). Used by the Kafka loop
   * and by the HTTP route. Runs under the routing lock: a model swap waits for it.
   */
  async scoreAndEmit(requests: readonly ScoringRequest[], source: 'kafka' | 'http'): Promise<ScoreResult[]> {
    const { results, events } = await this.#exclusive(() => this.#score(requests));
    if (events.length > 0) {
      if (!this.#producer) throw new Error('the scorer is not started');
      await this.#producer.send({
        topic: this.#config.kafka.scoringEventsTopic,
        acks: -1,
        messages: events.map((e) => ({
          key: e.model_id,
          value: JSON.stringify({ ...e, metadata: { ...e.metadata, scored_via: source } }),
        })),
      });
    }
    return results;
  }

  async #onUpdateMessage(value: Buffer | null, at: string): Promise<void> {
    let parsed: ModelUpdateMessage;
    try {
      parsed = modelUpdateSchema.parse(JSON.parse(value?.toString('utf8') ?? ''));
    } catch (err) {
      this.stats.updatesRefused++;
      const reason = `malformed model update: ${(err as Error).message.slice(0, 1000)}`;
      this.#log.error({ err: reason, at }, 'ignoring a malformed model-update message');
      // Said to the model's owners when the message names its model at all.
      const modelId = updateModelOf(null, value);
      if (modelId)
        this.#report('refused', modelId, {
          update: { key: updateKeyOf(value) ?? `kafka:${at}`, version: '', sha256: '' },
          reason,
        });
      return;
    }
    await this.applyUpdate(parsed).catch(() => undefined);
  }

  /** Send a serving report (never blocks or fails scoring: a report that cannot be sent is counted and logged). */
  #report(
    event: ServingReportEvent,
    modelId: string,
    extra: { update?: ServingReport['update']; reason?: string } = {},
  ): void {
    const producer = this.#producer;
    if (!producer) return;
    this.#seq += 1;
    const report: ServingReport = {
      type: 'serving-report',
      schema_version: SERVING_REPORT_SCHEMA_VERSION,
      scorer_id: this.instanceId,
      seq: this.#seq,
      event,
      model_id: modelId,
      serving: modelId === '' ? null : this.served(modelId),
      update: extra.update ?? null,
      reason: extra.reason ?? '',
      heartbeat_ms: this.#heartbeatMs,
      host: os.hostname().slice(0, 256),
      pid: process.pid,
      reported_at: Date.now(),
    };
    const checked = servingReportSchema.safeParse(report);
    if (!checked.success) {
      this.stats.reportsFailed++;
      this.#log.error(
        { err: checked.error.message.slice(0, 500), event, modelId },
        'serving report not valid: not sent',
      );
      return;
    }
    const value = JSON.stringify(checked.data);
    this.#reportChain = this.#reportChain.then(async () => {
      try {
        await producer.send({
          topic: this.#config.kafka.servingReportsTopic,
          acks: -1,
          messages: [{ key: this.instanceId, value }],
        });
      } catch (err) {
        this.stats.reportsFailed++;
        this.#log.warn({ err: (err as Error).message, event, modelId }, 'serving report not sent');
      }
    });
  }

  async #apply(m: ModelUpdateMessage): Promise<void> {
    const log = this.#log.child({ modelId: m.model_id, version: m.version, key: m.idempotency_key });
    const current = this.#states.get(m.model_id);
    if (current?.updateKeys.has(m.idempotency_key)) {
      log.debug('model update already applied');
      return;
    }
    const wanted = isWithdrawal(m)
      ? []
      : [...new Set([...Object.keys(m.traffic_split).filter((v) => (m.traffic_split[v] ?? 0) > 0), ...m.shadow])];
    const runners = new Map<string, ModelRunner>();
    const loadedHere: ModelRunner[] = [];
    try {
      for (const version of wanted) {
        const spec = m.models[version]!;
        const reuse = current?.runners.get(version);
        if (
          reuse &&
          reuse.ref.sha256 === spec.sha256 &&
          (reuse.ref.output?.kind ?? 'binary') === (spec.kind ?? 'binary') &&
          (reuse.ref.classes ?? []).join('\u0000') === (spec.classes ?? []).join('\u0000')
        ) {
          runners.set(version, reuse);
          continue;
        }
        // loadModelRunner reads through the artifact store with the message's sha256: a
        // mismatch throws before anything reaches onnxruntime.
        const runner = await loadModelRunner(this.#pool, this.#artifacts, {
          modelId: m.model_id,
          version,
          artifactUri: spec.artifact_uri,
          sha256: spec.sha256,
          features: spec.features,
          ...(spec.kind === 'multiclass' && spec.classes
            ? { output: { kind: 'multiclass' as const, classes: spec.classes.length }, classes: spec.classes }
            : spec.kind === 'regression'
              ? { output: { kind: 'regression' as const } }
              : {}),
        });
        runners.set(version, runner);
        loadedHere.push(runner);
      }
    } catch (err) {
      for (const r of loadedHere) await r.unload().catch(() => undefined);
      this.stats.updatesRefused++;
      log.error({ err: (err as Error).message }, 'model update refused: keeping the current models');
      this.#report('refused', m.model_id, {
        update: { key: m.idempotency_key, version: m.version, sha256: m.models[m.version]?.sha256 ?? '' },
        reason: (err as Error).message.slice(0, 4000),
      });
      throw err;
    }
    const order = [
      m.version,
      ...Object.keys(m.traffic_split)
        .filter((v) => v !== m.version)
        .sort(),
    ];
    let acc = 0;
    const routes = order
      .filter((v) => (m.traffic_split[v] ?? 0) > 0)
      .map((version) => ({ version, upTo: (acc += m.traffic_split[version] ?? 0) }));
    const last = routes[routes.length - 1];
    if (last) last.upTo = 1; // rounding: the last route takes the remainder
    const keys = new Set(current?.updateKeys ?? []);
    keys.add(m.idempotency_key);
    const next: ServingState = {
      updateKeys: keys,
      updateKey: m.idempotency_key,
      since: Date.now(),
      routes,
      shadow: m.shadow.filter((v) => runners.has(v)),
      runners,
      turns: new Map(),
    };
    await this.#exclusive(async () => {
      this.#states = new Map(this.#states).set(m.model_id, next);
    });
    // Old runners no longer routed are unloaded after the swap; no batch can be using them now.
    for (const [version, r] of current?.runners ?? [])
      if (next.runners.get(version) !== r) await r.unload().catch(() => undefined);
    this.stats.updatesApplied++;
    log.info({ split: m.traffic_split, shadow: m.shadow, reason: m.reason }, 'model update applied');
    this.#report('applied', m.model_id, {
      update: { key: m.idempotency_key, version: m.version, sha256: m.models[m.version]?.sha256 ?? '' },
    });
  }

  async #score(requests: readonly ScoringRequest[]): Promise<{
    results: ScoreResult[];
    events: Array<Record<string, unknown> & { model_id: string; metadata: Record<string, string> }>;
  }> {
    const results: ScoreResult[] = [];
    const events: Array<Record<string, unknown> & { model_id: string; metadata: Record<string, string> }> = [];
    // Group by (model, routed version) so each group is one onnxruntime call.
    const groups = new Map<
      string,
      { state: ServingState; version: string; items: ScoringRequest[]; positions: number[] }
    >();
    const ordered: Array<ScoreResult | undefined> = new Array(requests.length);
    for (const [position, r] of requests.entries()) {
      const state = this.#states.get(r.model_id);
      if (!state || state.routes.length === 0) {
        this.stats.unscorable++;
        this.#noteUnscorable(r);
        continue;
      }
      const point = routingPoint(r.request_id);
      const version = (state.routes.find((route) => point < route.upTo) ?? state.routes[state.routes.length - 1]!)
        .version;
      const key = `${r.model_id}\u0000${version}`;
      const g = groups.get(key) ?? { state, version, items: [], positions: [] };
      g.items.push(r);
      g.positions.push(position);
      groups.set(key, g);
    }
    const ts = Date.now();
    const event = (
      r: ScoringRequest,
      modelId: string,
      version: string,
      prediction: ReturnType<typeof predictionOf>,
      metadata: Record<string, string>,
    ) => ({
      contract_version: CONTRACT_VERSION,
      event_id: r.request_id,
      model_id: modelId,
      model_version: version,
      timestamp: r.timestamp ?? ts,
      features: r.features,
      prediction,
      ...(r.subject_id ? { subject_id: r.subject_id } : {}),
      metadata: { ...r.metadata, ...metadata },
    });
    for (const { state, version, items, positions } of groups.values()) {
      const modelId = items[0]!.model_id;
      // The routed version and its shadows take turns running first (run-order.ts), so their
      // latencies are comparable: the live shadow's verdict judges the challenger's against the champion's.
      const turn = state.turns.get(version) ?? 0;
      state.turns.set(version, turn + 1);
      let live: { runner: ModelRunner; scored: Scored; servedBy: string; fallbackFrom?: string } | null = null;
      const shadowRuns = new Map<string, { runner: ModelRunner; scored: Scored }>();
      const sides = [{ shadow: false, version }, ...state.shadow.map((v) => ({ shadow: true, version: v }))];
      // Only latencies that are compared pay for the run clock (session.mjs).
      const clock = sides.length > 1 ? 'run' : 'wall';
      for (const side of runOrder(sides, turn)) {
        if (side.shadow) {
          const runner = state.runners.get(side.version)!;
          const scored = await this.#run(runner, items, clock);
          if (scored) shadowRuns.set(side.version, { runner, scored });
          continue;
        }
        const runner = state.runners.get(version)!;
        const scored = await this.#run(runner, items, clock);
        if (scored) {
          live = { runner, scored, servedBy: version };
          continue;
        }
        // The routed version failed: serve from the largest other live route, and say so.
        const fallback = state.routes.filter((r) => r.version !== version).map((r) => r.version)[0];
        if (!fallback) continue;
        const fallbackRunner = state.runners.get(fallback)!;
        const fallbackScored = await this.#run(fallbackRunner, items, clock);
        this.stats.fallbacks += items.length;
        if (fallbackScored)
          live = { runner: fallbackRunner, scored: fallbackScored, servedBy: fallback, fallbackFrom: version };
      }
      if (!live) {
        this.stats.unscorable += items.length;
        continue;
      }
      const { runner, scored, servedBy, fallbackFrom } = live;
      items.forEach((r, i) => {
        const prediction = predictionOf(runner, scored.scores, i);
        ordered[positions[i] as number] = {
          request_id: r.request_id,
          model_id: modelId,
          model_version: servedBy,
          ...prediction,
        };
        events.push(
          event(r, modelId, servedBy, prediction, {
            latency_ms: scored.perRowMs.toFixed(4),
            latency_run: scored.runId,
            ...(fallbackFrom ? { fallback_from: fallbackFrom } : {}),
          }),
        );
      });
      this.stats.scored += items.length;
      for (const shadowVersion of state.shadow) {
        const shadowRun = shadowRuns.get(shadowVersion);
        if (!shadowRun) continue;
        items.forEach((r, i) => {
          events.push(
            event(
              r,
              shadowModelId(modelId),
              shadowVersion,
              predictionOf(shadowRun.runner, shadowRun.scored.scores, i),
              {
                shadow: 'true',
                shadow_of: modelId,
                latency_ms: shadowRun.scored.perRowMs.toFixed(4),
                latency_run: shadowRun.scored.runId,
              },
            ),
          );
        });
        this.stats.shadowScored += items.length;
      }
    }
    for (const r of ordered) if (r) results.push(r);
    return { results, events };
  }

  /** Requests without a servable version, logged once per model every 10 s (a withdrawn model gets many). */
  #unscorableLog = new Map<string, { at: number; since: number }>();
  #noteUnscorable(r: ScoringRequest): void {
    const now = Date.now();
    const seen = this.#unscorableLog.get(r.model_id);
    if (seen && now - seen.at < 10_000) {
      seen.since++;
      return;
    }
    this.#unscorableLog.set(r.model_id, { at: now, since: 0 });
    this.#log.error(
      {
        modelId: r.model_id,
        requestId: r.request_id,
        withdrawn: this.#states.has(r.model_id),
        unscoredSinceLastLine: seen?.since ?? 0,
      },
      'no model version to score this request with',
    );
  }

  async #run(runner: ModelRunner, items: readonly ScoringRequest[], clock: RunClock): Promise<Scored | null> {
    try {
      const out = await runner.score(
        items.map((r) => r.features as RawFeatures),
        clock,
      );
      const output = runner.ref.output ?? { kind: 'binary' as const };
      for (let i = 0; i < items.length; i++) {
        const problem = outputProblem(output, out.scores, i);
        if (problem) throw new Error(problem);
      }
      this.#runs += 1;
      return { scores: out.scores, perRowMs: out.runMs / items.length, runId: `${this.instanceId}/${this.#runs}` };
    } catch (err) {
      this.#log.error({ err: (err as Error).message, model: runner.key }, 'scoring failed');
      return null;
    }
  }

  async #eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, uncommittedOffsets, isRunning, isStale } =
      payload;
    for (let i = 0; i < batch.messages.length; i += this.#maxBatch) {
      if (!isRunning() || isStale()) break;
      const chunk = batch.messages.slice(i, i + this.#maxBatch);
      const requests: ScoringRequest[] = [];
      for (const message of chunk) {
        this.stats.requests++;
        try {
          requests.push(scoringRequestSchema.parse(JSON.parse(message.value?.toString('utf8') ?? '')));
        } catch (err) {
          this.stats.invalid++;
          this.#log.error(
            { partition: batch.partition, offset: message.offset, err: (err as Error).message.slice(0, 500) },
            'invalid scoring request skipped',
          );
        }
      }
      await this.scoreAndEmit(requests, 'kafka');
      resolveOffset(chunk[chunk.length - 1]!.offset);
      await heartbeat();
    }
    // With autoCommit off kafkajs commits only the offsets it is handed (called bare it commits
    // nothing): a restarted scorer resumes after the last batch instead of re-scoring the topic.
    await commitOffsetsIfNecessary(uncommittedOffsets());
  }

  async #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.#lock;
    let release!: () => void;
    this.#lock = new Promise<void>((resolve) => (release = resolve));
    await previous;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

/** The model id of a model-update message: its Kafka key, or the model_id of its body; null when neither says. */
function updateModelOf(key: Buffer | null, value: Buffer | null): string | null {
  const fromKey = key?.toString('utf8');
  if (fromKey) return fromKey;
  try {
    const id = (JSON.parse(value?.toString('utf8') ?? '') as { model_id?: unknown }).model_id;
    return typeof id === 'string' && id.length > 0 && id.length <= 128 ? id : null;
  } catch {
    return null;
  }
}

function updateKeyOf(value: Buffer | null): string | null {
  try {
    const key = (JSON.parse(value?.toString('utf8') ?? '') as { idempotency_key?: unknown }).idempotency_key;
    return typeof key === 'string' && key.length > 0 && key.length <= 512 ? key : null;
  } catch {
    return null;
  }
}

/** POST /v1/score: `{ request_id?, model_id, features, … }` or an array of them → scores (and scoring events). */
export function scoreRoute(scorer: Scorer) {
  return (app: FastifyInstance, guard: Guard): void => {
    app.post('/v1/score', { onRequest: guard('operator') }, async (request, reply) => {
      const body = request.body;
      const items = (Array.isArray(body) ? body : [body]).map((item: unknown) =>
        item && typeof item === 'object' && !('request_id' in item)
          ? {
              ...item,
              request_id: `http-${createHash('sha256').update(`${Date.now()}:${Math.random()}`).digest('hex').slice(0, 20)}`,
            }
          : item,
      );
      const parsed = items.map((item) => scoringRequestSchema.safeParse(item));
      const bad = parsed.findIndex((p) => !p.success);
      if (bad >= 0) {
        const issues = parsed[bad]!.error!.issues.map((i) => `${i.path.join('.') || '(request)'}: ${i.message}`);
        return reply.code(400).send({ error: `request ${bad}: ${issues.join('; ')}` });
      }
      const results = await scorer.scoreAndEmit(
        parsed.map((p) => p.data!),
        'http',
      );
      if (results.length < parsed.length) {
        const scoredIds = new Set(results.map((r) => r.request_id));
        const missing = parsed.map((p) => p.data!).filter((r) => !scoredIds.has(r.request_id));
        return reply.code(results.length === 0 ? 404 : 207).send({
          results,
          unscored: missing.map((r) => ({
            request_id: r.request_id,
            model_id: r.model_id,
            error: 'no servable model version for this model',
          })),
        });
      }
      return { results };
    });
  };
}
