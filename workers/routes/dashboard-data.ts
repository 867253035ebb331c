import { segmentResults } from './decisions.ts';
import type { ClickHouseClient } from '@clickhouse/client';
import { z } from 'zod';
import {
  monitorHealth,
  reassessStatus,
  type IngestObservation,
  type MonitorHealth,
} from '../../detectors/monitor/health.ts';
import { MIN_INGEST_LAG_LIMIT_SECONDS } from '../../detectors/monitor/health-inputs.ts';
import { pairedAccuracy } from '../../detectors/promotion/paired-accuracy.ts';
import {
  shadowOutcomeCheckpoints,
  shadowOutcomeEvaluations,
} from '../../platform/clickhouse/shadow-outcome-repository.ts';
import { lossEvaluations, RUNNING_POINTS, runningEvaluationIds } from './loss-evaluations.ts';
import { decayCurveBand } from '../../detectors/decay/band.ts';
import { halfLifeEvidence } from '../../detectors/decay/evidence.ts';
import type { DecayFit } from '../../detectors/decay/types.ts';
import { decisionTexts, displayReason, formatEstimateHours } from '../../detectors/texts/index.ts';
import {
  fleetVersions,
  ingestPerBucket,
  latestDecayFits,
  latestDecisions,
  latestWindowDecisions,
  modelVersions,
  promotionVerdicts,
  recentDecisions,
  recentWindowDecisions,
  shadowEvaluations,
  stageEvents as stageEventRows,
  type ShadowEvaluationRow,
  type WindowDecisionRow,
} from '../../platform/clickhouse/dashboard-repository.ts';
import type { HalflifeConfig } from '../../platform/config.ts';
import type { MonitorStatus } from '../../workflows/messages.ts';
import type { RouteModule } from '../api.ts';
import { dashboardStaticRoutes } from './dashboard-static.ts';
import { MonitorClient } from '../../operations/monitor-control.ts';
import { servingStatus } from '../../operations/serving-status.ts';

/**
 * Read-only data for the web dashboard (viewer and up), shaped for its pages so each page is
 * one request: GET /v1/dashboard/config, /v1/dashboard/fleet, /v1/dashboard/models/:model.
 * Everything comes from the tables the monitor and retrain workflows write, through
 * platform/clickhouse/dashboard-repository.ts; the monitor's live status (a Temporal query) is
 * added when a status source is given and answers. Health is the monitor's own rule
 * (detectors/monitor/health.ts), the comparison intervals detectors/promotion/paired-accuracy.ts.
 */

/** Live monitor status of a model, or null when its monitor is not running or not reachable. */
export type MonitorStatusSource = (modelId: string) => Promise<MonitorStatus | null>;

export interface DashboardDataOptions {
  config: Pick<HalflifeConfig, 'temporal' | 'services' | 'serving'>;
  /** Live status from the model's ModelMonitor workflow (statusQuery). */
  status?: MonitorStatusSource;
  /** Ingest as this process sees it, added to every model's health; absent: not observed. */
  ingest?: () => IngestObservation | null;
}

const modelParam = z.string().min(1).max(128);
const detailQuery = z
  .object({
    /** Most recent monitor windows returned. */
    windows: z.coerce.number().int().min(1).max(5000).default(500),
    /** Most recent decisions in the timeline. */
    decisions: z.coerce.number().int().min(1).max(5000).default(300),
  })
  .strict();

const HOUR = 3_600_000;

/** Health as the monitor computes it (detectors/monitor/health.ts), re-derived from its last window decision. */
export type Health = MonitorHealth;

const json = (text: string | null | undefined): unknown => {
  if (text === null || text === undefined || text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
};
const obj = (v: unknown): Record<string, unknown> | null =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function decayOf(raw: string): Record<string, unknown> | null {
  const d = obj(json(raw));
  if (!d) return null;
  // The likelihood profile is for the economics; the page needs the curve and its interval.
  const { profile: _profile, ...rest } = d;
  return rest;
}

/**
 * The multivariate tests of a window as the model page shows them: per test its statistic, p and
 * level, verdict, the features that drive it, and (PCA) the reference's band; null when none ran.
 */
function multivariateOf(raw: string) {
  const m = obj(json(raw));
  if (!m || !Array.isArray(m.tests)) return null;
  return {
    datasetDrift: m.dataset_drift === true,
    alpha: num(m.alpha),
    sample: obj(m.sample),
    tests: m.tests.map((t) => {
      const o = obj(t) ?? {};
      const statistic = obj(o.statistic) ?? {};
      const details = obj(o.details) ?? {};
      return {
        test: String(o.test ?? ''),
        features: Array.isArray(o.features) ? o.features.map(String) : [],
        statistic: String(statistic.name ?? ''),
        value: num(statistic.value),
        pvalue: num(o.pvalue),
        level: num(o.level),
        drifted: o.drifted === true,
        reason: String(o.reason ?? ''),
        driving: (Array.isArray(o.driving_features) ? o.driving_features : []).map((f) => {
          const d = obj(f) ?? {};
          return { feature: String(d.feature ?? ''), share: num(d.share) };
        }),
        band:
          num(details.band_lower) !== null
            ? {
                lower: num(details.band_lower),
                upper: num(details.band_upper),
                reference: num(details.reference_error),
              }
            : null,
      };
    }),
  };
}

function windowOf(r: WindowDecisionRow) {
  const w = obj(json(r.window)) ?? {};
  const q = obj(json(r.quality)) ?? {};
  const wq = obj(w.quality);
  const realised = obj(q.realised);
  const estimated = obj(q.estimated);
  const dq = obj(json(r.data_quality));
  const features = Array.isArray(json(r.drift_features)) ? (json(r.drift_features) as unknown[]) : [];
  return {
    decisionId: r.decision_id,
    at: Number(r.at),
    kind: r.kind,
    version: r.version,
    start: num(w.start),
    end: num(w.end),
    events: num(w.events),
    quality: wq
      ? { metric: String(wq.metric ?? q.metric ?? ''), value: num(wq.value), source: String(wq.source ?? '') }
      : null,
    realised: realised
      ? {
          value: num(realised.value),
          n: num(realised.n),
          interval: obj(realised.interval),
          // A multiclass or regression metric's own figure and how quality was derived from it.
          ...(obj(realised.figure) ? { figure: obj(realised.figure) } : {}),
        }
      : null,
    estimated: estimated
      ? {
          value: num(estimated.value),
          n: num(estimated.n),
          trustworthy: estimated.trustworthy === true,
          // Estimation revision 2: the interval and the threshold it was estimated at.
          interval: obj(estimated.interval),
          threshold: num(estimated.threshold),
        }
      : null,
    drift:
      r.drift_dataset === null && features.length === 0
        ? null
        : {
            dataset: r.drift_dataset === null ? null : Boolean(Number(r.drift_dataset)),
            share: r.drift_share === null ? null : Number(r.drift_share),
            features: features.map((f) => {
              const o = obj(f) ?? {};
              const wasserstein = obj(o.wasserstein);
              return {
                name: String(o.name ?? ''),
                kind: String(o.kind ?? ''),
                role: String(o.role ?? ''),
                drifted: o.drifted === true,
                tested: o.tested === true,
                jensenShannon: num(o.jensen_shannon),
                psi: num(o.psi),
                wassersteinNormalized: num(wasserstein?.normalized),
                linf: num(o.linf),
                pvalueAdjusted: num(o.pvalue_adjusted),
              };
            }),
          },
    multivariate: multivariateOf(r.drift_multivariate),
    dataQuality: dq
      ? {
          ok: dq.ok === true,
          rows: num(dq.rows),
          deadLettered: num(dq.dead_lettered),
          deadLetterRate: num(dq.dead_letter_rate),
          alerts: Array.isArray(dq.alerts) ? dq.alerts.map(String) : [],
          features: (Array.isArray(dq.features) ? dq.features : []).map((f) => {
            const o = obj(f) ?? {};
            return {
              name: String(o.name ?? ''),
              missingRate: num(o.missing_rate),
              outOfRangeRate: num(o.out_of_range_rate),
              unseenRate: num(o.unseen_rate),
              alerts: Array.isArray(o.alerts) ? o.alerts.map(String) : [],
            };
          }),
        }
      : null,
    changePoint: obj(json(r.change_point)),
    decay: decayOf(r.decay),
    fullDecay: obj(json(r.decay)),
    economics: obj(json(r.economics)),
    inputs: obj(json(r.inputs)),
  };
}

type WindowView = ReturnType<typeof windowOf>;

/**
 * Health from the last evaluated window, with the one health rule (detectors/monitor/health.ts),
 * when the monitor does not answer: its SLO is known from the decay fit, its attainable level is not.
 */
export function deriveHealth(
  last: WindowView | null,
  lastKind: string | null,
  ingest: IngestObservation | null = null,
): Health {
  const ttb = obj(last?.decay?.timeToBreach);
  const slo = num(ttb?.slo);
  const interval = obj(last?.quality?.source === 'estimated' ? last.estimated?.interval : last?.realised?.interval);
  const windowHours = last && last.start !== null && last.end !== null ? (last.end - last.start) / HOUR : 1;
  return monitorHealth({
    paused: lastKind === 'pause',
    evaluated: last !== null,
    dataQualityOk: last?.dataQuality ? last.dataQuality.ok : null,
    quality:
      last?.quality?.value === null || last?.quality?.value === undefined
        ? null
        : {
            value: last.quality.value,
            lower: num(interval?.lower),
            upper: num(interval?.upper),
          },
    target: slo === null ? null : { value: slo, source: 'slo' },
    timeToBreachHours: num(ttb?.hours),
    breachWarningHours: 24 * windowHours,
    datasetDrift: last?.drift ? last.drift.dataset : null,
    ingest,
    ingestLagLimitSeconds: MIN_INGEST_LAG_LIMIT_SECONDS,
    servingDisagreement: null,
  });
}

/** What the monitor is doing, from the newest decision when its live status is not available. */
function deriveStage(lastKind: string | null): string {
  switch (lastKind) {
    case 'retrain':
    case 'force-retrain':
    case 'approve':
      return 'retraining';
    case 'approval-requested':
      return 'awaiting-approval';
    case 'pause':
      return 'paused';
    case null:
      return 'unknown';
    default:
      return 'monitoring';
  }
}

/** Time to SLO breach counted from now: the fit's prediction was made at its decision's time. */
function breachFromNow(decay: Record<string, unknown> | null, decidedAt: number, now: number) {
  const ttb = obj(decay?.timeToBreach);
  if (!ttb) return null;
  const hours = num(ttb.hours);
  const elapsed = (now - decidedAt) / HOUR;
  const interval = obj(ttb.interval);
  return {
    slo: num(ttb.slo),
    predictedAt: decidedAt,
    hours: hours === null ? null : Math.max(0, hours - elapsed),
    interval: interval
      ? {
          lower: Math.max(0, (num(interval.lower) ?? 0) - elapsed),
          upper: num(interval.upper) === null ? null : Math.max(0, (num(interval.upper) as number) - elapsed),
        }
      : null,
    at: hours === null ? null : decidedAt + hours * HOUR,
  };
}

/** The half-life a page may show: only once the fit has the evidence (detectors/decay/evidence.ts). */
function halfLifeOf(decay: Record<string, unknown> | null) {
  const fit = decay as DecayFit | null;
  const evidence = halfLifeEvidence(fit);
  const hours = num(fit?.halfLifeHours);
  return {
    reportable: evidence.reportable,
    reason: evidence.reason,
    hours: evidence.reportable ? hours : null,
    interval: evidence.reportable ? (fit?.halfLifeInterval ?? null) : null,
    text: evidence.reportable && hours !== null ? formatEstimateHours(hours, fit?.halfLifeInterval) : null,
  };
}

/** Points of a version's fitted curve: drawn over the ages it was observed at, never beyond. */
const CURVE_POINTS = 60;

/** The fitted curve with its band over [first, last] observed age (hours), metric units. */
function curveOver(decay: Record<string, unknown> | null, ages: number[]) {
  const fit = decay as DecayFit | null;
  if (!fit || !Array.isArray(fit.profile) || ages.length === 0) return [];
  const lo = Math.min(...ages);
  const hi = Math.max(...ages);
  const grid =
    hi > lo ? Array.from({ length: CURVE_POINTS }, (_, i) => lo + ((hi - lo) * i) / (CURVE_POINTS - 1)) : [lo];
  return decayCurveBand(fit, grid);
}

/** The cadence the windows were cut at: the median window length (ms), or null without windows. */
function windowLength(windows: { start: number | null; end: number | null }[]): number | null {
  const lengths = windows
    .map((w) => (w.start !== null && w.end !== null ? w.end - w.start : null))
    .filter((x): x is number => x !== null && x > 0)
    .sort((a, b) => a - b);
  return lengths.length === 0 ? null : (lengths[Math.floor(lengths.length / 2)] as number);
}

/** Buckets from the first to the last closed one with data, the empty ones as zeros (a gap in ingest is a gap, not a flat line). */
export function denseBuckets<T extends { start: number; events: number; labelled: number; deadLetters: number }>(
  rows: T[],
  bucketMs: number,
  now: number = Date.now(),
): { start: number; events: number; labelled: number; deadLetters: number }[] {
  // The bucket still filling (and its labels still to come) would draw as a fall to zero at the
  // right edge of every live chart: it is left out while an earlier bucket has closed.
  while (rows.length > 1 && rows[rows.length - 1]!.start + bucketMs > now) rows = rows.slice(0, -1);
  if (rows.length === 0) return [];
  const byStart = new Map(rows.map((r) => [r.start, r]));
  const out = [];
  const last = rows[rows.length - 1]!.start;
  for (let t = rows[0]!.start; t <= last; t += bucketMs)
    out.push(byStart.get(t) ?? { start: t, events: 0, labelled: 0, deadLetters: 0 });
  return out;
}

/** Most ingest buckets a page draws; longer histories use buckets of several windows. */
const MAX_INGEST_BUCKETS = 500;

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  try {
    return await Promise.race([promise.catch(() => null), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Everything the daemon mounts for the dashboard: the page and its assets, and the data routes
 * with the monitors' live status from Temporal (one lazily opened connection, closed with the API).
 */
export function dashboardRoutes(deps: {
  config: HalflifeConfig;
  clickhouse: ClickHouseClient;
  log?: { warn(obj: object, msg: string): void };
  ingest?: () => IngestObservation | null;
}): RouteModule[] {
  const monitors = new MonitorClient(deps.config);
  const data = dashboardDataRoutes(deps.clickhouse, {
    config: deps.config,
    status: (model) => monitors.status(model),
    ingest: deps.ingest,
  });
  return [
    dashboardStaticRoutes({ log: deps.log }),
    async (app, guard) => {
      app.addHook('onClose', async () => monitors.close());
      await data(app, guard);
    },
  ];
}

export function dashboardDataRoutes(clickhouse: ClickHouseClient, options: DashboardDataOptions): RouteModule {
  const observedIngest = () => options.ingest?.() ?? null;
  // The monitor's health with what this process sees of ingest added (serving: not observed here).
  const liveStatus = async (modelId: string): Promise<MonitorStatus | null> => {
    const status = options.status ? await withTimeout(options.status(modelId), 2000) : null;
    return status ? reassessStatus(status, { ingest: observedIngest() }) : null;
  };

  return (app, guard) => {
    app.get('/v1/dashboard/config', { preHandler: guard('viewer') }, async (request) => {
      // The local dev server's UI is known; with an external Temporal the UI address is not.
      const local = !options.config.temporal.address;
      return {
        identity: request.identity,
        temporal: {
          namespace: options.config.temporal.namespace,
          uiUrl: local ? `http://127.0.0.1:${options.config.services.temporalUiPort}` : null,
        },
      };
    });

    app.get('/v1/dashboard/fleet', { preHandler: guard('viewer') }, async () => {
      const now = Date.now();
      const [models, windows, lastDecisions] = await Promise.all([
        fleetVersions(clickhouse),
        latestWindowDecisions(clickhouse),
        latestDecisions(clickhouse),
      ]);
      // The latest decay fit can be older than the last window (a window without quality keeps the fit).
      const fits = await latestDecayFits(clickhouse);
      const ids = [
        ...new Set([
          ...models.map((m) => m.model_id),
          ...windows.map((w) => w.model_id),
          ...lastDecisions.map((d) => d.model_id),
        ]),
      ].sort();
      const statuses = await Promise.all(ids.map((id) => liveStatus(id)));
      return {
        generatedAt: now,
        models: ids.map((modelId, i) => {
          const m = models.find((x) => x.model_id === modelId);
          const wRow = windows.find((x) => x.model_id === modelId);
          const w = wRow ? windowOf(wRow) : null;
          const d = lastDecisions.find((x) => x.model_id === modelId) ?? null;
          const fitRow = fits.find((x) => x.model_id === modelId);
          const decay = fitRow ? decayOf(fitRow.decay) : null;
          const live = statuses[i] ?? null;
          return {
            modelId,
            production:
              m && m.production !== ''
                ? {
                    version: m.production,
                    trainedAt: m.production_created === null ? null : Number(m.production_created),
                  }
                : null,
            versions: m ? Number(m.versions) : 0,
            stages: m ? Object.fromEntries(Object.entries(m.stages).map(([k, v]) => [k, Number(v)])) : {},
            health: live?.health ?? deriveHealth(w, d?.kind ?? null, observedIngest()),
            stage: live?.stage ?? deriveStage(d?.kind ?? null),
            live: live !== null,
            quality: w?.quality
              ? {
                  ...w.quality,
                  at: w.end,
                  interval: w.realised?.interval ?? null,
                  n: w.quality.source === 'realised' ? w.realised?.n : w.estimated?.n,
                }
              : null,
            drift: w?.drift ? { dataset: w.drift.dataset, share: w.drift.share } : null,
            decay:
              decay && fitRow
                ? {
                    version: fitRow.version,
                    fittedAt: Number(fitRow.at),
                    model: decay.model,
                    halfLifeHours: num(decay.halfLifeHours),
                    halfLifeInterval: obj(decay.halfLifeInterval),
                    q0: num(decay.q0),
                    floor: num(decay.floor),
                    halfLife: halfLifeOf(decay),
                    timeToBreach: breachFromNow(decay, Number(fitRow.at), now),
                  }
                : null,
            lastDecision: d
              ? {
                  decisionId: d.decision_id,
                  at: Number(d.at),
                  kind: d.kind,
                  reason: d.reason,
                  reasonText: displayReason(d.reason),
                  version: d.version,
                }
              : null,
          };
        }),
      };
    });

    app.get<{ Params: { model: string } }>(
      '/v1/dashboard/models/:model',
      { preHandler: guard('viewer') },
      async (request, reply) => {
        const model = modelParam.safeParse(request.params.model);
        const query = detailQuery.safeParse(request.query);
        if (!model.success || !query.success) {
          const issues = [...(model.success ? [] : model.error.issues), ...(query.success ? [] : query.error.issues)];
          return reply
            .code(400)
            .send({ error: 'bad-request', message: issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
        }
        const modelId = model.data;
        const [versions, stageEvents, windowRows, decisionRows, shadowRows, verdictRows, lossRows] = await Promise.all([
          modelVersions(clickhouse, modelId),
          stageEventRows(clickhouse, modelId),
          recentWindowDecisions(clickhouse, modelId, query.data.windows),
          recentDecisions(clickhouse, modelId, query.data.decisions),
          // Champion vs challenger on the same events: accuracy of each and the paired difference.
          shadowEvaluations(clickhouse, modelId),
          promotionVerdicts(clickhouse, modelId),
          // A multiclass or regression model's evaluations: each side's mean per-event loss.
          shadowOutcomeEvaluations(clickhouse, modelId),
        ]);
        // Per-segment drift and quality of the newest judged window (a policy with segment keys).
        const segments = await segmentResults(clickhouse, modelId);
        // How the newest multiclass or regression evaluations' mean improvement settled over their pairs.
        const lossCheckpoints = await shadowOutcomeCheckpoints(
          clickhouse,
          modelId,
          runningEvaluationIds(lossRows),
          RUNNING_POINTS,
        );

        const windows = windowRows.map(windowOf);
        const windowMs = windowLength(windows);
        const first = windows[0]?.start ?? Date.now() - 7 * 24 * HOUR;
        // Ingest per window (the monitor's cadence), or per several windows for a long history.
        const cadence = windowMs ?? HOUR;
        const perBucket = Math.max(1, Math.ceil((Date.now() - first) / (cadence * MAX_INGEST_BUCKETS)));
        const bucketMs = Math.max(1000, Math.round((cadence * perBucket) / 1000) * 1000); // whole seconds, as stored
        const ingest = await ingestPerBucket(clickhouse, modelId, Math.floor(first), bucketMs);

        // Each version's age at each window (hours since it was trained), for its decay curve.
        const trainedAt = new Map(versions.map((v) => [v.version, Number(v.created)]));
        const agesOf = (version: string) => {
          const t = trainedAt.get(version);
          if (t === undefined) return [];
          return windows
            .filter((w) => w.version === version && w.end !== null && w.quality?.value !== null && w.quality)
            .map((w) => Math.max(0, ((w.end as number) - t) / HOUR));
        };
        // The latest decay fit of each version, its curve over the ages it was observed at, and its half-life.
        const fits: Record<
          string,
          {
            fittedAt: number;
            decisionId: string;
            fit: Record<string, unknown>;
            curve: ReturnType<typeof curveOver>;
            halfLife: ReturnType<typeof halfLifeOf>;
          }
        > = {};
        const fullFits = new Map<string, Record<string, unknown>>();
        for (const w of windows)
          if (w.decay && w.version) {
            fits[w.version] = {
              fittedAt: w.at,
              decisionId: w.decisionId,
              fit: w.decay,
              curve: [],
              halfLife: halfLifeOf(w.decay),
            };
            if (w.fullDecay) fullFits.set(w.version, w.fullDecay);
          }
        for (const [version, entry] of Object.entries(fits))
          entry.curve = curveOver(fullFits.get(version) ?? null, agesOf(version));
        const latestFit = [...windows].reverse().find((w) => w.decay);
        const economicsWindow = [...windows].reverse().find((w) => w.economics);
        const live = await liveStatus(modelId);
        // What actually scores the model's events, and whether it agrees with the registry (the Serving card).
        const serving = await servingStatus(clickhouse, options.config, modelId);
        const lastKind = decisionRows[0]?.kind ?? null;
        const now = Date.now();

        if (versions.length === 0 && windows.length === 0 && decisionRows.length === 0) {
          return reply
            .code(404)
            .send({ error: 'not-found', message: `no model ${modelId}: nothing in the registry and no decisions` });
        }

        return {
          modelId,
          generatedAt: now,
          health: live?.health ?? deriveHealth(windows[windows.length - 1] ?? null, lastKind, observedIngest()),
          stage: live?.stage ?? deriveStage(lastKind),
          live,
          serving,
          versions: versions.map((v) => ({
            version: v.version,
            stage: v.stage,
            trainedAt: Number(v.created),
            promotedAt: v.promoted === null ? null : Number(v.promoted),
            parentVersion: v.parent_version || null,
            trainer: v.trainer,
            metrics: json(v.metrics),
            stageReason: v.stage_reason,
            lineageId: v.lineage_id,
          })),
          stageEvents: stageEvents.map((e) => ({
            version: e.version,
            from: e.from_stage,
            to: e.to_stage,
            actor: e.actor,
            reason: e.reason,
            at: Number(e.at),
          })),
          windowMs,
          windows: windows.map(
            ({ decay: _decay, fullDecay: _full, economics: _economics, inputs: _inputs, ...w }) => w,
          ),
          decay: {
            latest: latestFit
              ? {
                  version: latestFit.version,
                  fittedAt: latestFit.at,
                  decisionId: latestFit.decisionId,
                  fit: latestFit.decay,
                  halfLife: halfLifeOf(latestFit.decay),
                  timeToBreach: breachFromNow(latestFit.decay, latestFit.at, now),
                }
              : null,
            byVersion: fits,
          },
          // The latest cost-aware outcome, stated the one way (detectors/texts), with the decision it belongs to.
          economics: economicsWindow
            ? {
                ...economicsWindow.economics,
                decisionId: economicsWindow.decisionId,
                decisionKind: economicsWindow.kind,
                decidedAt: economicsWindow.at,
                statement: decisionTexts({
                  reason: '',
                  statistics: { economics: economicsWindow.economics, decay: economicsWindow.fullDecay },
                  details: { inputs: economicsWindow.inputs },
                }).economics,
              }
            : null,
          decisions: decisionRows.map((d) => ({
            decisionId: d.decision_id,
            at: Number(d.at),
            kind: d.kind,
            version: d.version,
            actor: d.actor,
            reason: d.reason,
            reasonText: displayReason(d.reason),
            workflowId: d.workflow_id,
            runId: d.run_id,
          })),
          comparisons: verdictRows.map((r) => {
            const verdict = obj(json(r.verdict));
            const shadow =
              shadowRows.find((s) =>
                r.evaluation_id ? s.evaluation_id === r.evaluation_id : s.candidate === r.version,
              ) ?? null;
            return {
              decisionId: r.decision_id,
              at: Number(r.at),
              kind: r.kind,
              candidate: r.version,
              champion: r.champion || shadow?.champion || null,
              reason: r.reason,
              verdict,
              shadow: shadow ? shadowSummary(shadow) : null,
            };
          }),
          shadowEvaluations: shadowRows.map(shadowSummary),
          lossEvaluations: lossEvaluations(lossRows, verdictRows, lossCheckpoints),
          segments,
          ingestBucketMs: bucketMs,
          ingest: denseBuckets(
            ingest.map((r) => ({
              start: Number(r.start),
              events: Number(r.events),
              labelled: Number(r.labels),
              deadLetters: Number(r.dead),
            })),
            bucketMs,
          ),
        };
      },
    );
  };
}

/** Accuracy of each side with a Wilson interval and the paired accuracy difference with a normal interval (95%). */
function shadowSummary(s: ShadowEvaluationRow) {
  const n = Number(s.n);
  const level = 0.95;
  return {
    evaluationId: s.evaluation_id,
    candidate: s.candidate,
    champion: s.champion,
    source: s.source,
    n,
    level,
    accuracy: pairedAccuracy(
      {
        n,
        candidate: Number(s.acc_candidate),
        champion: Number(s.acc_champion),
        differenceMean: Number(s.diff_mean),
        differenceSd: s.diff_sd === null ? null : Number(s.diff_sd),
      },
      level,
    ),
    logLoss: { candidate: Number(s.ll_candidate), champion: Number(s.ll_champion) },
    from: Number(s.first),
    to: Number(s.last),
  };
}
