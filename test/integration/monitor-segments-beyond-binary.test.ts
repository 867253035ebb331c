import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staggerOffsetMs, windowStartAt } from '../../detectors/monitor/schedule.ts';
import type { WindowEvaluation } from '../../detectors/monitor/types.ts';
import { Random } from '../../detectors/random.ts';
import type { SegmentReport } from '../../detectors/segments/evaluate-segments.ts';
import { listDecisions, type DecisionRecord } from '../../platform/clickhouse/decisions-repository.ts';
import {
  ClickHouseIngestRepository,
  encodeLabel,
  encodeScoringEvent,
} from '../../platform/clickhouse/ingest-repository.ts';
import type { ScoringEventRow } from '../../platform/contracts.ts';
import { parsePolicy } from '../../platform/policy-file.ts';
import { monitorWorkflowId, statusQuery, type MonitorStatus } from '../../workflows/messages.ts';
import { OUTCOME_CLASSES, registerOutcomeModels } from '../helpers/outcome-history.ts';
import { uniqueName } from '../helpers/stack.ts';
import { timeWithRoomInWindows } from '../helpers/window-room.ts';
import { startMonitorHarness, type MonitorHarness } from '../helpers/monitor-harness.ts';

const HOUR = 3_600_000;
const EVENTS_PER_WINDOW = 1000;
/** Windows written before the monitors start; the first becomes the reference. */
const WINDOWS = 6;
/**
 * Windows from this one on degrade country=DE only (a fifth of the traffic), and shift the inputs
 * of country=IT (a tenth, the key's `__other__` segment) while withholding its labels.
 */
const SHIFT_WINDOW = 3;
/** The segment whose inputs shift without labels: IT, outside the key's top 3. */
const UNLABELLED = 'country=__other__';
const COUNTRIES = ['DE', 'FR', 'US', 'FR', 'US', 'DE', 'US', 'FR', 'US', 'IT'];
/** The segment SLOs: log loss 0.8 and RMSE 9 (with worthlessError 20) as quality. */
const MULTICLASS_SLO = Math.exp(-0.8);
const REGRESSION_SLO = 0.55;

type Kind = 'multiclass' | 'regression';

/**
 * Per-segment quality of a multiclass and a regression model through the real ModelMonitor
 * workflow (time-skipping test server, real chDB), as monitor-segments.test.ts does for a binary
 * model (every window written before the monitors start, as monitor-beyond-binary.test.ts does):
 * traffic from four countries; from the fourth window on only country=DE degrades (the
 * classifier is confidently wrong more often; the regressor's errors grow). The policies name
 * `country` as a segment key with a segment SLO that retrains; the trigger is manual and
 * approval is required, so the decision the segment SLO fires waits for a person. DE's quality,
 * from its own outcome sums, falls below the SLO while the whole window's barely moves. From the
 * same window on, IT's inputs shift (the classifier's probabilities flatten; the regressor's
 * inputs move to large |x|, where its errors are largest) and its labels are withheld: every
 * segment is estimated label-free with the window (patched('segment-estimates')), and IT's
 * segment (`__other__`) shows its estimate dropping while the whole window's stays up.
 */
describe('segments of multiclass and regression models in the monitor: one segment degrades', () => {
  let harness: MonitorHarness;
  const models: Record<Kind, string> = { multiclass: uniqueName('mc-seg'), regression: uniqueName('reg-seg') };
  const decisions = new Map<Kind, DecisionRecord[]>();
  const statuses = new Map<Kind, MonitorStatus>();

  /** Each model's window number by its start. */
  const emitted = new Map<string, number>();

  /** Window `index` of a model: its events in the window's first half, each labelled ten minutes later. */
  async function emit(kind: Kind, start: number, index: number): Promise<void> {
    const end = start + HOUR / 2;
    emitted.set(`${kind}:${start}`, index);
    const modelId = models[kind];
    const random = new Random((kind === 'multiclass' ? 3000 : 4000) + index);
    const events: ScoringEventRow[] = [];
    const labels: ReturnType<typeof encodeLabel>[] = [];
    for (let i = 0; i < EVENTS_PER_WINDOW; i++) {
      const ts = start + Math.floor(((end - start) * i) / EVENTS_PER_WINDOW);
      const country = COUNTRIES[i % COUNTRIES.length]!;
      const degraded = index >= SHIFT_WINDOW && country === 'DE';
      // IT's inputs shift (flat probabilities; large |x|, where the regressor errs most) and its labels never come.
      const shifted = index >= SHIFT_WINDOW && country === 'IT';
      const x = shifted ? random.normal(2.5, 0.3) : random.normal();
      const id = `${modelId}-${index}-${i}`;
      let prediction: Pick<ScoringEventRow, 'prediction_value' | 'prediction_probabilities'>;
      let label: { label: string; label_numeric: number | null };
      if (kind === 'multiclass') {
        const truth = random.integer(0, 2);
        // DE's degraded model is as sure as ever but often sure of the wrong class (only labels
        // show it); IT's shifted inputs flatten its probabilities (the estimate shows it).
        const wrong = degraded && random.next() < 0.45;
        const favoured = wrong ? (truth + random.integer(1, 2)) % 3 : truth;
        const sharpness = shifted ? 0.2 : 3;
        const exp = OUTCOME_CLASSES.map((_, k) => Math.exp(random.normal() + (k === favoured ? sharpness : 0)));
        const total = exp.reduce((a, b) => a + b, 0);
        prediction = {
          prediction_value: null,
          prediction_probabilities: Object.fromEntries(OUTCOME_CLASSES.map((c, k) => [c, exp[k]! / total])),
        };
        label = { label: OUTCOME_CLASSES[truth]!, label_numeric: null };
      } else {
        // The target follows x; the error grows with |x| (DE's degraded model errs everywhere).
        const truth = 100 + 20 * x + random.normal(0, 2);
        prediction = { prediction_value: truth + random.normal(0, degraded ? 12 : 1 + 2.5 * Math.abs(x)) };
        label = { label: String(truth), label_numeric: truth };
      }
      events.push({
        event_id: id,
        model_id: modelId,
        model_version: 'v1',
        ts,
        subject_id: '',
        num_features: { x },
        cat_features: { country },
        missing_features: [],
        prediction_score: null,
        prediction_class: null,
        ...prediction,
        metadata: {},
        contract_version: 1,
        source: 'test',
        source_ref: '',
      } as ScoringEventRow);
      if (!shifted)
        labels.push(
          encodeLabel({
            event_id: id,
            ...label,
            label_ts: ts + 10 * 60_000,
            contract_version: 1,
            source: 'test',
            source_ref: '',
          }),
        );
    }
    const repo = new ClickHouseIngestRepository(harness.ch.client);
    await repo.insertEncoded('scoring_events', events.map(encodeScoringEvent));
    await repo.insertEncoded('labels', labels);
  }

  beforeAll(async () => {
    harness = await startMonitorHarness();
    const { env, ch, config } = harness;
    await registerOutcomeModels(harness, models);
    // Every window of both models, written before the monitors start (at the windows they will evaluate).
    const startedAt = await timeWithRoomInWindows(env, [models.multiclass, models.regression], HOUR);
    for (const kind of ['multiclass', 'regression'] as const) {
      const first = windowStartAt(startedAt, HOUR, staggerOffsetMs(models[kind], HOUR));
      for (let w = 0; w < WINDOWS; w++) await emit(kind, first + w * HOUR, w);
    }
    const segments = (min: number) => ({
      keys: [{ feature: 'country' }],
      topK: 3,
      minEvents: 100,
      slo: { min, minEvents: 150, action: 'retrain' as const },
    });
    const guards = { cooldown: '1h', approval: { required: true, timeout: '24h' } };
    const policies = [
      parsePolicy({
        name: 'mc-segments',
        version: '1',
        model: models.multiclass,
        quality: { metric: 'log_loss' },
        trigger: { kind: 'manual' },
        guards,
        segments: segments(MULTICLASS_SLO),
      }),
      parsePolicy({
        name: 'reg-segments',
        version: '1',
        model: models.regression,
        quality: { metric: 'rmse', worthlessError: 20 },
        trigger: { kind: 'manual' },
        guards,
        segments: segments(REGRESSION_SLO),
      }),
    ];
    const worker = await harness.createWorker();
    await worker.runUntil(async () => {
      const handles = await Promise.all(
        policies.map((p) =>
          env.client.workflow.start('ModelMonitor', {
            workflowId: monitorWorkflowId(p.policy.model),
            taskQueue: config.temporal.taskQueue,
            args: [{ modelId: p.policy.model, policy: p.policy, policyRef: p.ref, cadence: '1h', settle: '0s' }],
          }),
        ),
      );
      // Until every written window after the reference has been decided: wait for that, not for a time.
      // Each monitor's status is taken as soon as its last written window is decided (the next, empty,
      // window is an hour later; the loop looks every half hour).
      const done = (kind: Kind) =>
        (decisions.get(kind) ?? []).filter((d) => segmentsOf(d) && windowIndex(kind, d) !== undefined).length >=
        WINDOWS - 1;
      while (statuses.size < 2) {
        for (const [i, kind] of (['multiclass', 'regression'] as const).entries()) {
          if (statuses.has(kind)) continue;
          decisions.set(kind, (await listDecisions(ch.client, { modelId: models[kind], limit: 100 })).reverse());
          if (done(kind)) statuses.set(kind, await handles[i]!.query(statusQuery));
        }
        if (statuses.size < 2) await env.sleep(HOUR / 2);
      }
      await Promise.all(handles.map((h) => h.terminate('test over')));
    });
  }, 600_000);

  afterAll(async () => {
    await harness?.teardown();
  });

  /** The decisions of the written windows (later windows are empty). */
  const ticks = (kind: Kind) =>
    (decisions.get(kind) ?? []).filter(
      (d) =>
        ['no-action', 'retrain', 'approval-requested', 'blocked'].includes(d.kind) &&
        windowIndex(kind, d) !== undefined,
    );
  const segmentsOf = (d: DecisionRecord) => (d.statistics as { segments?: SegmentReport }).segments;
  const windowIndex = (kind: Kind, d: DecisionRecord): number | undefined =>
    emitted.get(`${kind}:${(d.statistics as { window?: { start: number } } | null)?.window?.start}`);
  const metricOf = { multiclass: 'log_loss', regression: 'rmse' } as const;
  const sloOf = { multiclass: MULTICLASS_SLO, regression: REGRESSION_SLO } as const;
  /** How far the unlabelled segment's estimated quality falls once its inputs shift, at least. */
  const DROP = { multiclass: 0.2, regression: 0.08 } as const;

  for (const kind of ['multiclass', 'regression'] as const) {
    describe(kind, () => {
      it("reports each segment's realised quality from its own outcome sums, in the policy's metric", () => {
        const judged = ticks(kind).filter((d) => segmentsOf(d));
        expect(judged.length).toBe(WINDOWS - 1);
        let pooled = 0;
        for (const d of judged) {
          const report = segmentsOf(d)!;
          expect(report.segments.map((s) => s.segment).sort()).toEqual(
            ['country=DE', 'country=FR', 'country=US', 'country=__other__'].sort(),
          );
          const whole = (d.statistics as WindowEvaluation).quality.realised!;
          let labelled = 0;
          for (const s of report.segments) {
            // The shifted segment's labels are withheld: no realised quality.
            if (s.segment === UNLABELLED && windowIndex(kind, d)! >= SHIFT_WINDOW) {
              expect(s.quality, s.segment).toBeNull();
              continue;
            }
            const q = s.quality!;
            expect(q.metric, s.segment).toBe(metricOf[kind]);
            if (q.pooledWindows !== undefined) {
              // Short of the SLO's labelled minimum (__other__'s 100 events): judged with its labels
              // of the windows just before it too (rule revision 6, segment-pooled-quality).
              expect(q.pooledWindows, s.segment).toBeGreaterThanOrEqual(2);
              expect(q.n, s.segment).toBeGreaterThan(s.events);
              pooled++;
            } else expect(q.n, s.segment).toBe(s.events);
            expect(q.figure!.value, s.segment).not.toBeNull();
            expect(q.interval!.lower).toBeLessThanOrEqual(q.value!);
            expect(q.interval!.upper).toBeGreaterThanOrEqual(q.value!);
            // Every event of a labelled segment is labelled here: its own share of the window.
            labelled += s.events;
          }
          // The segments of the key partition the window's labelled events.
          expect(labelled).toBe(whole.n);
        }
        // The small segment was pooled once it had windows before it.
        expect(pooled).toBeGreaterThan(0);
      });

      it('holds DE to its SLO once it degrades, while the whole window barely moves', () => {
        for (const d of ticks(kind).filter((t) => segmentsOf(t))) {
          const report = segmentsOf(d)!;
          const index = windowIndex(kind, d)!;
          const whole = (d.statistics as WindowEvaluation).quality.realised!.value!;
          const de = report.segments.find((s) => s.segment === 'country=DE')!;
          // The whole window stays well above the segment SLO (DE is a fifth of it).
          expect(whole, `window ${index}`).toBeGreaterThan(sloOf[kind] + 0.1);
          if (index < SHIFT_WINDOW) {
            expect(report.sloBreaches, `window ${index}`).toEqual([]);
            expect(de.quality!.value!).toBeGreaterThan(sloOf[kind]);
            continue;
          }
          expect(de.sloBreached, `window ${index}`).toBe(true);
          expect(de.quality!.interval!.upper).toBeLessThan(sloOf[kind]);
          expect(report.sloBreaches.map((b) => b.segment)).toEqual(['country=DE']);
          expect(report.sloBreaches[0]!.figure!.metric).toBe(metricOf[kind]);
          expect(report.drivers[0]).toBe('country=DE');
          for (const other of ['country=FR', 'country=US']) {
            const s = report.segments.find((x) => x.segment === other)!;
            expect(s.sloBreached, other).toBe(false);
            expect(s.quality!.value!, other).toBeGreaterThan(de.quality!.value! + 0.2);
          }
        }
      });

      it("estimates each segment without labels: the unlabelled segment's estimate drops while the whole window's stays up", () => {
        const judged = ticks(kind).filter((d) => segmentsOf(d));
        const before: number[] = [];
        const wholeBefore: number[] = [];
        for (const d of judged) {
          const index = windowIndex(kind, d)!;
          const whole = (d.statistics as WindowEvaluation).quality.estimated!;
          const report = segmentsOf(d)!;
          // Every segment is estimated, as the whole window is: the same method and estimator source.
          for (const s of report.segments) {
            const e = s.estimated!;
            expect(e, `${s.segment} window ${index}`).toBeTruthy();
            expect(e.metric).toBe(metricOf[kind]);
            expect(e.method).toBe(kind === 'multiclass' ? 'CBPE' : 'DLE');
            expect(e.method).toBe(whole.method);
            expect(e.fittedOn).toEqual(whole.fittedOn);
            expect(e.fittedOn!.source).toBe('reference-events');
            expect(e.n, s.segment).toBe(s.events);
            expect(e.value, s.segment).not.toBeNull();
            expect(e.figure!.value, s.segment).not.toBeNull();
          }
          const unlabelled = report.segments.find((s) => s.segment === UNLABELLED)!.estimated!.value!;
          if (index < SHIFT_WINDOW) {
            before.push(unlabelled);
            wholeBefore.push(whole.value!);
            continue;
          }
          const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
          const segmentDrop = mean(before) - unlabelled;
          const wholeDrop = mean(wholeBefore) - whole.value!;
          // The segment's estimate drops well below where it was; the whole window's (of which it
          // is a tenth) moves far less and stays above it …
          expect(segmentDrop, `window ${index}`).toBeGreaterThan(DROP[kind]);
          expect(wholeDrop, `window ${index}`).toBeLessThan(segmentDrop / 3);
          expect(whole.value!, `window ${index}`).toBeGreaterThan(unlabelled + DROP[kind]);
          // … and no label of it came: its realised quality is absent, so only the estimate shows it.
          expect(report.segments.find((s) => s.segment === UNLABELLED)!.quality).toBeNull();
        }
        expect(before).toHaveLength(SHIFT_WINDOW - 1);
      });

      it('lets the segment SLO drive the decision and names the segment and its metric in the provenance', () => {
        const after = ticks(kind).filter((d) => windowIndex(kind, d)! >= SHIFT_WINDOW);
        expect(after.length).toBe(WINDOWS - SHIFT_WINDOW);
        for (const d of after) {
          const details = d.details as {
            trigger: { fired: boolean; reason: string };
            segmentDrivers: string[];
            blockedBy: string | null;
            inputs: Record<string, unknown>;
          };
          expect(details.trigger.fired).toBe(true);
          expect(details.trigger.reason).toContain('country=DE');
          expect(details.trigger.reason).toContain(`(${metricOf[kind]} `);
          expect(details.segmentDrivers[0]).toBe('country=DE');
          expect(String(details.inputs.segmentSloBreaches)).toBe('country=DE');
          // The policy's guards still apply: a person approves the retrain (asked once, then waited for).
          expect(['approval-requested', 'blocked']).toContain(d.kind);
          if (d.kind === 'blocked') expect(details.blockedBy).toBe('approval');
        }
        for (const d of ticks(kind).filter((t) => windowIndex(kind, t)! < SHIFT_WINDOW)) {
          expect(d.kind).toBe('no-action');
          expect((d.details as { trigger: { fired: boolean } }).trigger.fired).toBe(false);
        }
      });

      it('finds the model degraded for the segment', () => {
        // No version is served here (the model is only registered), so serving's mismatch leads the
        // findings; the segment's finding is among them.
        const findings = statuses.get(kind)!.healthFindings ?? [];
        const degraded = findings.filter((f) => f.state === 'degraded');
        expect(degraded.map((f) => f.reason).join(' ')).toContain('country=DE');
      });
    });
  }
});
