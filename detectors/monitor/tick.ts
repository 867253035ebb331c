/**
 * One monitoring tick, as a pure function: window aggregates in, decision out.
 *
 * The ModelMonitor workflow calls it with the aggregates its statistics activity computed,
 * and `halflife backtest` calls it on windows cut from a file, so a policy behaves the same in
 * a backtest as in production, and replaying a workflow history re-derives every decision.
 * No clock, no randomness: `now` is an argument.
 */
import { fitDecay } from '../decay/fit.ts';
import { fitPopulation, populationRate } from '../decay/population.ts';
import type { DecayFit } from '../decay/types.ts';
import type { VersionEarlyQuality } from '../economics/staleness.ts';
import { compareBinnedFeature } from '../drift/compare-feature.ts';
import {
  dataQualityReport,
  legacyQualityOk,
  outOfRangeFromCounts,
  topCategory,
  unseenFromProfiles,
  breakageDetails,
  type FeatureQualityCounts,
  type QualityThresholds,
} from '../drift/data-quality.ts';
import { stuckValueInputs } from '../drift/window-comparison.ts';
import type { FeatureDriftResult } from '../drift/feature-result.ts';
import type { CategoricalProfile, NumericCounts } from '../drift/profiles.ts';
import { withMultivariate } from '../drift/multivariate/combine.ts';
import { driftReport } from '../drift/report.ts';
import { evaluatePolicy } from '../policy/evaluate.ts';
import { qualityThresholdsOf } from '../policy/data-quality-bars.ts';
import { resolveEvidence, type ResolvedEvidence } from '../policy/evidence.ts';
import type { PolicyDecision, PolicyState, WindowSummary } from '../policy/state.ts';
import type { RetrainPolicy } from '../policy/types.ts';
import { qualityFromScoreHistogram } from '../quality/score-histogram.ts';
import { realisedFromSums } from '../quality/outcome-sums.ts';
import {
  defaultMetricOf,
  isBeyondBinary,
  qualityInterval,
  qualityOfMetric,
  qualityTransformText,
  type QualityMetric,
} from '../quality/quality-metric.ts';
import { calibrate } from '../quality/recalibration.ts';
import { tickSegments } from '../segments/tick-segments.ts';
import { PageHinkley } from '../sequential/page-hinkley.ts';
import { isOutcomeProbeMetric } from '../probes/outcome-gap.ts';
import { retrainOutcomes } from '../probes/outcomes.ts';
import { abandonProbe } from '../probes/progress.ts';
import { updateQualityEvidence } from './quality-evidence.ts';
import { windowQualityThresholds } from './quality-thresholds.ts';
import { estimateOfOutcomes } from './outcome-estimate.ts';
import { estimateWindowQuality } from './window-estimate.ts';
import {
  DEFAULT_MONITOR_SETTINGS,
  type MonitorReference,
  type MonitorSettings,
  type MonitorState,
  type QualityPoint,
  type TickResult,
  type WindowEvaluation,
  type WindowObservation,
} from './types.ts';

const HOUR = 3_600_000;

/**
 * Change detection on the quality series. Quality moves in steps of a few points, so the
 * detector works in those units: a drop of more than `delta` per window accumulates evidence
 * and 0.15 of accumulated drop (e.g. five windows each 3 points down) signals a change.
 */
const CHANGE_DETECTOR = { minInstances: 5, delta: 0.005, threshold: 0.15, alpha: 1, mode: 'down' as const };

export function initialMonitorState(modelId: string): MonitorState {
  return {
    modelId,
    version: null,
    versionTrainedAt: null,
    freshQuality: null,
    windows: [],
    points: [],
    decay: null,
    changeDetector: null,
    lastChangePointAt: null,
    lastRetrainAt: null,
    recentRetrains: [],
    retrainInFlight: false,
    approval: { status: 'none' },
    manualRequest: null,
    paused: false,
    ticks: 0,
  };
}

/** Evaluate a window against its reference: drift, data quality, realised and estimated quality. */
export function evaluateWindow(
  reference: MonitorReference | null,
  observation: WindowObservation,
  settings: MonitorSettings = DEFAULT_MONITOR_SETTINGS,
  evidence: ResolvedEvidence = resolveEvidence(undefined, featureCountOf(reference)),
  /** The policy's data-quality bars (`dataQuality`, policy/data-quality-bars.ts). @default {} (the detector's defaults) */
  qualityBars: Partial<QualityThresholds> = {},
): Omit<WindowEvaluation, 'changePoint'> {
  const revision3 = (settings.ruleRevision ?? 1) >= 3;
  const featureResults: FeatureDriftResult[] = [];
  const qualityCounts: FeatureQualityCounts[] = [];
  if (reference) {
    for (const [name, profile] of Object.entries(reference.features)) {
      const current = observation.features[name];
      if (!current) continue;
      featureResults.push(compareBinnedFeature(profile, current, { name }));
      const referenceRows =
        profile.kind === 'numeric'
          ? sum(profile.counts) + profile.missing
          : sum(Object.values(profile.counts)) + profile.missing;
      const rows =
        'kind' in current && current.kind === 'categorical'
          ? sum(Object.values(current.counts)) + current.missing
          : sum((current as NumericCounts).counts) + current.missing;
      qualityCounts.push({
        name,
        kind: profile.kind,
        rows,
        missing: current.missing,
        out_of_range: profile.kind === 'numeric' ? outOfRangeFromCounts(profile, current as NumericCounts) : 0,
        unseen: profile.kind === 'categorical' ? unseenFromProfiles(profile, current as CategoricalProfile) : 0,
        reference_missing_rate: referenceRows > 0 ? profile.missing / referenceRows : 0,
        ...(profile.kind === 'numeric'
          ? stuckValueInputs(profile, current as NumericCounts, null)
          : {
              top_value_share: topCategory(current as CategoricalProfile)?.share ?? null,
              top_value: topCategory(current as CategoricalProfile)?.value ?? null,
              reference_top_value_share: topCategory(profile)?.share ?? null,
            }),
      });
    }
    if (reference.prediction && observation.prediction) {
      featureResults.push(
        compareBinnedFeature(reference.prediction, observation.prediction, { name: 'prediction', role: 'prediction' }),
      );
    }
  }
  // The multivariate tests (run on samples by the window's read, when the policy asks) join the dataset verdict.
  const drift =
    featureResults.length > 0 ? withMultivariate(driftReport(featureResults), observation.multivariate ?? null) : null;
  // ClickHouse counts data quality in the same pass (type violations included); a backtest derives it from the profiles.
  const qualityInputs = {
    rows: observation.events,
    dead_lettered: observation.deadLettered,
    features: observation.quality ?? qualityCounts,
    appeared: observation.appeared ?? null,
  };
  // The policy's bars apply under every revision: a policy without them gets the defaults, as before.
  const dataQuality = dataQualityReport(
    qualityInputs,
    windowQualityThresholds(settings, qualityBars, evidence.minWindowRows),
  );

  let realised: WindowEvaluation['quality']['realised'] = null;
  if (observation.outcomes) {
    realised = realisedOfOutcomes(observation, settings);
  } else if (observation.labelled && observation.labelled.events > 0) {
    const q = qualityFromScoreHistogram(observation.labelled.histogram);
    const estimate = settings.qualityMetric === 'auc' ? q.rocAuc : q.threshold.accuracy;
    realised = {
      value: estimate.value,
      n: q.n,
      interval: estimate.interval ? { lower: estimate.interval.lower, upper: estimate.interval.upper } : null,
    };
  }
  // Multiclass (CBPE from probability sums) and regression (DLE on sampled rows): estimated by the window read.
  const estimated = observation.outcomes
    ? estimateOfOutcomes(observation, settings)
    : (settings.estimationRevision ?? 1) >= 2
      ? estimateWindowQuality(reference, observation, settings)
      : estimateQuality(reference, observation, settings);
  // Revision 3 decides the source once labels are pooled (quality-evidence.ts); until then, the
  // window's own labels count when they reach the policy's minimum.
  const minLabelled = revision3 ? evidence.minLabelledEvents : settings.minLabelledEvents;
  const realisedUsable = realised !== null && realised.value !== null && realised.n >= minLabelled;
  const estimatedUsable = estimated !== null && estimated.value !== null && estimated.trustworthy;
  const used = realisedUsable ? 'realised' : estimatedUsable ? 'estimated' : null;
  const value = used === 'realised' ? realised!.value : used === 'estimated' ? estimated!.value : null;

  const window: WindowSummary = {
    start: observation.start,
    end: observation.end,
    events: observation.events,
    // Revisions 1–2 failed a window on any alert (shift and few rows included); replays keep that.
    dataQualityOk: revision3 ? !dataQuality.broken : legacyQualityOk(qualityInputs, qualityBars),
    drift: drift
      ? {
          datasetDrift: drift.dataset_drift,
          driftedShare: drift.share_drifted,
          ...(drift.multivariate ? { multivariateTests: [...drift.multivariate.drifted_tests] } : {}),
        }
      : null,
    quality:
      value === null || used === null
        ? null
        : {
            metric: settings.qualityMetric,
            value,
            source: used,
            ...(used === 'estimated' && estimated?.interval ? { interval: estimated.interval } : {}),
          },
  };
  if (revision3) {
    window.broken = breakageDetails(dataQuality);
    window.labelled = realised?.n ?? 0;
  }
  return { window, drift, dataQuality, quality: { metric: settings.qualityMetric, realised, estimated, used } };
}

/**
 * A multiclass or regression window's realised quality: the metric's figure from the outcome
 * sums, turned into quality (quality-metric.ts) with its interval; null without labelled events
 * or when the metric does not apply to the model's kind.
 */
function realisedOfOutcomes(
  observation: WindowObservation,
  settings: Pick<MonitorSettings, 'qualityMetric' | 'worthlessError'>,
): WindowEvaluation['quality']['realised'] {
  const sums = observation.outcomes;
  if (!sums) return null;
  const metric = settings.qualityMetric;
  const figure = realisedFromSums(metric, sums);
  if (figure === null || figure.n === 0) return null;
  const worthless = settings.worthlessError ?? null;
  return {
    value: figure.value === null ? null : qualityOfMetric(metric, figure.value, worthless),
    n: figure.n,
    interval: figure.interval && qualityInterval(metric, figure.interval, worthless),
    figure: { value: figure.value, interval: figure.interval, transform: qualityTransformText(metric, worthless) },
  };
}

/**
 * The settings a tick runs with: the policy's quality metric (and `worthlessError`) over the
 * monitor's. A multiclass or regression window (with outcome sums) whose policy names no metric
 * takes its kind's default; a binary window keeps the monitor's setting when the policy names a
 * metric only other kinds have (a policy mismatched with its model is refused when applied).
 */
export function tickSettings(
  settings: MonitorSettings,
  policy: Pick<RetrainPolicy, 'quality'>,
  observation: Pick<WindowObservation, 'outcomes'> | null,
): MonitorSettings {
  const outcomes = observation?.outcomes ?? null;
  const named = policy.quality?.metric ?? null;
  let metric: QualityMetric = settings.qualityMetric;
  if (outcomes) metric = named ?? defaultMetricOf(outcomes.kind);
  else if (named !== null && !isBeyondBinary(named)) metric = named;
  if (metric === settings.qualityMetric && policy.quality?.worthlessError === undefined) return settings;
  return {
    ...settings,
    qualityMetric: metric,
    ...(policy.quality?.worthlessError === undefined ? {} : { worthlessError: policy.quality.worthlessError }),
  };
}

/**
 * The policy as the evaluator reads it: a threshold trigger on a multiclass or regression metric
 * is written in the metric's own units (a log loss above 0.9, an RMSE above 12), while windows
 * carry quality (quality-metric.ts); the threshold becomes quality, higher is better, compared
 * with every window's quality (its reason then speaks of quality). Other policies are returned as they are.
 */
export function policyInQualityUnits(
  policy: RetrainPolicy,
  settings: Pick<MonitorSettings, 'qualityMetric' | 'worthlessError'>,
): RetrainPolicy {
  const trigger = policy.trigger;
  const metric = settings.qualityMetric;
  if (trigger.kind !== 'threshold' || trigger.metric !== metric || !isBeyondBinary(metric)) return policy;
  return {
    ...policy,
    trigger: {
      ...trigger,
      metric: 'quality',
      direction: 'higher-is-better',
      threshold: qualityOfMetric(metric, trigger.threshold, settings.worthlessError ?? null),
    },
  };
}

/**
 * Label-free accuracy from the window's score histogram and the reference's calibrator, as
 * estimation revision 1 computed it (bin centres, the fitted threshold, accuracy only).
 */
function estimateQuality(
  reference: MonitorReference | null,
  observation: WindowObservation,
  settings: MonitorSettings,
): WindowEvaluation['quality']['estimated'] {
  if (!reference?.cbpe || !observation.scoreHistogram || settings.qualityMetric !== 'accuracy') return null;
  const bins = observation.scoreHistogram.length;
  let n = 0;
  let expectedCorrect = 0;
  observation.scoreHistogram.forEach((count, b) => {
    if (count === 0) return;
    const p = calibrate(reference.cbpe!.calibrator, (b + 0.5) / bins);
    const threshold = reference.cbpe!.options.threshold;
    expectedCorrect += count * ((b + 0.5) / bins >= threshold ? p : 1 - p);
    n += count;
  });
  const reasons = [...reference.cbpe.check.reasons];
  return {
    value: n > 0 ? expectedCorrect / n : null,
    n,
    trustworthy: reference.cbpe.check.trustworthy && n > 0,
    reasons,
  };
}

/** Features of the model, from its reference (null without one). */
export function featureCountOf(reference: MonitorReference | null): number | null {
  return reference ? Object.keys(reference.features).length : null;
}

/** Decay fit of the version in service, borrowing the half-life of earlier versions as a prior. */
export function fitVersionDecay(
  state: MonitorState,
  settings: MonitorSettings,
  nowAgeHours: number,
  minPoints?: number,
): DecayFit | null {
  if (state.version === null) return null;
  const own = state.points.filter((p) => p.version === state.version).map(toObservation);
  if (own.length === 0) return null;
  const others = groupByVersion(state.points.filter((p) => p.version !== state.version));
  // Rule revision 2: runs of low or high windows are weaker evidence of a trend (fit.ts,
  // serialCorrelation), and the rate is shrunk toward earlier versions' rates (population.ts, populationRate).
  const revision2 = (settings.ruleRevision ?? 1) >= 2;
  const rate = revision2 && others.length > 0 ? populationRate(others).prior : null;
  // Bounded fits: by what the monitor's windows can show (the shortest window it kept).
  const windowHours = settings.boundedDecayFits === true ? shortestWindowHours(state) : null;
  const options = {
    slo: settings.qualitySlo ?? undefined,
    nowAgeHours,
    ...(minPoints === undefined ? {} : { minPointsExponential: minPoints }),
    ...(revision2 ? { serialCorrelation: true } : {}),
    ...(rate === null ? {} : { ratePrior: rate }),
    ...(windowHours === null ? {} : { windowHours }),
  };
  if (others.length > 0) {
    const population = fitPopulation(others, windowHours === null ? {} : { windowHours });
    if (population.prior) return fitDecay(own, { ...options, prior: population.prior });
  }
  return fitDecay(own, options);
}

/** Length of the shortest window the monitor keeps, in hours; null before its first. */
function shortestWindowHours(state: MonitorState): number | null {
  let shortest = Number.POSITIVE_INFINITY;
  for (const w of state.windows) if (w.end > w.start) shortest = Math.min(shortest, w.end - w.start);
  return Number.isFinite(shortest) ? shortest / HOUR : null;
}

/**
 * One tick: evaluate the window, feed the change detector and the decay model, and ask the
 * policy. Returns the next state (the input is not modified).
 */
export function monitorTick(
  previous: MonitorState,
  reference: MonitorReference | null,
  observation: WindowObservation,
  policy: RetrainPolicy,
  now: number,
  settings: MonitorSettings = DEFAULT_MONITOR_SETTINGS,
): TickResult {
  const state: MonitorState = structuredCloneJson(previous);
  state.ticks += 1;
  settings = tickSettings(settings, policy, observation);
  policy = policyInQualityUnits(policy, settings);
  const revision3 = (settings.ruleRevision ?? 1) >= 3;
  const evidence = resolveEvidence(policy.evidence, featureCountOf(reference));
  const qualityBars = qualityThresholdsOf(policy.dataQuality);
  const base = evaluateWindow(reference, observation, settings, evidence, qualityBars);
  const segments = tickSegments(
    state,
    reference,
    observation,
    policy,
    settings,
    windowQualityThresholds(settings, qualityBars, evidence.minWindowRows),
  );
  if (segments) base.segments = segments;

  // The version in service is the one that scored most of the window (a canary is a minority).
  // A change that halflife did not make itself (the team deployed a version) starts its age too.
  const dominant = [...observation.versions].sort((a, b) => b.events - a.events)[0];
  if (dominant && dominant.version !== state.version && dominant.events * 2 > observation.events) {
    state.version = dominant.version;
    state.versionTrainedAt = dominant.trainedAt ?? observation.start;
    state.freshQuality = null;
    state.changeDetector = null;
  }

  if (revision3) return tickWithPooledQuality(state, reference, observation, base, policy, now, settings, evidence);

  let changePoint: WindowEvaluation['changePoint'] = { detected: false, statistic: null };
  const quality = base.window.quality;
  if (quality) {
    changePoint = observeChangePoint(state, quality.value, observation.end);

    if (state.version !== null && state.versionTrainedAt !== null) {
      const ageHours = Math.max(0, (observation.end - state.versionTrainedAt) / HOUR);
      const weight = quality.source === 'realised' ? (base.quality.realised?.n ?? 1) : (base.quality.estimated?.n ?? 1);
      state.points.push({
        version: state.version,
        ageHours,
        quality: quality.value,
        weight: Math.max(1, weight),
        source: quality.source,
      });
      state.points = capPoints(state.points, state.version, settings);
    }
  }
  state.windows.push(base.window);
  if (state.windows.length > settings.maxWindows) state.windows = state.windows.slice(-settings.maxWindows);

  const nowAgeHours = state.versionTrainedAt === null ? 0 : Math.max(0, (now - state.versionTrainedAt) / HOUR);
  state.decay = fitVersionDecay(state, settings, nowAgeHours);

  const decision = evaluatePolicy(policy, policyStateOf(state, settings), now);
  return { state, evaluation: { ...base, changePoint }, decision };
}

/**
 * Rule revision 3's tick: the window's labels (those arrived by now) and late labels of earlier
 * windows update the maturing windows, pooled into realised quality values; broken windows stay
 * out of the quality evidence; the decay fit takes the policy's minimum points.
 */
function tickWithPooledQuality(
  state: MonitorState,
  reference: MonitorReference | null,
  observation: WindowObservation,
  base: Omit<WindowEvaluation, 'changePoint'>,
  policy: RetrainPolicy,
  now: number,
  settings: MonitorSettings,
  evidence: ResolvedEvidence,
): TickResult {
  const window: WindowSummary = { ...base.window, quality: null };
  state.windows.push(window);
  if (state.windows.length > settings.maxWindows) state.windows = state.windows.slice(-settings.maxWindows);
  const update = updateQualityEvidence(state, window, observation, base, settings, evidence);
  const quality = state.windows.at(-1)?.quality ?? null;

  const changePoint: WindowEvaluation['changePoint'] =
    quality && window.dataQualityOk !== false
      ? observeChangePoint(state, quality.value, observation.end)
      : { detected: false, statistic: null };
  state.points = capPoints(state.points, state.version ?? '', settings);

  const nowAgeHours = state.versionTrainedAt === null ? 0 : Math.max(0, (now - state.versionTrainedAt) / HOUR);
  state.decay = fitVersionDecay(state, settings, nowAgeHours, evidence.minDecayPoints);

  const decision = evaluatePolicy(
    policy,
    policyStateOf(state, settings, { featureCount: featureCountOf(reference), qualityNote: update.note }),
    now,
  );
  const evaluation: WindowEvaluation = {
    ...base,
    window: state.windows.at(-1) as WindowSummary,
    quality: {
      ...base.quality,
      used: quality?.source ?? null,
      reason: update.note,
      ...(update.pooledWindows > 1 ? { pooledWindows: update.pooledWindows } : {}),
    },
    changePoint,
  };
  return { state, evaluation, decision };
}

/**
 * The policy asked again without a new window (a person's approval or retrain request) as the
 * last tick asked it: in the model's metric (the last window's outcome sums name a multiclass or
 * regression model's kind; none for a binary model), thresholds in quality units.
 */
export function reevaluatePolicy(
  state: MonitorState,
  policy: RetrainPolicy,
  settings: MonitorSettings,
  lastWindow: Pick<WindowObservation, 'outcomes'> | null,
  extra: { featureCount?: number | null; qualityNote?: string | null },
  now: number,
): PolicyDecision {
  const used = tickSettings(settings, policy, lastWindow);
  return evaluatePolicy(policyInQualityUnits(policy, used), policyStateOf(state, used, extra), now);
}

/** What the policy evaluator sees of the monitor's state (and the rule revision of its settings). */
export function policyStateOf(
  state: MonitorState,
  settings: Pick<MonitorSettings, 'ruleRevision'> &
    Partial<Pick<MonitorSettings, 'textRevision' | 'qualityMetric' | 'kindProbes'>> = DEFAULT_MONITOR_SETTINGS,
  extra: { featureCount?: number | null; qualityNote?: string | null } = {},
): PolicyState {
  return {
    ...((settings.ruleRevision ?? 1) >= 3
      ? { featureCount: extra.featureCount ?? null, qualityNote: extra.qualityNote ?? null }
      : {}),
    ruleRevision: settings.ruleRevision ?? 1,
    textRevision: settings.textRevision ?? 1,
    ...(state.segments ? { segmentSloBreaches: state.segments.sloBreaches } : {}),
    windows: state.windows,
    decay: state.decay,
    freshQuality: state.freshQuality,
    versionTrainedAt: state.versionTrainedAt,
    lastRetrainAt: state.lastRetrainAt,
    recentRetrains: state.recentRetrains,
    retrainInFlight: state.retrainInFlight,
    lastChangePointAt: state.lastChangePointAt,
    recentVersions: earlyQualityByVersion(state.points, state.version),
    approval: state.approval,
    manualRequest: state.manualRequest,
    // Rule revision 4: probes pair per-event correctness (accuracy) or, with kind probes, a
    // multiclass or regression model's per-event loss (probes/outcome-gap.ts).
    ...((settings.ruleRevision ?? 1) >= 4 &&
    ((settings.qualityMetric ?? 'accuracy') === 'accuracy' ||
      (settings.kindProbes === true && isOutcomeProbeMetric(settings.qualityMetric ?? 'accuracy')))
      ? {
          probes: {
            version: state.version,
            inFlight: state.probes?.inFlight ?? null,
            results: state.probes?.results ?? [],
            retrainOutcomes: retrainOutcomes(state.points),
          },
        }
      : {}),
  };
}

/** Windows of a version's early life that `earlyQualityByVersion` pools (its first points). */
const EARLY_POINTS = 3;

/**
 * Added for the cost-aware trigger (economics/staleness.ts): each version's realised quality over
 * its first {@link EARLY_POINTS} quality points, event-weighted, for the versions the monitor keeps
 * points of (at most `maxVersions`), the version in service last. Derived from `state.points` only
 * (no new state); a version with no realised points is left out.
 */
export function earlyQualityByVersion(
  points: readonly QualityPoint[],
  current: string | null = null,
): VersionEarlyQuality[] {
  const byVersion = new Map<string, { quality: number; events: number; count: number }>();
  for (const p of points) {
    if (p.source !== 'realised') continue;
    const entry = byVersion.get(p.version) ?? { quality: 0, events: 0, count: 0 };
    if (entry.count >= EARLY_POINTS) continue;
    entry.quality += p.quality * p.weight;
    entry.events += p.weight;
    entry.count += 1;
    byVersion.set(p.version, entry);
  }
  const out = [...byVersion].map(([version, e]) => ({ version, quality: e.quality / e.events, events: e.events }));
  return [...out.filter((v) => v.version !== current), ...out.filter((v) => v.version === current)];
}

/** A new version took over (after a promotion): its age starts at its training time. */
export function startVersion(
  previous: MonitorState,
  version: string,
  trainedAt: number,
  freshQuality: number | null,
  retrainStartedAt: number | null,
  now: number,
): MonitorState {
  const state = structuredCloneJson(previous);
  state.version = version;
  state.versionTrainedAt = trainedAt;
  state.freshQuality = freshQuality;
  state.lastRetrainAt = now;
  if (retrainStartedAt !== null) state.recentRetrains = [...state.recentRetrains, retrainStartedAt].slice(-50);
  // A new concept: the change detector and the decay fit start over.
  state.changeDetector = null;
  state.decay = null;
  // A probe compares with the champion it started beside: it ends with it.
  if (state.probes?.inFlight) state.probes = abandonProbe(state.probes);
  return state;
}

export function capPoints(points: QualityPoint[], current: string, settings: MonitorSettings): QualityPoint[] {
  const versions = [...new Set(points.map((p) => p.version))];
  const keep = new Set([current, ...versions.filter((v) => v !== current).slice(-(settings.maxVersions - 1))]);
  const out: QualityPoint[] = [];
  for (const version of keep)
    out.push(...points.filter((p) => p.version === version).slice(-settings.maxPointsPerVersion));
  return out;
}

function groupByVersion(points: QualityPoint[]) {
  const byVersion = new Map<string, QualityPoint[]>();
  for (const p of points) byVersion.set(p.version, [...(byVersion.get(p.version) ?? []), p]);
  return [...byVersion].map(([version, ps]) => ({ version, observations: ps.map(toObservation) }));
}

function toObservation(p: QualityPoint) {
  return { ageHours: p.ageHours, quality: p.quality, weight: p.weight, source: p.source };
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

/** Deep copy of plain JSON data (works in the workflow sandbox too). */
function structuredCloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Feed a window's quality to the state's change detector (Page–Hinkley on decreases); a detection marks the window's end. */
function observeChangePoint(state: MonitorState, quality: number, windowEnd: number): WindowEvaluation['changePoint'] {
  const detector = state.changeDetector ? PageHinkley.restore(state.changeDetector) : new PageHinkley(CHANGE_DETECTOR);
  const update = detector.update(quality);
  state.changeDetector = detector.serialize();
  if (update.drift) state.lastChangePointAt = windowEnd;
  return { detected: update.drift, statistic: update.decreaseStatistic };
}
