import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pairedLossVerdict, perEventLosses, promotionVerdict } from '../../detectors/promotion/index.ts';
import { chooseLiveSource } from '../../detectors/promotion/live-choice.ts';
import { pairedLossSums, pairedLossTest } from '../../detectors/promotion/paired-loss.ts';
import type { PromotionVerdict } from '../../detectors/promotion/verdict.ts';
import { Random } from '../../detectors/random.ts';
import { recordDecision, type DecisionRecord } from '../../platform/clickhouse/decisions-repository.ts';
import { storeShadowOutcomes } from '../../platform/clickhouse/shadow-outcome-repository.ts';
import { storeShadowResults } from '../../platform/clickhouse/shadow-repository.ts';
import { CHROMIUM, SHOTS, startDashboard, type Dashboard } from '../helpers/dashboard-server.ts';

/**
 * The shadow evaluations of multiclass and regression challengers on the model page, in headless
 * Chromium: the pairs a shadow evaluation stores (shadow_outcome_results: both outputs, the
 * truth, both losses) for a multiclass challenger promoted after a replay (its decision does not
 * name the evaluation) and a regression challenger rejected on live pairs (its decision does), with
 * the verdicts pairedLossVerdict gives on the same losses, recorded as the Retrain workflow records
 * them; and a binary model whose shadow_results must keep the binary comparison panel and no other.
 */

const VIEWER = 'viewer-token-loss-evaluations-0123';
const MULTICLASS = 'kinds-multiclass';
const REGRESSION = 'kinds-regression';
const BINARY = 'kinds-binary';
const CLASSES = ['low', 'mid', 'high'];
const HOUR = 3_600_000;

interface SeededEvaluation {
  evaluationId: string;
  champion: number[];
  challenger: number[];
  verdict: PromotionVerdict;
}

/** A softmax over three classes that puts `sharpness` on the true class, with noise. */
function probabilities(random: Random, truth: number, sharpness: number): number[] {
  const logits = CLASSES.map((_, j) => (j === truth ? sharpness : 0) + random.normal(0, 1));
  const top = Math.max(...logits);
  const e = logits.map((l) => Math.exp(l - top));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}

const argmax = (p: readonly number[]) => p.indexOf(Math.max(...p));

function decision(
  modelId: string,
  kind: 'promote' | 'reject',
  version: string,
  at: number,
  reason: string,
  statistics: unknown,
): DecisionRecord {
  return {
    decisionId: `retrain-${modelId}/${kind}/4`,
    modelId,
    modelVersion: version,
    workflowId: `halflife-retrain-${modelId}`,
    runId: 'seeded',
    decidedAt: at,
    kind,
    actor: 'system',
    reason,
    policy: { name: 'kinds', version: '1', hash: '0'.repeat(64) },
    statistics,
    thresholds: null,
    windows: null,
    trainingWindow: null,
    lineageId: '',
    details: { retrainId: `retrain-${modelId}`, championVersion: 'v1' },
  };
}

describe.skipIf(!existsSync(CHROMIUM))('shadow evaluations on per-event loss on the web dashboard', () => {
  let dashboard: Dashboard;
  let baseUrl: string;
  let page: Page;
  let multiclass: SeededEvaluation;
  let regression: SeededEvaluation;
  const now = Date.now();

  beforeAll(async () => {
    dashboard = await startDashboard({
      name: 'dashboard-loss-evaluations',
      viewerToken: VIEWER,
      failedResponsesAreErrors: true,
      seed: async (clickhouse) => {
        const client = clickhouse.client;
        const latencies = (random: Random, ms: number) =>
          Array.from({ length: 200 }, () => ms + random.uniform(0, 0.4));

        // Multiclass: the challenger is sharper on the true class; compared on log loss, a replay.
        const rm = new Random(11);
        const n = 1500;
        const truth = Array.from({ length: n }, () => rm.integer(0, 2));
        const championOut = truth.map((y) => probabilities(rm, y, 1.2));
        const challengerOut = truth.map((y) => probabilities(rm, y, 1.6));
        const championLoss = perEventLosses('logLoss', truth, championOut);
        const challengerLoss = perEventLosses('logLoss', truth, challengerOut);
        const multiclassVerdict = pairedLossVerdict(
          {
            metric: 'logLoss',
            champion: championLoss,
            challenger: challengerLoss,
            correct: {
              champion: championOut.map((p, i) => argmax(p) === truth[i]),
              challenger: challengerOut.map((p, i) => argmax(p) === truth[i]),
            },
          },
          {
            championLatenciesMs: latencies(rm, 2),
            challengerLatenciesMs: latencies(rm, 2.1),
            championServing: { requests: n, errors: 0 },
            challengerServing: { requests: n, errors: 0 },
          },
          { guardrails: { maxLatencyP99Ratio: 2 } },
        );
        multiclass = {
          evaluationId: 'shadow-multiclass-replay',
          champion: championLoss,
          challenger: challengerLoss,
          verdict: multiclassVerdict,
        };
        await storeShadowOutcomes(client, {
          evaluation_id: multiclass.evaluationId,
          model_id: MULTICLASS,
          candidate_version: 'v2',
          champion_version: 'v1',
          source: 'replay',
          kind: 'multiclass',
          loss: 'logLoss',
          evaluated_at: now - 2 * HOUR,
          event_ids: truth.map((_, i) => `mc-${i}`),
          label_classes: truth.map((y) => CLASSES[y]!),
          champion_probabilities: championOut.map((p) => Object.fromEntries(CLASSES.map((c, j) => [c, p[j]!]))),
          candidate_probabilities: challengerOut.map((p) => Object.fromEntries(CLASSES.map((c, j) => [c, p[j]!]))),
          champion_losses: championLoss,
          candidate_losses: challengerLoss,
          champion_latency_ms: truth.map(() => 2),
          candidate_latency_ms: truth.map(() => 2.1),
        });
        // A promotion after a replay: the decision carries the verdict, not the evaluation's id.
        await recordDecision(
          client,
          decision(
            MULTICLASS,
            'promote',
            'v2',
            now - 2 * HOUR + 60_000,
            'challenger passed validation, shadow evaluation and canary',
            {
              verdict: multiclassVerdict,
            },
          ),
        );

        // Regression: the challenger is worse (a biased prediction), compared on squared error, live pairs.
        const rr = new Random(23);
        const m = 900;
        const y = Array.from({ length: m }, () => rr.normal(50, 10));
        const championPred = y.map((v) => v + rr.normal(0, 2));
        const challengerPred = y.map((v) => v + 2 + rr.normal(0, 2));
        const championSq = perEventLosses('squaredError', y, championPred);
        const challengerSq = perEventLosses('squaredError', y, challengerPred);
        const regressionVerdict = pairedLossVerdict(
          { metric: 'squaredError', champion: championSq, challenger: challengerSq },
          {
            championServing: { requests: m, errors: 0 },
            challengerServing: { requests: m, errors: 0 },
          },
          { test: 'non-inferiority', margin: 0.5 },
        );
        regression = {
          evaluationId: 'shadow-regression-live',
          champion: championSq,
          challenger: challengerSq,
          verdict: regressionVerdict,
        };
        await storeShadowOutcomes(client, {
          evaluation_id: regression.evaluationId,
          model_id: REGRESSION,
          candidate_version: 'v2',
          champion_version: 'v1',
          source: 'live',
          kind: 'regression',
          loss: 'squaredError',
          evaluated_at: now - HOUR,
          event_ids: y.map((_, i) => `rg-${i}`),
          label_values: y,
          champion_values: championPred,
          candidate_values: challengerPred,
          champion_losses: championSq,
          candidate_losses: challengerSq,
          champion_latency_ms: y.map(() => 1),
          candidate_latency_ms: y.map(() => 1),
        });
        const reason = `shadow evaluation: ${regressionVerdict.decision}: ${regressionVerdict.reasons.join('; ')}`;
        await recordDecision(
          client,
          decision(REGRESSION, 'reject', 'v2', now - HOUR + 60_000, reason, {
            shadow: {
              evaluationId: regression.evaluationId,
              n: m,
              verdict: regressionVerdict,
              statistics: {
                source: 'live',
                live: chooseLiveSource(m, 500, { start: now - 3 * HOUR, end: now - HOUR }),
              },
            },
          }),
        );

        // Binary: shadow_results and a promotion with the binary verdict.
        const rb = new Random(37);
        const k = 800;
        const labels = Array.from({ length: k }, () => (rb.bernoulli(0.5) ? 1 : 0));
        const score = (label: number, shift: number) =>
          Math.min(0.99, Math.max(0.01, 0.5 + (label === 1 ? shift : -shift) + rb.normal(0, 0.2)));
        const championScores = labels.map((l) => score(l, 0.1));
        const challengerScores = labels.map((l) => score(l, 0.2));
        await storeShadowResults(client, {
          evaluation_id: 'shadow-binary',
          model_id: BINARY,
          candidate_version: 'v2',
          champion_version: 'v1',
          source: 'replay',
          evaluated_at: now - HOUR,
          event_ids: labels.map((_, i) => `bn-${i}`),
          labels,
          champion_scores: championScores,
          candidate_scores: challengerScores,
          champion_latency_ms: labels.map(() => 1),
          candidate_latency_ms: labels.map(() => 1),
        });
        await recordDecision(
          client,
          decision(
            BINARY,
            'promote',
            'v2',
            now - HOUR + 60_000,
            'challenger passed validation, shadow evaluation and canary',
            {
              verdict: promotionVerdict({ labels, champion: championScores, challenger: challengerScores }),
            },
          ),
        );
      },
    });
    ({ page, baseUrl } = dashboard);
  });

  afterAll(async () => {
    await dashboard?.close();
  });

  const detail = async (model: string) => {
    const res = await fetch(`${baseUrl}/v1/dashboard/models/${model}`, {
      headers: { authorization: `Bearer ${VIEWER}` },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as {
      comparisons: { decisionId: string }[];
      lossEvaluations: {
        evaluationId: string;
        source: string;
        n: number;
        meanLoss: { candidate: number; champion: number };
        difference: { value: number };
        pairs: {
          challengerLower: number;
          challengerHigher: number;
          tied: number;
          quantiles: { q: number; value: number }[];
        };
        running: { n: number; mean: number; lower: number | null; upper: number | null }[] | null;
        decision: {
          decisionId: string;
          kind: string;
          verdict: PromotionVerdict;
          live: { labelledPairs: number; used: boolean } | null;
        } | null;
      }[];
    };
  };

  it('the seeded verdicts are what the panel must show: the multiclass challenger promoted, the regression one rejected', () => {
    expect(multiclass.verdict.decision).toBe('promote');
    expect(regression.verdict.decision).toBe('reject');
  });

  it('the API summarises each evaluation from its stored pairs and joins the decision that rests on it', async () => {
    for (const [model, seeded, kind] of [
      [MULTICLASS, multiclass, 'promote'],
      [REGRESSION, regression, 'reject'],
    ] as const) {
      const [e] = (await detail(model)).lossEvaluations;
      expect(e!.evaluationId).toBe(seeded.evaluationId);
      const n = seeded.champion.length;
      expect(e!.n).toBe(n);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(e!.meanLoss.champion).toBeCloseTo(mean(seeded.champion), 9);
      expect(e!.meanLoss.candidate).toBeCloseTo(mean(seeded.challenger), 9);
      // How the pairs split, counted here from the same losses.
      const d = seeded.champion.map((c, i) => c - seeded.challenger[i]!);
      expect(e!.pairs.challengerLower).toBe(d.filter((x) => x > 0).length);
      expect(e!.pairs.challengerHigher).toBe(d.filter((x) => x < 0).length);
      expect(e!.pairs.tied).toBe(d.filter((x) => x === 0).length);
      // Each percentile is one of the differences, at its rank.
      const sorted = [...d].sort((a, b) => a - b);
      for (const { q, value } of e!.pairs.quantiles) {
        const rank = sorted.findIndex((x) => Math.abs(x - value) < 1e-9);
        expect(rank).toBeGreaterThanOrEqual(0);
        expect(Math.abs(rank - q * n)).toBeLessThanOrEqual(1);
      }
      // The running mean: pair counts at even steps, ending at all pairs with the paired t of all of them.
      const running = e!.running!;
      const step = Math.floor(n / 120);
      expect(running.length).toBe(Math.floor(n / step) + (n % step === 0 ? 0 : 1));
      expect(running.slice(0, -1).every((p, i) => p.n === (i + 1) * step)).toBe(true);
      const last = running.at(-1)!;
      const t = pairedLossTest(pairedLossSums(seeded.champion, seeded.challenger))!;
      expect(last.n).toBe(n);
      expect(last.mean).toBeCloseTo(t.improvement, 9);
      expect(last.lower).toBeCloseTo(t.lower, 9);
      expect(last.upper).toBeCloseTo(t.upper, 9);
      expect(running.every((p) => p.lower === null || (p.lower <= p.mean && p.mean <= p.upper!))).toBe(true);
      // The decision: found by its evaluation id (regression) or by challenger and champion (multiclass).
      expect(e!.decision!.kind).toBe(kind);
      expect(e!.decision!.verdict.statistics.improvement!.lower).toBeCloseTo(
        seeded.verdict.statistics.improvement!.lower,
        12,
      );
    }
    const [live] = (await detail(REGRESSION)).lossEvaluations;
    expect(live!.source).toBe('live');
    expect(live!.decision!.live).toMatchObject({ labelledPairs: 900, used: true });
    const binary = await detail(BINARY);
    expect(binary.lossEvaluations).toEqual([]);
    expect(binary.comparisons).toHaveLength(1);
  });

  async function open(model: string) {
    await page.goto(`${baseUrl}/#/model/${encodeURIComponent(model)}`);
    await page.waitForSelector(`#page-model[data-model="${model}"]`);
  }

  it('shows the panel for a multiclass and a regression model with stored pairs', async () => {
    await page.goto(`${baseUrl}/`);
    await page.waitForSelector('#signin');
    await page.fill('#token', VIEWER);
    await page.click('#signin button[type=submit]');

    await open(MULTICLASS);
    const mc = page.locator(`#loss-evaluations .loss-evaluation[data-evaluation="${multiclass.evaluationId}"]`);
    await mc.waitFor();
    expect(await mc.getAttribute('data-verdict')).toBe('promote');
    expect(await mc.getAttribute('data-source')).toBe('replay');
    const imp = multiclass.verdict.statistics.improvement!;
    const three = (v: number) => String(Number(v.toPrecision(3)));
    // The verdict's interval as it computed it, and the pairs it rests on.
    expect(await mc.locator('tr[data-row="verdict"]').textContent()).toContain(
      `${three(imp.improvement)} [${three(imp.lower)}, ${three(imp.upper)}]`,
    );
    expect(await mc.locator('tr[data-row="pairs"]').textContent()).toContain('1,500 pairs, replayed');
    const d = multiclass.champion.map((c, i) => c - multiclass.challenger[i]!);
    expect(await mc.locator('.pairs-split p').getAttribute('data-split')).toBe(
      `${d.filter((x) => x > 0).length}/${d.filter((x) => x === 0).length}/${d.filter((x) => x < 0).length}`,
    );
    expect(await mc.locator('.guardrails').getAttribute('data-violations')).toBe('0');
    expect(await mc.locator('.guardrails').textContent()).toMatch(/latency p99: challenger [\d.]+ ms/);
    expect(await mc.locator('.forest svg').count()).toBe(1);
    // The running mean drew: its last point is the mean of all pairs.
    const chart = await page.evaluate((key) => {
      const c = (globalThis as unknown as { __halflife: { charts: Record<string, { data: number[][] }> } }).__halflife
        .charts[key]!;
      return { xs: c.data[0]!, mean: c.data[1]! };
    }, `loss-${multiclass.evaluationId}`);
    expect(chart.xs.at(-1)).toBe(1500);
    expect(chart.mean.at(-1)).toBeCloseTo(imp.improvement, 9);
    expect(await mc.locator('.loss-running canvas').count()).toBe(1);
    // Its verdict is shown here, not again among the binary comparisons.
    expect(await page.locator('#comparisons').count()).toBe(0);
    await page.locator('#loss-evaluations').screenshot({ path: path.join(SHOTS, 'loss-evaluations-multiclass.png') });

    await open(REGRESSION);
    const rg = page.locator(`#loss-evaluations .loss-evaluation[data-evaluation="${regression.evaluationId}"]`);
    await rg.waitFor();
    expect(await rg.getAttribute('data-verdict')).toBe('reject');
    expect(await rg.getAttribute('data-kind')).toBe('regression');
    expect(await rg.locator('tr[data-row="pairs"]').textContent()).toContain(
      '900 labelled live pairs (at least 500): the verdict rests on the events both versions scored live',
    );
    expect(await rg.locator('.loss-reasons').textContent()).toContain(
      'the whole interval is below the non-inferiority margin',
    );
    expect(await rg.locator('.guardrails').textContent()).toContain('not evaluated: latency p99');
    await page.locator('#loss-evaluations').screenshot({ path: path.join(SHOTS, 'loss-evaluations-regression.png') });
    expect(dashboard.consoleErrors).toEqual([]);
  });

  it('shows no such panel for a binary model, whose comparison keeps its own panel', async () => {
    await open(BINARY);
    await page.waitForSelector('#comparisons .comparison');
    expect(await page.locator('#loss-evaluations').count()).toBe(0);
    expect(await page.locator('#comparisons .comparison').count()).toBe(1);
    expect(dashboard.consoleErrors).toEqual([]);
  });
});
