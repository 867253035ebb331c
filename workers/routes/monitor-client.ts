import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client, type Connection } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { HalflifeConfig } from '../../platform/config.ts';
import { NotFoundError } from '../../platform/errors.ts';
import type { RetrainRequestOutcome } from '../../platform/clickhouse/gdpr-repository.ts';
import { connectTemporal } from '../../platform/temporal.ts';
import { forceRetrainUpdate, monitorWorkflowId, statusQuery, type MonitorStatus } from '../../workflows/messages.ts';
import { HttpError } from './define.ts';

/**
 * The API's and the GDPR command's way to talk to model monitors: one lazily opened Temporal
 * connection (opened on first use, so the API starts even while Temporal is down), queries and
 * Updates with the monitor's refusals turned into 409s and a missing monitor into a 404.
 */
export class MonitorClient {
  readonly #config: HalflifeConfig;
  #connecting?: Promise<{ client: Client; connection: Connection }>;

  constructor(config: HalflifeConfig) {
    this.#config = config;
  }

  async #client(): Promise<Client> {
    this.#connecting ??= connectTemporal(this.#config).catch((err: unknown) => {
      this.#connecting = undefined;
      throw err;
    });
    return (await this.#connecting).client;
  }

  async #call<T>(model: string, fn: (client: Client) => Promise<T>): Promise<T> {
    const client = await this.#client();
    try {
      return await fn(client);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError)
        throw new NotFoundError(
          `no monitor is running for model ${model}: start one with \`halflife monitor start ${model} --policy <file>\``,
        );
      if (err instanceof WorkflowUpdateFailedError)
        throw new HttpError(409, 'refused', `the monitor of ${model} refused: ${err.cause?.message ?? err.message}`);
      throw err;
    }
  }

  async status(model: string): Promise<MonitorStatus> {
    return this.#call(model, (client) => client.workflow.getHandle(monitorWorkflowId(model)).query(statusQuery));
  }

  /** Status of every running monitor. */
  async statuses(): Promise<MonitorStatus[]> {
    const client = await this.#client();
    const ids: string[] = [];
    for await (const wf of client.workflow.list({
      query: "WorkflowType = 'ModelMonitor' AND ExecutionStatus = 'Running'",
    }))
      ids.push(wf.workflowId);
    const settled = await Promise.allSettled(ids.map((id) => client.workflow.getHandle(id).query(statusQuery)));
    return settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  }

  async update<Ret, Arg>(model: string, definition: UpdateDefinition<Ret, [Arg]>, arg: Arg): Promise<Ret> {
    return this.#call(model, (client) =>
      client.workflow.getHandle(monitorWorkflowId(model)).executeUpdate(definition, { args: [arg] }),
    );
  }

  /**
   * Ask a model's monitor to retrain (guards of its policy still apply: not forced). Never throws:
   * the outcome says whether the monitor accepted and, through `kindOf`, what it decided.
   */
  async requestRetrain(
    modelId: string,
    reason: string,
    actor: string,
    kindOf?: (decisionId: string) => Promise<string | undefined>,
  ): Promise<RetrainRequestOutcome> {
    try {
      const result = await this.update(modelId, forceRetrainUpdate, { actor, reason });
      const decisionKind = kindOf ? await kindOf(result.decisionId).catch(() => undefined) : undefined;
      return {
        modelId,
        requested: true,
        decisionId: result.decisionId,
        ...(decisionKind ? { decisionKind } : {}),
        reason:
          decisionKind === 'retrain'
            ? 'the monitor started a retrain'
            : `the monitor accepted the request and decided ${decisionKind ?? 'see the decision'}`,
      };
    } catch (err) {
      if (err instanceof NotFoundError)
        return {
          modelId,
          requested: false,
          reason: `no monitor runs for ${modelId}: retrain after starting one (\`halflife monitor start ${modelId} --policy <file>\`, then \`halflife retrain ${modelId}\`)`,
        };
      return { modelId, requested: false, reason: (err as Error).message };
    }
  }

  async close(): Promise<void> {
    const connecting = this.#connecting;
    this.#connecting = undefined;
    if (connecting) await (await connecting.catch(() => undefined))?.connection.close();
  }
}
