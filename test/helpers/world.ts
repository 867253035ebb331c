import type { ClickHouseClient } from '@clickhouse/client';
import { ClickHouseIngestRepository } from '../../platform/clickhouse/ingest-repository.ts';
import { ClickHouseRegistryRepository } from '../../platform/clickhouse/registry-repository.ts';
import type { LabelRow, ScoringEventRow } from '../../platform/contracts.ts';
import { loadModelRunner, OnnxPool, type ModelRunner } from '../../platform/onnx/index.ts';
import { LocalArtifactStore } from '../../platform/registry/artifact-store.ts';
import { conceptScore, worldWindow, type DriftingWorldOptions } from '../../synthetic/drifting-world.ts';

/**
 * Production traffic for end-to-end monitor tests: each window's events come from a drifting
 * concept (synthetic/drifting-world.ts) and are scored by whatever version the registry says is
 * in production — the hand-made "v1" until halflife promotes a retrained version, whose real
 * ONNX artifact then scores the traffic. Events and labels go into ClickHouse as ingest stores them.
 */
export class SimulatedProduction {
  readonly #pool = new OnnxPool();
  readonly #registry: ClickHouseRegistryRepository;
  readonly #ingest: ClickHouseIngestRepository;
  readonly #artifacts: LocalArtifactStore;
  #runner: ModelRunner | null = null;
  readonly emitted = new Set<number>();

  constructor(
    readonly clickhouse: ClickHouseClient,
    readonly options: {
      modelId: string;
      dataDir: string;
      world: DriftingWorldOptions;
      eventsPerWindow: number;
      initialTheta: number;
      /**
       * Event ids are `<prefix>-<window start>-<i>`. The snapshot's holdout split and the
       * multivariate sample are hashes of event ids, so a test that asserts on a trained model
       * passes a fixed prefix: every run then trains and validates on the same rows.
       * @default modelId
       */
      eventIdPrefix?: string;
      /** How long after its event a label arrives (its label_ts). @default 60_000 */
      labelDelayMs?: number;
      /**
       * The hand-made version's name. One outside the registry's `v<n>` names never shares a name
       * with a version halflife registers. @default 'v1'
       */
      initialVersion?: string;
    },
  ) {
    this.#registry = new ClickHouseRegistryRepository(clickhouse);
    this.#ingest = new ClickHouseIngestRepository(clickhouse);
    this.#artifacts = LocalArtifactStore.forDataDir(options.dataDir);
  }

  /** Emit a window's events (once per window, however often it is asked for). */
  async emit(start: number, end: number): Promise<void> {
    if (this.emitted.has(start)) return;
    this.emitted.add(start);
    const rows = worldWindow(
      this.options.world,
      start,
      end,
      this.options.eventsPerWindow,
      this.options.eventIdPrefix ?? this.options.modelId,
    );
    const production = await this.#registry.productionVersion(this.options.modelId);
    let version = this.options.initialVersion ?? 'v1';
    let scores: number[];
    if (production) {
      if (this.#runner?.ref.version !== production.version) {
        this.#runner = await loadModelRunner(this.#pool, this.#artifacts, {
          modelId: production.modelId,
          version: production.version,
          artifactUri: production.artifactUri,
          sha256: production.sha256,
          features: production.features,
        });
      }
      version = production.version;
      scores = Array.from((await this.#runner.score(rows.map((r) => r.features))).scores);
    } else {
      scores = rows.map((r) => conceptScore(this.options.initialTheta, r.features));
    }
    const events: ScoringEventRow[] = rows.map((r, i) => ({
      event_id: r.eventId,
      model_id: this.options.modelId,
      model_version: version,
      ts: r.ts,
      subject_id: `subject-${i % 50}`,
      num_features: r.features,
      cat_features: {},
      missing_features: [],
      prediction_score: scores[i]!,
      prediction_class: null,
      prediction_value: null,
      metadata: {},
      contract_version: 1,
      source: 'test',
      source_ref: 'simulated-production',
    }));
    const labels: LabelRow[] = rows.map((r) => ({
      event_id: r.eventId,
      label: String(r.label),
      label_numeric: r.label,
      label_ts: r.ts + (this.options.labelDelayMs ?? 60_000),
      contract_version: 1,
      source: 'test',
      source_ref: 'simulated-production',
    }));
    await this.#ingest.insertScoringEvents(events);
    await this.#ingest.insertLabels(labels);
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}

/**
 * The monitor's activities with each window's traffic emitted by its model's world just before the
 * window is read, so a time-skipping monitor reads traffic that "happened" during its window. (The
 * constraint is a method so that any collectWindow whose input carries the window's model and bounds fits.)
 */
export function withWorldTraffic<
  A extends { collectWindow(input: { modelId: string; start: number; end: number }): Promise<unknown> },
>(activities: A, worlds: ReadonlyMap<string, SimulatedProduction>): A {
  return {
    ...activities,
    collectWindow: async (input: Parameters<A['collectWindow']>[0]) => {
      await worlds.get(input.modelId)?.emit(input.start, input.end);
      return activities.collectWindow(input);
    },
  };
}
