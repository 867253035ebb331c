/**
 * A window's feature counts over its reference's bins and the data-quality counts beside them, as
 * the monitor's window query returns them: the part of a window's observation every kind shares.
 */
import { categoricalProfile, numericWindowCounts, topValueOf } from '../drift/profiles.ts';
import type { CategoricalProfile, NumericCounts } from '../drift/profiles.ts';
import { windowQualityCounts, type TopValue } from '../drift/window-comparison.ts';
import { valueRuns } from '../drift/value-runs.ts';
import type { MonitorReference, WindowObservation } from '../monitor/types.ts';
import { numericColumn, type HistoryRow } from './history-row.ts';

export function windowFeatureCounts(
  rows: readonly Pick<HistoryRow<unknown, unknown>, 'features'>[],
  reference: { profiles: MonitorReference; rows: number } | null,
  /** The window's scores over the reference's score bins (binary), or null. */
  prediction: NumericCounts | null,
): Pick<WindowObservation, 'features' | 'quality'> {
  const profiles = reference?.profiles ?? null;
  const features: Record<string, NumericCounts | CategoricalProfile> = {};
  const topValues: Record<string, TopValue | null> = {};
  if (profiles) {
    for (const [name, profile] of Object.entries(profiles.features)) {
      if (profile.kind === 'numeric') {
        const column = numericColumn(rows, name);
        features[name] = numericWindowCounts(column, profile.cuts);
        // Counted for every feature here (in process it is cheap); SQL counts it for candidates only.
        // The rows are in time order (the backtest sorts them), so the runs are in event order.
        const values = column.map((v) => (v === null ? Number.NaN : v));
        const top = topValueOf(values);
        topValues[name] = top && { ...top, runs: valueRuns(values, top.value) };
      } else features[name] = categoricalProfile(rows.map((r) => r.features[name] ?? null));
    }
  }
  const quality =
    profiles && reference
      ? windowQualityCounts(
          {
            features: profiles.features,
            prediction: profiles.prediction,
            predictionClass: null,
            predictionValue: null,
            cappedCategorical: [],
            rowCount: reference.rows,
          },
          { rows: rows.length, features, prediction, predictionClass: null, predictionValue: null, typeViolations: {} },
          topValues,
        )
      : null;
  return { features, quality };
}
