/**
 * The training-file format shared by every trainer (docs/trainers.md): CSV with a header
 * `event_id,<numeric features…>,<categorical features…>,label`, empty cells for missing values,
 * RFC 4180 quoting. Reading it back (csv-parse) gives typed rows for the built-in trainer.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { ValidationError } from '../platform/errors.ts';
import type { FeatureNames, RawFeatures } from '../platform/onnx/features.ts';
import { BINARY_TARGET, targetDescription, targetValue, type TrainingTarget } from './training-target.ts';

export const CSV_ID_COLUMN = 'event_id';
export const CSV_LABEL_COLUMN = 'label';

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const s = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : String(value);
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replaceAll('"', '""')}"` : s;
}

export function csvHeader(features: FeatureNames): string {
  return [CSV_ID_COLUMN, ...features.numeric, ...features.categorical, CSV_LABEL_COLUMN].map(cell).join(',') + '\n';
}

export function csvLine(
  features: FeatureNames,
  eventId: string,
  values: Readonly<Record<string, unknown>>,
  label: number | string,
): string {
  return (
    [eventId, ...features.numeric.map((f) => values[f]), ...features.categorical.map((f) => values[f]), label]
      .map(cell)
      .join(',') + '\n'
  );
}

export interface LabelledRows {
  eventIds: string[];
  rows: RawFeatures[];
  /** The target's number: 0/1, the class index in the declared order, or the value (training/training-target.ts). */
  labels: number[];
}

/**
 * Read a training/holdout CSV: numeric columns as numbers (empty → null), categorical as strings
 * (empty → null), labels as the target's numbers. @default target binary
 */
export async function readTrainingCsv(
  file: string,
  features: FeatureNames,
  target: TrainingTarget = BINARY_TARGET,
): Promise<LabelledRows> {
  const records = parse(await readFile(file), { columns: true, skip_empty_lines: true }) as Array<
    Record<string, string>
  >;
  const out: LabelledRows = { eventIds: [], rows: [], labels: [] };
  const numeric = new Set(features.numeric);
  const all = [...features.numeric, ...features.categorical];
  records.forEach((rec, i) => {
    const cell = rec[CSV_LABEL_COLUMN] ?? '';
    const label = targetValue(target, cell, null);
    if (label === null)
      throw new ValidationError(
        `${file} row ${i + 2}: label must be ${targetDescription(target)}, got ${JSON.stringify(rec[CSV_LABEL_COLUMN])}`,
      );
    const row: Record<string, number | string | null> = {};
    for (const name of all) {
      const raw = rec[name] ?? '';
      row[name] = raw === '' ? null : numeric.has(name) ? Number(raw) : raw;
    }
    out.eventIds.push(rec[CSV_ID_COLUMN] ?? '');
    out.rows.push(row);
    out.labels.push(label);
  });
  return out;
}
