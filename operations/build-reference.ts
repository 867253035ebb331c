/**
 * Build a reference from the events of a model in [start, end), entirely in SQL, and store it:
 * per numeric feature its cuts (numpy-'linear' reference quantiles, exactly as
 * detectors/drift/bins.ts `referenceBinEdges` computes them), counts and moments; per
 * categorical feature its label counts; the same for the prediction columns. Every later
 * window is counted into these cuts by one query (operations/window-drift.ts).
 */
import { createHash } from 'node:crypto';
import { DEFAULT_BIN_COUNT } from '../detectors/drift/bins.ts';
import { DEFAULT_MAX_CATEGORIES, OTHER_CATEGORY, capCategories } from '../detectors/drift/categories.ts';
import {
  numericReferenceProfile,
  toReferenceProfile,
  type CategoricalProfile,
  type NumericCounts,
  type NumericReferenceProfile,
} from '../detectors/drift/profiles.ts';
import { cutsFromOrderStatistics, quantilePlan } from '../detectors/drift/reference-cuts.ts';
import type { ReferenceProfiles } from '../detectors/drift/window-comparison.ts';
import type { ClickHouseClient } from '../platform/clickhouse/client.ts';
import type { EventWindow } from '../platform/clickhouse/event-window.ts';
import {
  orderStatistics,
  referenceTopValues,
  storeReference,
  windowColumns,
  type NumericColumn,
  type StoredReference,
} from '../platform/clickhouse/reference-repository.ts';
import { checkedTimeWindow, type TimeBound } from '../platform/clickhouse/time-window.ts';
import { countWindowColumns } from '../platform/clickhouse/window-repository.ts';
import { NotFoundError, ValidationError } from '../platform/errors.ts';

export interface BuildReferenceOptions {
  modelId: string;
  /** Only events of this model version. @default all versions */
  modelVersion?: string;
  start: TimeBound;
  end: TimeBound;
  /** Reference-quantile bins per numeric feature. @default 20 */
  nBins?: number;
  /** Labels kept per categorical feature (most frequent first). @default 1000 */
  maxCategories?: number;
  /** Only these features. @default every feature seen in the window */
  features?: readonly string[];
  /** Read `scoring_events FINAL` (exact after duplicate events). @default true */
  final?: boolean;
  /** Override the id. @default derived from the inputs, so a retried build is idempotent */
  referenceId?: string;
  /**
   * The version's own scores for the prediction profile, when the window's events were scored by
   * another version (a reference built from a retrain's training data); empty: no prediction
   * profile. @default the events' stored scores
   */
  predictionScores?: readonly number[];
}

/** Deterministic id of a reference build, so a retried activity writes the same row. */
export function referenceIdFor(inputs: {
  modelId: string;
  modelVersion: string;
  start: number;
  end: number;
  nBins: number;
  maxCategories: number;
  features?: readonly string[];
  predictionScores?: readonly number[];
}): string {
  const key = JSON.stringify([
    inputs.modelId,
    inputs.modelVersion,
    inputs.start,
    inputs.end,
    inputs.nBins,
    inputs.maxCategories,
    inputs.features ? [...inputs.features].sort() : null,
    // Only when given, so the ids of references built from stored scores stay as they were.
    ...(inputs.predictionScores === undefined
      ? []
      : [createHash('sha256').update(inputs.predictionScores.join(',')).digest('hex')]),
  ]);
  return `ref_${createHash('sha256').update(key).digest('hex').slice(0, 20)}`;
}

/** What to count in one pass of the build: the reference's shape with (or without) its cuts. */
type Skeleton = Pick<ReferenceProfiles, 'features' | 'prediction' | 'predictionClass' | 'predictionValue'>;

const emptyNumeric = (cuts: number[] = []): NumericReferenceProfile => ({
  kind: 'numeric',
  cuts,
  counts: [0],
  missing: 0,
  min: 0,
  max: 0,
  mean: 0,
  std: 0,
});
const emptyCategorical = (): CategoricalProfile => ({ kind: 'categorical', counts: {}, missing: 0 });

/**
 * Build a reference from the events of `modelId` in [start, end), store it in `references` and
 * return it. Five aggregate queries, none returning rows:
 *  1. which features exist and in which map (numeric vs categorical by majority);
 *  2. the window count query with empty cuts: finite count, min and max per numeric column,
 *     label counts per categorical column;
 *  3. the exact order statistics behind each numeric column's quantile cuts;
 *  4. the window count query over the new cuts: the reference's own counts and moments,
 *     computed by exactly the SQL that will count every later window;
 *  5. each numeric feature's most frequent value share (the stuck-value baseline).
 * Then one insert. Throws ValidationError on bad options and NotFoundError when the window
 * holds no events.
 */
export async function buildReference(
  client: ClickHouseClient,
  options: BuildReferenceOptions,
): Promise<StoredReference> {
  const nBins = options.nBins ?? DEFAULT_BIN_COUNT;
  const maxCategories = options.maxCategories ?? DEFAULT_MAX_CATEGORIES;
  if (!Number.isInteger(nBins) || nBins < 1 || nBins > 1000)
    throw new ValidationError(`nBins must be an integer in 1..1000, got ${nBins}`);
  if (!Number.isInteger(maxCategories) || maxCategories < 2)
    throw new ValidationError(`maxCategories must be an integer ≥ 2, got ${maxCategories}`);
  const { start, end } = checkedTimeWindow(options.start, options.end);
  const window: EventWindow = {
    modelId: options.modelId,
    modelVersion: options.modelVersion,
    start,
    end,
    final: options.final,
  };
  const count = (skeleton: Skeleton) =>
    countWindowColumns(client, { ...skeleton, cappedCategorical: [], otherCategory: OTHER_CATEGORY }, window);

  // 1. Discovery: per key, the rows holding it in each map; which prediction columns exist.
  const discovery = await windowColumns(client, window);
  const rowCount = discovery.rows;
  if (!(rowCount > 0)) {
    throw new NotFoundError(
      `no scoring events for model ${options.modelId} between ${new Date(start).toISOString()} and ${new Date(end).toISOString()}: nothing to build a reference from`,
    );
  }
  const numPresent = discovery.numericPresent;
  const catPresent = discovery.categoricalPresent;
  const wanted = options.features ? new Set(options.features) : undefined;
  const names = [...new Set([...Object.keys(numPresent), ...Object.keys(catPresent)])]
    .filter((n) => !wanted || wanted.has(n))
    .sort();
  if (wanted) {
    const absent = [...wanted].filter((n) => !names.includes(n));
    if (absent.length > 0)
      throw new ValidationError(`features not present in the reference window: ${absent.join(', ')}`);
  }
  // A key seen in both maps (a producer sending strings sometimes) takes the majority kind;
  // the minority then shows up as type violations.
  const isNumeric = (n: string): boolean => (numPresent[n] ?? 0) >= (catPresent[n] ?? 0);

  // 2. A first pass with empty cuts (every finite value in bin 0) gives each numeric
  // column's finite count, min and max, and every categorical column's label counts.
  const skeleton: Skeleton = {
    features: Object.fromEntries(names.map((n) => [n, isNumeric(n) ? emptyNumeric() : emptyCategorical()])),
    // Given the version's own scores, the stored ones (another version's) are not counted at all.
    prediction: discovery.predictions.score > 0 && options.predictionScores === undefined ? emptyNumeric() : null,
    predictionClass: discovery.predictions.class > 0 ? emptyCategorical() : null,
    predictionValue: discovery.predictions.value > 0 ? emptyNumeric() : null,
  };
  const first = await count(skeleton);

  // 3. Cuts from exact order statistics (detectors/drift/reference-cuts.ts).
  const columns: { id: string; column: NumericColumn; counts: NumericCounts }[] = [];
  for (const n of names) {
    const c = first.features[n];
    if (isNumeric(n) && c && !('kind' in c)) columns.push({ id: `n:${n}`, column: { feature: n }, counts: c });
  }
  if (first.prediction) columns.push({ id: 'p:score', column: { prediction: 'score' }, counts: first.prediction });
  if (first.predictionValue)
    columns.push({ id: 'p:value', column: { prediction: 'value' }, counts: first.predictionValue });
  const planned = columns
    .map((c) => ({ ...c, n: c.counts.counts[0] ?? 0 }))
    .filter((c) => c.n > 0)
    .map((c) => ({ ...c, plan: quantilePlan(c.n, nBins) }));
  const statistics = await orderStatistics(
    client,
    window,
    planned.map((c) => ({ column: c.column, levels: c.plan.levels })),
  );
  const cutsById = new Map(
    planned.map((c, i) => [
      c.id,
      cutsFromOrderStatistics(c.plan, statistics[i] ?? [], c.counts.min ?? 0, c.counts.max ?? 0),
    ]),
  );

  // 4. The reference's own counts and moments over its cuts: the query every window runs.
  const second = await count({
    features: Object.fromEntries(
      names.map((n) => [n, isNumeric(n) ? emptyNumeric(cutsById.get(`n:${n}`) ?? []) : emptyCategorical()]),
    ),
    prediction: skeleton.prediction ? emptyNumeric(cutsById.get('p:score') ?? []) : null,
    predictionValue: skeleton.predictionValue ? emptyNumeric(cutsById.get('p:value') ?? []) : null,
    predictionClass: null,
  });

  // 5. Each numeric feature's most frequent value share: the stuck-value check's baseline.
  const topValues = await referenceTopValues(client, window, names.filter(isNumeric));

  const features: StoredReference['features'] = {};
  const cappedCategorical: string[] = [];
  for (const n of names) {
    const c = isNumeric(n) ? second.features[n] : first.features[n];
    if (!c) continue;
    if ('kind' in c) {
      const capped = capCategories(c, maxCategories);
      features[n] = capped.profile;
      if (capped.capped) cappedCategorical.push(n);
    } else {
      const top = topValues[n] ?? null;
      features[n] = {
        ...toReferenceProfile(c, cutsById.get(`n:${n}`) ?? []),
        topShare: top?.share ?? null,
        topValue: top?.value ?? null,
      };
    }
  }
  const modelVersion = options.modelVersion ?? '';
  const reference: StoredReference = {
    referenceId:
      options.referenceId ??
      referenceIdFor({
        modelId: options.modelId,
        modelVersion,
        start,
        end,
        nBins,
        maxCategories,
        features: options.features,
        predictionScores: options.predictionScores,
      }),
    modelId: options.modelId,
    modelVersion,
    createdAt: Date.now(),
    start,
    end,
    rowCount,
    nBins,
    maxCategories,
    features,
    prediction:
      options.predictionScores !== undefined
        ? options.predictionScores.length > 0
          ? numericReferenceProfile(options.predictionScores, nBins)
          : null
        : second.prediction
          ? toReferenceProfile(second.prediction, cutsById.get('p:score') ?? [])
          : null,
    // Predicted classes are few by nature; never capped.
    predictionClass: first.predictionClass ?? null,
    predictionValue: second.predictionValue
      ? toReferenceProfile(second.predictionValue, cutsById.get('p:value') ?? [])
      : null,
    cappedCategorical,
  };

  // 6. Store (a few KB of JSON).
  await storeReference(client, reference);
  return reference;
}
