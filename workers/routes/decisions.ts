import type { SegmentReport } from '../../detectors/segments/evaluate-segments.ts';
import { latestSegmentReport } from '../../platform/clickhouse/dashboard-repository.ts';
import type { ClickHouseClient } from '@clickhouse/client';
import { z } from 'zod';
import { halfLifeEvidence } from '../../detectors/decay/evidence.ts';
import type { DecayFit } from '../../detectors/decay/types.ts';
import { decisionTexts } from '../../detectors/texts/decision-view.ts';
import { formatEstimateHours } from '../../detectors/texts/format.ts';
import {
  getDecision,
  listDecisions,
  type DecisionKind,
  type DecisionRecord,
} from '../../platform/clickhouse/decisions-repository.ts';
import type { RouteModule } from '../api.ts';

const listQuery = z
  .object({
    model: z.string().max(128).optional(),
    kind: z.string().max(256).optional(),
    since: z.coerce.number().int().nonnegative().optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

/**
 * A stored decision as the API returns it: the record verbatim (its `reason` as written), plus
 * `reasonText` (the reason as people read it: older records' doubled prefixes removed),
 * `economicsStatement` (the one statement of a cost-aware outcome, or null) from detectors/texts,
 * `probeStatement` (what it did with a challenger probe, one line each; empty when nothing), and
 * `halfLife` (whether the recorded decay fit had the evidence to report one, and the text).
 */
export function withTexts(d: DecisionRecord) {
  const texts = decisionTexts(d);
  const statistics = d.statistics as { decay?: DecayFit | null } | null;
  const decay = statistics?.decay ?? null;
  const evidence = halfLifeEvidence(decay);
  return {
    ...d,
    reasonText: texts.reasonText,
    economicsStatement: texts.economics,
    probeStatement: texts.probe,
    halfLife:
      decay === null
        ? null
        : {
            ...evidence,
            text:
              evidence.reportable && decay.halfLifeHours !== null
                ? formatEstimateHours(decay.halfLifeHours, decay.halfLifeInterval)
                : null,
          },
  };
}

/** The newest segment report of a model with the decision it belongs to, or null. */
export async function segmentResults(
  clickhouse: ClickHouseClient,
  modelId: string,
): Promise<{ decisionId: string; at: number; report: SegmentReport } | null> {
  const row = await latestSegmentReport(clickhouse, modelId);
  if (!row) return null;
  return { decisionId: row.decision_id, at: Number(row.at), report: JSON.parse(row.segments) as SegmentReport };
}

/** Decisions with provenance: GET /v1/decisions, GET /v1/decisions/:id, GET /v1/models/:model/segments (viewer and up). */
export function decisionRoutes(clickhouse: ClickHouseClient): RouteModule {
  return (app, guard) => {
    app.get('/v1/decisions', { preHandler: guard('viewer') }, async (request, reply) => {
      const parsed = listQuery.safeParse(request.query);
      if (!parsed.success)
        return reply.code(400).send({
          error: 'bad-request',
          message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        });
      const q = parsed.data;
      const decisions = await listDecisions(clickhouse, {
        modelId: q.model,
        kinds: q.kind ? (q.kind.split(',') as DecisionKind[]) : undefined,
        since: q.since,
        limit: q.limit,
      });
      return decisions.map(withTexts);
    });
    // The newest per-segment drift, data quality and quality (from the decision that recorded them).
    app.get<{ Params: { model: string } }>(
      '/v1/models/:model/segments',
      { preHandler: guard('viewer') },
      async (request, reply) => {
        const segments = await segmentResults(clickhouse, request.params.model);
        if (!segments)
          return reply.code(404).send({
            error: 'not-found',
            message: `no segment results for model ${request.params.model}: its policy names no segment keys, or no window was judged since`,
          });
        return segments;
      },
    );
    app.get<{ Params: { id: string } }>(
      '/v1/decisions/:id',
      { preHandler: guard('viewer') },
      async (request, reply) => {
        const decision = await getDecision(clickhouse, request.params.id);
        if (!decision) return reply.code(404).send({ error: 'not-found', message: `no decision ${request.params.id}` });
        return withTexts(decision);
      },
    );
  };
}
