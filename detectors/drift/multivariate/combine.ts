/** A window's per-feature drift report joined with its multivariate tests. */
import type { DriftReport } from '../report.ts';
import type { MultivariateDriftReport } from './report.ts';

/** Dataset drift when either the per-feature rule or a multivariate test says so; the tests are kept in the report. */
export function withMultivariate(report: DriftReport, multivariate: MultivariateDriftReport | null): DriftReport {
  if (!multivariate) return report;
  return { ...report, dataset_drift: report.dataset_drift || multivariate.dataset_drift, multivariate };
}
