/**
 * The training-file format shared by every trainer (docs/trainers.md): CSV with a header
 * `event_id,<numeric features…>,<categorical features…>,label`, empty cells for missing values,
 * RFC 4180 quoting. Reading it back (csv-parse) gives typed rows for the built-in trainer.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { ValidationError } from '../platform/errors.ts';
import type { FeatureNames, RawFeatures } from '../platform/onnx/features.ts';

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
  label: number,
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
  labels: number[];
}

/** Read a training/holdout CSV: numeric columns as numbers (empty → null), categorical as strings (empty → null). */
export async function readTrainingCsv(file: string, features: FeatureNames): Promise<LabelledRows> {
  const records = parse(await readFile(file), { columns: true, skip_empty_lines: true }) as Array<
    Record<string, string>
  >;
  const out: LabelledRows = { eventIds: [], rows: [], labels: [] };
  const numeric = new Set(features.numeric);
  const all = [...features.numeric, ...features.categorical];
  records.forEach((rec, i) => {
    const label = Number(rec[CSV_LABEL_COLUMN]);
    if (label !== 0 && label !== 1)
      throw new ValidationError(
        `${file} row ${i + 2}: label must be 0 or 1, got ${JSON.stringify(rec[CSV_LABEL_COLUMN])}`,
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
