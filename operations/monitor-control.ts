import {
  WorkflowIdConflictPolicy,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type Connection,
} from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { HalflifeConfig } from '../platform/config.ts';
import { ConflictError, NotFoundError } from '../platform/errors.ts';
import { connectTemporal } from '../platform/temporal.ts';
import type { PromotionOutcome } from '../detectors/alerts/types.ts';
import {
  forceRetrainUpdate,
  monitorWorkflowId,
  promotionOutcomeSignal,
  statusQuery,
  type MonitorStatus,
} from '../workflows/messages.ts';
import type { ModelMonitorInput } from '../workflows/monitor/input.ts';

/** A monitor's Update validator said no (paused, a retrain runs, nothing awaits approval...). The API answers 409. */
export class MonitorRefusedError extends ConflictError {}

export interface RetrainRequestOutcome {
  modelId: string;
  /** True when the monitor accepted the forceRetrain Update. */
  requested: boolean;
  /** The monitor's resulting decision (retrain, blocked by a guard, awaiting approval...). */
  decisionId?: string;
  decisionKind?: string;
  /** Why no retrain was requested: no monitor runs, the monitor refused (paused, a retrain runs...). */
  reason: string;
}

export interface StartedMonitor {
  workflowId: string;
  /** The first run of the monitor (the running one's, when it already ran). */
  runId: string;
}

/**
 * How the API, the CLI, the demo and the GDPR erasure talk to model monitors: one lazily opened
 * Temporal connection (opened on first use, so the API starts even while Temporal is down),
 * queries and Updates with a missing monitor turned into a NotFoundError and a refusal into a
 * {@link MonitorRefusedError}.
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
        throw new MonitorRefusedError(`the monitor of ${model} refused: ${err.cause?.message ?? err.message}`);
      throw err;
    }
  }

  /** Start a model's monitor; a no-op (answering the running one) when it already runs. */
  async start(input: ModelMonitorInput): Promise<StartedMonitor> {
    const client = await this.#client();
    const handle = await client.workflow.start('ModelMonitor', {
      workflowId: monitorWorkflowId(input.modelId),
      taskQueue: this.#config.temporal.taskQueue,
      args: [input],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    });
    return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
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
   * Tell a model's monitor how a person's promotion or rollback ended (its `promotion-failed`
   * alert rule fires on a failure, resolves on a promotion). False when no monitor runs for it.
   */
  async notePromotionOutcome(modelId: string, outcome: PromotionOutcome): Promise<boolean> {
    try {
      await this.#call(modelId, (client) =>
        client.workflow.getHandle(monitorWorkflowId(modelId)).signal(promotionOutcomeSignal, outcome),
      );
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
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

  /**
   * Start the durable timer of a GDPR grace period (the TaintedWithdrawal workflow): after
   * `graceMs` it withdraws what tainted version the model still serves. One per erasure and model.
   */
  async scheduleWithdrawal(input: {
    modelId: string;
    erasureId: string;
    actor: string;
    reason: string;
    graceMs: number;
  }): Promise<{ workflowId: string; withdrawAt: number }> {
    const client = await this.#client();
    const workflowId = `halflife-withdrawal-${input.modelId}-${input.erasureId}`;
    await client.workflow.start('TaintedWithdrawal', {
      workflowId,
      taskQueue: this.#config.temporal.taskQueue,
      args: [input],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    });
    return { workflowId, withdrawAt: Date.now() + input.graceMs };
  }

  async close(): Promise<void> {
    const connecting = this.#connecting;
    this.#connecting = undefined;
    if (connecting) await (await connecting.catch(() => undefined))?.connection.close();
  }
}
