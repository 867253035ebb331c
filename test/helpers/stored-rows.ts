/**
 * Scoring events and labels as stored (platform/contracts.ts rows), for tests that write them
 * straight into ClickHouse: every column a plain default, so a test names only what it is about.
 */
import type { LabelRow, ScoringEventRow } from '../../platform/contracts.ts';

/** A scored event: a binary model's 0.5 score, no features, no subject, unless given. */
export function scoringEventRow(
  row: Pick<ScoringEventRow, 'event_id' | 'model_id' | 'ts'> & Partial<ScoringEventRow>,
): ScoringEventRow {
  return {
    model_version: 'v1',
    subject_id: '',
    num_features: {},
    cat_features: {},
    missing_features: [],
    prediction_score: 0.5,
    prediction_class: null,
    prediction_value: null,
    metadata: {},
    contract_version: 1,
    source: 'test',
    source_ref: '',
    ...row,
  };
}

/** A label: binary "1" (numeric 1) unless given. */
export function labelRow(row: Pick<LabelRow, 'event_id' | 'label_ts'> & Partial<LabelRow>): LabelRow {
  return {
    label: '1',
    label_numeric: 1,
    contract_version: 1,
    source: 'test',
    source_ref: '',
    ...row,
  };
}
