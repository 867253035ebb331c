/**
 * The multivariate drift of a window against its reference: a hash sample of each (the
 * reference's read once per process and kept), and the tests of detectors/drift/multivariate on
 * them. Called by the monitor's window read (activities/monitor.ts) and by `halflife drift`.
 */
import { multivariateDrift, type MultivariateDriftReport } from '../detectors/drift/multivariate/report.ts';
import type { SampledRows } from '../detectors/drift/multivariate/sample.ts';
import {
  DEFAULT_MULTIVARIATE_SETTINGS,
  type MultivariateDriftSettings,
} from '../detectors/drift/multivariate/settings.ts';
import type { ReferenceProfiles } from '../detectors/drift/window-comparison.ts';
import type { ClickHouseClient } from '../platform/clickhouse/client.ts';
import type { EventWindow } from '../platform/clickhouse/event-window.ts';
import { sampleWindowRows, type SampleColumns } from '../platform/clickhouse/row-sample-repository.ts';
import { vectorDeclarations } from '../platform/clickhouse/vector-features-repository.ts';

/**
 * The reference's features by kind, in name order (the prediction columns are not features), and
 * the model's declared vector features (the reference's profiles hold scalar features only).
 */
export function sampleColumnsOf(
  reference: Pick<ReferenceProfiles, 'features'>,
  vectors: readonly string[] = [],
): SampleColumns {
  const names = Object.keys(reference.features).sort();
  return {
    numeric: names.filter((n) => reference.features[n]?.kind === 'numeric'),
    categorical: names.filter((n) => reference.features[n]?.kind === 'categorical'),
    vectors: [...vectors].sort(),
  };
}

/** Reference samples already read, by reference and sample size (a reference never changes once stored). */
export type ReferenceSampleCache = Map<string, Promise<SampledRows>>;

export interface MultivariateWindowInput {
  /** The stored reference: its profiles say which features, its bounds which rows. */
  reference: Pick<ReferenceProfiles, 'features'> & {
    referenceId: string;
    modelId: string;
    modelVersion: string;
    start: number;
    end: number;
  };
  window: { modelId: string; start: number; end: number };
  settings: Partial<MultivariateDriftSettings>;
  /** Read `scoring_events FINAL`. @default true */
  final?: boolean;
  /** Vector features to read. @default the window model's declared vector features */
  vectors?: readonly string[];
}

/** Reference samples a process keeps (each ≤ sampleRows × features values). */
const MAX_CACHED_REFERENCES = 64;

/** Null when the tests are off or nothing could be compared. */
export async function multivariateWindowDrift(
  client: ClickHouseClient,
  input: MultivariateWindowInput,
  cache: ReferenceSampleCache = new Map(),
): Promise<MultivariateDriftReport | null> {
  const settings = { ...DEFAULT_MULTIVARIATE_SETTINGS, ...input.settings };
  if (!settings.enabled) return null;
  const declared = input.vectors ?? [
    ...((await vectorDeclarations(client, input.window.modelId)).get(input.window.modelId)?.keys() ?? []),
  ];
  const columns = sampleColumnsOf(input.reference, declared);
  if (columns.numeric.length + columns.categorical.length + (columns.vectors?.length ?? 0) === 0) return null;
  const final = input.final ?? true;
  const key = `${input.reference.referenceId}/${settings.sampleRows}/${(columns.vectors ?? []).join(',')}`;
  let reference = cache.get(key);
  if (!reference) {
    const events: EventWindow = {
      modelId: input.reference.modelId,
      ...(input.reference.modelVersion ? { modelVersion: input.reference.modelVersion } : {}),
      start: input.reference.start,
      end: input.reference.end,
      final,
    };
    reference = sampleWindowRows(client, events, columns, settings.sampleRows);
    reference.catch(() => cache.delete(key));
    cache.set(key, reference);
    // Oldest first: a long-lived worker keeps the references of the models it monitors now.
    for (const old of cache.keys()) {
      if (cache.size <= MAX_CACHED_REFERENCES) break;
      cache.delete(old);
    }
  }
  const window = await sampleWindowRows(
    client,
    { modelId: input.window.modelId, start: input.window.start, end: input.window.end, final },
    columns,
    settings.sampleRows,
  );
  return multivariateDrift(await reference, window, settings);
}
