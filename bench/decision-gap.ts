/**
 * Where does cost-aware lose against the oracle? An exact decomposition of the cost gap between
 * two retrain schedules priced on the same cost model (used by `bench/tune-decisions.ts --explain`).
 *
 * Per window t, let k(t) and o(t) be the steps at which the serving models of the policy and of
 * the oracle were trained. Then
 *
 *   gap = Σ_t [stale(k(t), t) − stale(o(t), t)] + C × (retrains − oracle retrains)
 *
 * and each window's term is zero when k(t) = o(t). Oracle retrains are matched to the policy's:
 * oracle retrain o_i is matched by the first unmatched policy retrain in [o_i − 2, o_{i+1}).
 * Windows where the policy serves an *older* model than the oracle are charged to the oracle
 * retrain it has not yet followed: `delay` when a matched retrain comes later (detection delay),
 * `missed` when none does. Windows where it serves a *newer* model are charged to the policy's
 * retrain: `ahead` for a matched retrain that came before the oracle's, `extra` for an unmatched
 * one (a retrain the oracle did not make). Once both have made a matched pair's retrain, at
 * different steps, the difference is `model` (the two trained models differ: which one turned out
 * luckier, and the later one's extra freshness). The retrain-count term is C × (extra − missed), so
 *
 *   gap = delay + ahead + model + (missed windows − C × missed) + (extra windows + C × extra).
 *
 * For each extra retrain, `saved` is the staleness the policy's schedule would have paid without it
 * minus what it paid (positive: the retrain bought something, worth it when > C).
 */
import { type CostModel, scheduleCost, windowStaleness } from './lib/oracle.ts';

export interface MatchedRetrain {
  oracle: number;
  policy: number;
  delay: number;
  cost: number;
}
export interface MissedRetrain {
  oracle: number;
  cost: number;
}
export interface ExtraRetrain {
  policy: number;
  windowCost: number;
  saved: number;
}

export interface GapBreakdown {
  policyStaleness: number;
  policyRetrains: number;
  oracleStaleness: number;
  oracleRetrains: number;
  gap: number;
  /** Staleness while the policy had not yet followed a matched oracle retrain. */
  delay: number;
  /** Staleness difference while the policy served a matched retrain made before the oracle's. */
  ahead: number;
  /** Staleness difference once both made a matched pair's retrain, at different steps (the models differ: which one turned out luckier). */
  model: number;
  /** Staleness difference of windows behind oracle retrains the policy never followed (before the C saved). */
  missedWindows: number;
  /** Staleness difference of windows served by extra retrains (usually negative: what they bought). */
  extraWindows: number;
  matched: MatchedRetrain[];
  missed: MissedRetrain[];
  extra: ExtraRetrain[];
}

/** Step of the model serving each window under a schedule (0 = the initial model). */
function servingSteps(steps: number, schedule: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let current = 0;
  for (let t = 0; t < steps; t++) {
    while (i < schedule.length && (schedule[i] as number) <= t) current = schedule[i++] as number;
    out.push(current);
  }
  return out;
}

export function decomposeGap(
  model: CostModel,
  policySteps: readonly number[],
  oracleSteps: readonly number[],
): GapBreakdown {
  const mine = scheduleCost(model, policySteps);
  const oracle = scheduleCost(model, oracleSteps);
  const P = mine.retrainSteps;
  const O = oracle.retrainSteps;
  const matchOf = new Map<number, number>(); // oracle step → policy step
  const matchedPolicy = new Set<number>();
  O.forEach((o, i) => {
    const next = O[i + 1] ?? model.steps;
    const m = P.find((p) => p >= o - 2 && p < next && !matchedPolicy.has(p));
    if (m !== undefined) {
      matchOf.set(o, m);
      matchedPolicy.add(m);
    }
  });
  const k = servingSteps(model.steps, P);
  const ko = servingSteps(model.steps, O);
  const delayCost = new Map<number, number>();
  const missedCost = new Map<number, number>();
  const aheadCost = new Map<number, number>();
  const extraCost = new Map<number, number>();
  const modelCost = new Map<number, number>();
  const policyMatch = new Map([...matchOf].map(([o, p]) => [p, o]));
  const add = (m: Map<number, number>, key: number, v: number) => m.set(key, (m.get(key) ?? 0) + v);
  for (let t = 0; t < model.steps; t++) {
    const a = k[t] as number;
    const b = ko[t] as number;
    if (a === b) continue;
    const diff = windowStaleness(model, a, t) - windowStaleness(model, b, t);
    if (a < b) {
      // Behind the oracle's model b (b > 0: the oracle retrained at b).
      const m = matchOf.get(b);
      if (m === undefined) add(missedCost, b, diff);
      else if (m > t) add(delayCost, b, diff);
      else add(modelCost, b, diff); // both made the pair's retrain, at different steps: different models
    } else {
      const o = policyMatch.get(a);
      if (o === undefined) add(extraCost, a, diff);
      else if (t < o) add(aheadCost, a, diff);
      else add(modelCost, o, diff);
    }
  }
  const matched = O.filter((o) => matchOf.has(o)).map((o) => ({
    oracle: o,
    policy: matchOf.get(o) as number,
    delay: (matchOf.get(o) as number) - o,
    cost: delayCost.get(o) ?? 0,
  }));
  const missed = O.filter((o) => !matchOf.has(o)).map((o) => ({ oracle: o, cost: missedCost.get(o) ?? 0 }));
  const extra = P.filter((p) => !matchedPolicy.has(p)).map((p) => ({
    policy: p,
    windowCost: extraCost.get(p) ?? 0,
    saved:
      scheduleCost(
        model,
        P.filter((q) => q !== p),
      ).stalenessCost - mine.stalenessCost,
  }));
  const sum = (m: Map<number, number>) => [...m.values()].reduce((s, v) => s + v, 0);
  return {
    policyStaleness: mine.stalenessCost,
    policyRetrains: P.length,
    oracleStaleness: oracle.stalenessCost,
    oracleRetrains: O.length,
    gap: mine.totalCost - oracle.totalCost,
    delay: sum(delayCost),
    ahead: sum(aheadCost),
    model: sum(modelCost),
    missedWindows: sum(missedCost),
    extraWindows: sum(extraCost),
    matched,
    missed,
    extra,
  };
}

/** One line per stream: where the gap goes, in cost units and as a share of the oracle's cost. */
export function gapLine(label: string, g: GapBreakdown, retrainCost: number): string {
  const oracleTotal = g.oracleStaleness + g.oracleRetrains * retrainCost;
  const x = (v: number) => `${v.toFixed(0)} (${(v / oracleTotal).toFixed(3)})`;
  const meanDelay = g.matched.length === 0 ? 0 : g.matched.reduce((s, m) => s + m.delay, 0) / g.matched.length;
  return [
    `${label}: gap ${x(g.gap)} | policy stale ${g.policyStaleness.toFixed(0)} + ${g.policyRetrains}×C, oracle stale ${g.oracleStaleness.toFixed(0)} + ${g.oracleRetrains}×C`,
    `    delay ${x(g.delay)} over ${g.matched.length} matched (mean ${meanDelay.toFixed(1)} windows: ${g.matched.map((m) => `${m.oracle}→${m.policy}`).join(' ')})`,
    `    ahead ${x(g.ahead)}; model ${x(g.model)}; missed ${g.missed.length} ${x(g.missedWindows - retrainCost * g.missed.length)} [${g.missed.map((m) => `${m.oracle}:${m.cost.toFixed(0)}`).join(' ')}]`,
    `    extra ${g.extra.length} ${x(g.extraWindows + retrainCost * g.extra.length)} [${g.extra.map((e) => `${e.policy}: saved ${e.saved.toFixed(0)}`).join(', ')}]`,
  ].join('\n');
}

export interface GapTotals {
  runs: number;
  ratio: number;
  delay: number;
  ahead: number;
  model: number;
  missed: number;
  extra: number;
  matched: number;
  missedCount: number;
  extraCount: number;
  extraSaved: number;
  meanDelay: number;
}

/** Mean per stream, each part as a share of that stream's oracle cost (so the parts add up to ratio − 1). */
export function gapTotals(rows: readonly { g: GapBreakdown; retrainCost: number }[]): GapTotals {
  const n = Math.max(1, rows.length);
  const t: GapTotals = {
    runs: rows.length,
    ratio: 0,
    delay: 0,
    ahead: 0,
    model: 0,
    missed: 0,
    extra: 0,
    matched: 0,
    missedCount: 0,
    extraCount: 0,
    extraSaved: 0,
    meanDelay: 0,
  };
  let delays = 0;
  for (const { g, retrainCost } of rows) {
    const o = g.oracleStaleness + g.oracleRetrains * retrainCost;
    t.ratio += (o + g.gap) / o / n;
    t.delay += g.delay / o / n;
    t.ahead += g.ahead / o / n;
    t.model += g.model / o / n;
    t.missed += (g.missedWindows - retrainCost * g.missed.length) / o / n;
    t.extra += (g.extraWindows + retrainCost * g.extra.length) / o / n;
    t.matched += g.matched.length / n;
    t.missedCount += g.missed.length / n;
    t.extraCount += g.extra.length / n;
    t.extraSaved += g.extra.reduce((s, e) => s + e.saved, 0) / n;
    delays += g.matched.reduce((s, m) => s + m.delay, 0);
  }
  const matchedAll = rows.reduce((s, r) => s + r.g.matched.length, 0);
  t.meanDelay = matchedAll === 0 ? 0 : delays / matchedAll;
  return t;
}

export function gapTable(groups: readonly [string, GapTotals][]): string {
  const lines = [
    '| scenario | runs | × oracle | delay (matched, mean windows) | ahead | model | missed (per run) | extra (per run, staleness saved per run) |',
    '|---|---|---|---|---|---|---|---|',
  ];
  const sg = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(3)}`;
  for (const [name, t] of groups) {
    lines.push(
      `| ${name} | ${t.runs} | ${t.ratio.toFixed(3)} | +${t.delay.toFixed(3)} (${t.matched.toFixed(1)}, ${t.meanDelay.toFixed(1)}) | ${sg(t.ahead)} | ${sg(t.model)} | ${t.missed >= 0 ? '+' : ''}${t.missed.toFixed(3)} (${t.missedCount.toFixed(1)}) | ${t.extra >= 0 ? '+' : ''}${t.extra.toFixed(3)} (${t.extraCount.toFixed(1)}, ${t.extraSaved.toFixed(0)}) |`,
    );
  }
  return lines.join('\n');
}
