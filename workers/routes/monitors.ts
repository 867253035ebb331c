import { z } from 'zod';
import type { ClickHouseClient } from '@clickhouse/client';
import { reassessStatus, type IngestObservation } from '../../detectors/monitor/health.ts';
import type { MonitorClient } from '../../operations/monitor-control.ts';
import { servingStatus } from '../../operations/serving-status.ts';
import type { HalflifeConfig } from '../../platform/config.ts';
import type { MonitorStatus } from '../../workflows/messages.ts';
import { parsePolicy, parsePolicyYaml, type LoadedPolicy } from '../../platform/policy-file.ts';
import { modelKindOf } from '../../platform/clickhouse/model-kind-repository.ts';
import { assertPolicyFitsModel } from '../../operations/policy-fits-model.ts';
import { ValidationError } from '../../platform/errors.ts';
import {
  approveUpdate,
  forceRetrainUpdate,
  pauseUpdate,
  rejectUpdate,
  resumeUpdate,
  setPolicyUpdate,
} from '../../workflows/messages.ts';
import type { RouteModule } from '../api.ts';
import { actorOf, defineRoute, HttpError, modelId } from './define.ts';

const modelParams = z.object({ model: modelId }).strict();
const actBody = z
  .object({
    reason: z.string().max(1000).optional(),
    as: z.string().min(1).max(128).optional().describe('the person the token acts for (recorded with the token name)'),
  })
  .strict();
const policyBody = z
  .object({
    policy: z.record(z.string(), z.unknown()).optional().describe('the policy as a JSON object'),
    yaml: z.string().max(1_000_000).optional().describe('the policy as YAML text'),
  })
  .strict();

function loadPolicy(body: { policy?: Record<string, unknown>; yaml?: string }): LoadedPolicy {
  if (body.yaml !== undefined && body.policy !== undefined)
    throw new ValidationError('send either policy (JSON) or yaml, not both');
  if (body.yaml !== undefined) return parsePolicyYaml(body.yaml, 'request body');
  if (body.policy !== undefined) return parsePolicy(body.policy, 'request body');
  throw new ValidationError('send the policy as `policy` (JSON object) or `yaml` (text)');
}

/**
 * Monitors (Temporal queries and Updates), policies and approvals. Status and validation are
 * viewer; everything that changes a monitor is operator; a forced retrain (overrides cooldown,
 * budget, blackout and data-quality guards) is admin.
 */
export function monitorRoutes(
  monitors: MonitorClient,
  clickhouse: ClickHouseClient,
  config: Pick<HalflifeConfig, 'serving'>,
  observed: { ingest?: () => IngestObservation | null } = {},
): RouteModule {
  // The monitor's version is the one it evaluates; serving says what actually scores (and whether it
  // agrees). Health adds what is observed here — that, and ingest as this process sees it — by the
  // one rule (detectors/monitor/health.ts).
  const withServing = async (status: MonitorStatus) => {
    const serving = await servingStatus(clickhouse, config, status.modelId);
    const observation = { ingest: observed.ingest?.() ?? null, servingDisagreement: serving.agreement === 'disagrees' };
    return { ...reassessStatus(status, observation), serving };
  };
  return (app, guard) => {
    defineRoute(
      app,
      guard,
      {
        method: 'GET',
        url: '/v1/monitors',
        role: 'viewer',
        tags: ['monitors'],
        summary: 'status of every running monitor, with what serves each model',
        access: false,
      },
      async () => Promise.all((await monitors.statuses()).map(withServing)),
    );

    defineRoute(
      app,
      guard,
      {
        method: 'GET',
        url: '/v1/monitors/:model',
        role: 'viewer',
        tags: ['monitors'],
        summary: "a monitor's status (Temporal query), with what serves the model",
        params: modelParams,
        access: 'read',
      },
      async ({ params }) => withServing(await monitors.status(params.model)),
    );

    defineRoute(
      app,
      guard,
      {
        method: 'POST',
        url: '/v1/policies/validate',
        role: 'viewer',
        tags: ['policies'],
        summary: 'validate a retrain policy (400 naming every problem)',
        body: policyBody,
        access: false,
      },
      async ({ body }) => loadPolicy(body),
    );

    defineRoute(
      app,
      guard,
      {
        method: 'PUT',
        url: '/v1/monitors/:model/policy',
        role: 'operator',
        tags: ['policies'],
        summary: "replace a running monitor's policy (setPolicy Update; recorded as a decision)",
        params: modelParams,
        body: policyBody.extend(actBody.shape).strict(),
        access: 'write',
      },
      async ({ params, body, identity }) => {
        const loaded = loadPolicy(body);
        if (loaded.policy.model !== params.model)
          throw new ValidationError(`the policy is for model "${loaded.policy.model}", not "${params.model}"`);
        assertPolicyFitsModel(loaded.policy, await modelKindOf(clickhouse, params.model));
        return monitors.update(params.model, setPolicyUpdate, {
          policy: loaded.policy,
          ref: loaded.ref,
          actor: actorOf(identity, body.as),
          reason: body.reason,
        });
      },
    );

    // Pause/resume act on the monitor, approve/reject on the retrain it waits on: one route each, same shape.
    for (const [name, definition, tag, summary] of [
      ['pause', pauseUpdate, 'monitors', 'pause a monitor: no windows evaluated, no retrains started'],
      ['resume', resumeUpdate, 'monitors', 'resume a paused monitor'],
      ['approve', approveUpdate, 'approvals', 'approve the retrain the monitor is waiting on'],
      ['reject', rejectUpdate, 'approvals', 'reject the retrain the monitor is waiting on'],
    ] as const) {
      defineRoute(
        app,
        guard,
        {
          method: 'POST',
          url: `/v1/monitors/:model/${name}`,
          role: 'operator',
          tags: [tag],
          summary,
          params: modelParams,
          body: actBody,
          access: 'write',
        },
        ({ params, body, identity }) =>
          monitors.update<unknown, { actor: string; reason?: string }>(params.model, definition, {
            actor: actorOf(identity, body.as),
            reason: body.reason,
          }),
      );
    }

    defineRoute(
      app,
      guard,
      {
        method: 'POST',
        url: '/v1/monitors/:model/retrain',
        role: 'operator',
        tags: ['monitors'],
        summary: 'ask the monitor for a retrain now (its guards apply; force overrides them and needs admin)',
        params: modelParams,
        body: actBody.extend({ force: z.boolean().optional() }).strict(),
        access: 'write',
      },
      async ({ params, body, identity }) => {
        if (body.force && identity.role !== 'admin')
          throw new HttpError(
            403,
            'forbidden',
            'a forced retrain overrides the policy guards: it needs the admin role',
          );
        return monitors.update(params.model, forceRetrainUpdate, {
          actor: actorOf(identity, body.as),
          reason: body.reason,
          force: body.force,
        });
      },
    );
  };
}
