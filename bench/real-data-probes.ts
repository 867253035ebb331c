/**
 * What each challenger probe of a real-data run bought (issue 12; BENCHMARKS.md, "Rule revision 10").
 *
 * Reads the `halflife backtest --json` report of a cost-aware run of one of bench/real-data.ts's
 * datasets and lists every probe: the window it started after, its kind, the value and cost the rule
 * weighed, its result, and what followed. Each probe is then priced in hindsight: the retrain it
 * stood for — a model trained on the probe's own training window (the labels arrived by then), as
 * the engine would have trained it — serving from the next window until the run's next retrain or
 * the end of the history, against what the run actually served there. `saved` is the staleness that
 * retrain would have saved; it pays when saved > C. A probe that held a retrain that would not have
 * paid bought C − saved; one that let through a retrain that pays, or explored and found nothing, bought
 * no change of decision. The challenger's gap on the probe's own windows is checked against this
 * model's, so the pricing is the probe's model.
 *
 * Usage: npx tsx bench/real-data-probes.ts --dataset flight-delays --report run.json --retrain-cost 150
 *          [--dir .halflife/real-data] [--json]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { qualityOf } from '../detectors/backtest/binary-quality.ts';
import { trainVersion } from '../detectors/backtest/binary-training.ts';
import type { BacktestRow } from '../detectors/backtest/types.ts';
import { parseDuration } from '../detectors/policy/duration.ts';
import { builtInTrainer } from '../training/backtest-trainer.ts';
import { DATASETS, readRows } from './real-data.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

interface ReportProbe {
  id: string;
  started?: {
    kind: string;
    reason: string;
    value: number;
    cost: number;
    training_start: string | null;
    training_end: string;
  };
  result?: {
    verdict: string;
    gap: number | null;
    interval: { lower: number | null; upper: number | null; level: number };
    events: number;
    windows: number;
  };
}
interface ReportWindow {
  start: string;
  end: string;
  events: number;
  version: string;
  hindsight_quality: number | null;
  drift: { detected: boolean } | null;
  probe?: ReportProbe;
}
interface Report {
  decisions: { time: string; kind: string; reason: string }[];
  windows: ReportWindow[];
  cost_model: { retrain_cost: number } | null;
}

export interface ProbeLine {
  window: number;
  at: string;
  kind: string;
  value: number;
  cost: number;
  reason: string;
  verdict: string | null;
  gap: number | null;
  lower: number | null;
  upper: number | null;
  events: number | null;
  /** The same gap from the hindsight model on the probe's windows (a check: equal up to rounding). */
  hindsightGap: number | null;
  /** Windows with dataset drift since the previous probe's result (what lapses a standing measurement). */
  driftSince: number;
  followed: string;
  /** Staleness a retrain at the probe's start would have saved, to the run's next retrain or the end. */
  saved: number;
}

const log = (line: string): void => void process.stderr.write(`[real-data-probes] ${line}\n`);

export async function probeLines(datasetName: string, report: Report, dir: string): Promise<ProbeLine[]> {
  const spec = DATASETS.find((d) => d.name === datasetName);
  if (!spec) throw new Error(`unknown dataset ${datasetName}`);
  const rows = await readRows(path.join(dir, `${spec.name}.csv`), spec);
  const windows = report.windows.map((w) => ({
    start: Date.parse(w.start),
    end: Date.parse(w.end),
    rows: [] as BacktestRow[],
  }));
  let i = 0;
  for (const r of rows) {
    while (i < windows.length && r.time >= (windows[i] as { end: number }).end) i++;
    if (i >= windows.length) break;
    if (r.time >= (windows[i] as { start: number }).start) (windows[i] as { rows: BacktestRow[] }).rows.push(r);
  }
  const labelDelayMs = spec.labelDelay === undefined ? 0 : parseDuration(spec.labelDelay);
  const settings = { qualityMetric: 'accuracy' as const };
  const trainer = builtInTrainer();
  const retrainTimes = report.decisions.filter((d) => d.kind === 'retrain').map((d) => Date.parse(d.time));
  const lines: ProbeLine[] = [];
  let lastResultAt = Number.NEGATIVE_INFINITY;
  for (let w = 0; w < report.windows.length; w++) {
    const probe = report.windows[w]?.probe;
    if (probe?.started === undefined) continue;
    const started = probe.started;
    const decidedAt = (windows[w] as { end: number }).end;
    const from = started.training_start === null ? null : Date.parse(started.training_start);
    const to = Date.parse(started.training_end);
    const training = rows.filter(
      (r) =>
        (from === null || r.time >= from) &&
        r.time < to &&
        r.label !== null &&
        (r.labelTime ?? r.time + labelDelayMs) < decidedAt,
    );
    const trained = trainVersion(trainer, training, spec.numeric, spec.categorical, 1, 0.2, settings);
    if ('error' in trained) throw new Error(`${spec.name}, probe after window ${w}: ${trained.error}`);
    const quality = (t: number): number | null => {
      const ws = (windows[t] as { rows: BacktestRow[] }).rows;
      return qualityOf(
        ws.map((r) => Math.min(1, Math.max(0, trained.model.predict(r.features)))),
        ws.map((r) => r.label),
        settings,
      );
    };
    const nextRetrain = retrainTimes.find((t) => t >= decidedAt) ?? Number.POSITIVE_INFINITY;
    let saved = 0;
    for (let t = w + 1; t < report.windows.length && (windows[t] as { start: number }).start < nextRetrain; t++) {
      const served = report.windows[t]?.hindsight_quality ?? null;
      const fresh = quality(t);
      if (served !== null && fresh !== null) saved += (report.windows[t]?.events ?? 0) * (fresh - served);
    }
    // The probe's result and the gap the hindsight model shows on the same windows.
    let resultWindow = -1;
    for (let t = w + 1; t < report.windows.length; t++)
      if (report.windows[t]?.probe?.id === probe.id && report.windows[t]?.probe?.result !== undefined) {
        resultWindow = t;
        break;
      }
    const result = resultWindow >= 0 ? (report.windows[resultWindow]?.probe?.result ?? null) : null;
    let hindsightGap: number | null = null;
    if (result !== null) {
      let events = 0;
      let diff = 0;
      for (let t = w + 1; t <= resultWindow; t++) {
        const served = report.windows[t]?.hindsight_quality ?? null;
        const fresh = quality(t);
        const n = (windows[t] as { rows: BacktestRow[] }).rows.filter((r) => r.label !== null).length;
        if (served !== null && fresh !== null) {
          events += n;
          diff += n * (fresh - served);
        }
      }
      hindsightGap = events > 0 ? diff / events : null;
    }
    const driftSince = report.windows.filter(
      (x, t) => t <= w && Date.parse(x.start) >= lastResultAt && x.drift?.detected === true,
    ).length;
    const after = resultWindow >= 0 ? resultWindow : w;
    const next = report.decisions.find((d) => Date.parse(d.time) > (windows[after] as { end: number }).end - 1);
    const retrainAfter = retrainTimes.find((t) => t >= (windows[after] as { end: number }).end);
    const followed =
      retrainAfter !== undefined &&
      retrainAfter - (windows[after] as { end: number }).end < 7 * parseDuration(spec.cadence)
        ? `retrain ${new Date(retrainAfter).toISOString().slice(0, 10)}`
        : `${next?.kind ?? 'end'}: ${(next?.reason ?? '').slice(0, 140)}`;
    if (resultWindow >= 0) lastResultAt = (windows[resultWindow] as { end: number }).end;
    lines.push({
      window: w,
      at: new Date(decidedAt).toISOString().slice(0, 10),
      kind: started.kind,
      value: started.value,
      cost: started.cost,
      reason: started.reason,
      verdict: result?.verdict ?? null,
      gap: result?.gap ?? null,
      lower: result?.interval.lower ?? null,
      upper: result?.interval.upper ?? null,
      events: result?.events ?? null,
      hindsightGap,
      driftSince,
      followed,
      saved,
    });
    log(`${spec.name}: probe after window ${w} priced`);
  }
  return lines;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dataset: { type: 'string' },
      report: { type: 'string' },
      'retrain-cost': { type: 'string' },
      dir: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (values.dataset === undefined || values.report === undefined)
    throw new Error('usage: --dataset NAME --report FILE [--retrain-cost C] [--dir D] [--json]');
  const report = JSON.parse(readFileSync(values.report, 'utf8')) as Report;
  const dir = path.resolve(values.dir ?? path.join(ROOT, '.halflife', 'real-data'));
  const lines = await probeLines(values.dataset, report, dir);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(lines, null, 2)}\n`);
    return;
  }
  const c = Number(values['retrain-cost'] ?? report.cost_model?.retrain_cost ?? Number.NaN);
  const f = (x: number | null, d = 3): string => (x === null ? '–' : x.toFixed(d));
  for (const l of lines)
    process.stdout.write(
      `${values.dataset} C=${c} w${l.window} ${l.at} ${l.kind} value ${f(l.value, 1)} cost ${f(l.cost, 1)} → ${l.verdict ?? 'unfinished'} gap ${f(l.gap)} [${f(l.lower)}, ${f(l.upper)}] n=${l.events ?? '–'} (hindsight ${f(l.hindsightGap)}); drift windows since last result ${l.driftSince}; retrain then would save ${l.saved.toFixed(0)} (${l.saved > c ? 'pays' : 'does not pay'}); then ${l.followed}\n    ${l.reason}\n`,
    );
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.join(ROOT, 'bench', 'real-data-probes.ts'))
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
