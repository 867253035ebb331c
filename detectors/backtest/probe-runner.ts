/**
 * Challenger probes in the backtest, run as the monitor runs them: when a decision asks for a
 * probe, a challenger is trained with the backtest's trainer on the decision's training window
 * (the window a retrain would train on, labels arrived by the decision), never served, and each
 * following window's rows are scored by champion and challenger; at each close the pairs whose
 * labels have arrived by then (this window's and earlier probe windows' late ones) go to the
 * monitor's probe memory — a binary model's as paired counts, a multiclass or regression model's
 * as paired loss sums in the policy's metric (probes/outcome-gap.ts) — which reads the gap.
 */
import type { MonitorState } from '../monitor/types.ts';
import type { PolicyDecision } from '../policy/state.ts';
import { pairOutcomes, type OutcomeKind as PairedKind } from '../promotion/outcome-pairs.ts';
import {
  pairedOutcomeSumsOf,
  probeLossOf,
  type OutcomeProbeMetric,
  type PairedOutcomeSums,
} from '../probes/outcome-gap.ts';
import { pairedCountsOf } from '../probes/paired-gap.ts';
import type { ResolvedProbePolicy } from '../probes/policy.ts';
import { abandonProbe, failProbe, recordProbeWindow, startProbe } from '../probes/progress.ts';
import type { PairedCounts, ProbeResult } from '../probes/types.ts';
import type { OutcomePrediction } from './outcome-rows.ts';
import type { OutcomeBacktestRow, OutcomeModel } from './outcome-types.ts';
import type { BacktestModel, BacktestProbeRecord, BacktestRow } from './types.ts';

/** A row both models predicted whose label has not arrived yet. */
export interface PendingPair<Prediction> {
  arrival: number;
  label: number;
  champion: Prediction;
  challenger: Prediction;
}

/** What differs by kind: the challenger's prediction of a row, and how arrived pairs are counted. */
export interface ProbePairing<Row, Prediction, Model> {
  predict(model: Model, row: Row): Prediction;
  pair(ready: readonly PendingPair<Prediction>[]): PairedCounts | PairedOutcomeSums;
  /** A multiclass or regression probe's metric (binary: none, paired correctness). @default undefined */
  outcomeMetric?: { metric: OutcomeProbeMetric; worthlessError: number | null };
}

/** A binary model's probe: scores clamped to [0, 1], correctness at 0.5. */
export const BINARY_PAIRING: ProbePairing<BacktestRow, number, BacktestModel> = {
  predict: (model, row) => clamp(model.predict(row.features)),
  pair: (ready) =>
    pairedCountsOf(
      ready.map((p) => p.label),
      ready.map((p) => p.champion),
      ready.map((p) => p.challenger),
    ),
};

/** A multiclass or regression model's probe: each side's per-event loss in the policy's metric, summed. */
export function outcomePairing(
  kind: PairedKind,
  metric: OutcomeProbeMetric,
  worthlessError: number | null,
): ProbePairing<OutcomeBacktestRow, OutcomePrediction, OutcomeModel> {
  const output = (p: OutcomePrediction): number[] => (typeof p === 'number' ? [p] : [...p]);
  return {
    predict: (model, row) => model.predict(row.features),
    outcomeMetric: { metric, worthlessError },
    pair: (ready) => {
      const pairs = pairOutcomes(
        kind,
        probeLossOf(metric),
        ready.map((p) => ({ truth: p.label, champion: output(p.champion), challenger: output(p.challenger) })),
      );
      return pairedOutcomeSumsOf(metric, worthlessError, pairs.truth, pairs.championLosses, pairs.challengerLosses);
    },
  };
}

export class BacktestProbes<
  Row extends { label: number | null } = BacktestRow,
  Prediction = number,
  Model = BacktestModel,
> {
  private challenger: Model | null = null;
  private pending: PendingPair<Prediction>[] = [];
  /** Probes started (each priced at the policy's probe cost in `trueCost`). */
  started = 0;

  constructor(
    private readonly policy: ResolvedProbePolicy,
    private readonly pairing: ProbePairing<Row, Prediction, Model>,
  ) {}

  get probeCost(): number {
    return this.policy.probeCost;
  }

  /**
   * Score the closing window with both models (before the tick, so its decision sees the
   * result). `championScores` are the serving model's scores of `rows`.
   */
  scoreWindow(
    state: MonitorState,
    rows: readonly Row[],
    championScores: readonly Prediction[],
    arrivalOf: (row: Row) => number,
    now: number,
  ): { state: MonitorState; record: BacktestProbeRecord | null } {
    const inFlight = state.probes?.inFlight ?? null;
    if (inFlight === null || this.challenger === null) return { state, record: null };
    if (inFlight.version !== state.version) {
      this.drop();
      return { state: { ...state, probes: abandonProbe(state.probes) }, record: null };
    }
    rows.forEach((r, i) => {
      if (r.label === null) return;
      this.pending.push({
        arrival: arrivalOf(r),
        label: r.label,
        champion: championScores[i] as Prediction,
        challenger: this.pairing.predict(this.challenger!, r),
      });
    });
    const ready = this.pending.filter((p) => p.arrival < now);
    this.pending = this.pending.filter((p) => p.arrival >= now);
    const counts = this.pairing.pair(ready);
    const { memory, result } = recordProbeWindow(state.probes!, counts, now, this.policy);
    if (result !== null) this.drop();
    return {
      state: { ...state, probes: memory },
      record: { id: inFlight.id, scored: counts.events, ...(result === null ? {} : { result }) },
    };
  }

  /** The decision asks for a probe: train the challenger on its training window. */
  start(
    state: MonitorState,
    decision: PolicyDecision,
    trainingRows: readonly Row[],
    train: (rows: readonly Row[]) => { model: Model } | { error: string },
    now: number,
  ): { state: MonitorState; record: BacktestProbeRecord | null } {
    const plan = decision.probe;
    if (plan === undefined || state.version === null) return { state, record: null };
    this.started += 1;
    this.pending = [];
    const probe = {
      version: state.version,
      versionTrainedAt: state.versionTrainedAt,
      now,
      trainingStart: decision.trainingWindow.start,
      trainingEnd: decision.trainingWindow.end,
      plan,
      ...(this.pairing.outcomeMetric === undefined ? {} : { outcomeMetric: this.pairing.outcomeMetric }),
    };
    const trained = train(trainingRows);
    if ('error' in trained) {
      this.drop();
      const memory = failProbe(state.probes, probe, trained.error);
      return {
        state: { ...state, probes: memory },
        record: {
          id: `${probe.version}@${now}`,
          started: { ...plan, trainingStart: probe.trainingStart, trainingEnd: probe.trainingEnd, trainingRows: 0 },
          result: memory.results.at(-1) as ProbeResult,
        },
      };
    }
    this.challenger = trained.model;
    const memory = startProbe(state.probes, probe);
    return {
      state: { ...state, probes: memory },
      record: {
        id: memory.inFlight?.id ?? `${probe.version}@${now}`,
        started: {
          ...plan,
          trainingStart: probe.trainingStart,
          trainingEnd: probe.trainingEnd,
          trainingRows: trainingRows.length,
        },
      },
    };
  }

  /** A retrain replaced the champion, or the probe finished. */
  drop(): void {
    this.challenger = null;
    this.pending = [];
  }
}

function clamp(p: number): number {
  return Number.isFinite(p) ? Math.min(1, Math.max(0, p)) : 0.5;
}
