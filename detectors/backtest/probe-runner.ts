/**
 * Challenger probes in the backtest, run as the monitor runs them: when a decision asks for a
 * probe, a challenger is trained with the backtest's trainer on the decision's training window
 * (the window a retrain would train on, labels arrived by the decision), never served, and each
 * following window's rows are scored by champion and challenger; at each close the pairs whose
 * labels have arrived by then (this window's and earlier probe windows' late ones) go to the
 * monitor's probe memory as paired counts, which reads the gap.
 */
import type { MonitorState } from '../monitor/types.ts';
import type { PolicyDecision } from '../policy/state.ts';
import { pairedCountsOf } from '../probes/paired-gap.ts';
import type { ResolvedProbePolicy } from '../probes/policy.ts';
import { abandonProbe, failProbe, recordProbeWindow, startProbe } from '../probes/progress.ts';
import type { ProbeResult } from '../probes/types.ts';
import type { BacktestModel, BacktestProbeRecord, BacktestRow } from './types.ts';

/** A row both models scored whose label has not arrived yet. */
interface PendingPair {
  arrival: number;
  label: number;
  champion: number;
  challenger: number;
}

export class BacktestProbes {
  private challenger: BacktestModel | null = null;
  private pending: PendingPair[] = [];
  /** Probes started (each priced at the policy's probe cost in `trueCost`). */
  started = 0;

  constructor(private readonly policy: ResolvedProbePolicy) {}

  get probeCost(): number {
    return this.policy.probeCost;
  }

  /**
   * Score the closing window with both models (before the tick, so its decision sees the
   * result). `championScores` are the serving model's scores of `rows`.
   */
  scoreWindow(
    state: MonitorState,
    rows: readonly BacktestRow[],
    championScores: readonly number[],
    arrivalOf: (row: BacktestRow) => number,
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
        champion: championScores[i] as number,
        challenger: clamp(this.challenger!.predict(r.features)),
      });
    });
    const ready = this.pending.filter((p) => p.arrival < now);
    this.pending = this.pending.filter((p) => p.arrival >= now);
    const counts = pairedCountsOf(
      ready.map((p) => p.label),
      ready.map((p) => p.champion),
      ready.map((p) => p.challenger),
    );
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
    trainingRows: readonly BacktestRow[],
    train: (rows: readonly BacktestRow[]) => { model: BacktestModel } | { error: string },
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
