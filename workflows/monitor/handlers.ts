/**
 * The monitor's query and updates (defined in ../messages.ts), wired to its state. A validator
 * rejects a request before it enters history, so a refused update leaves no trace there; the
 * handlers themselves live on {@link MonitorWorkflowState}.
 */
import { setHandler } from '@temporalio/workflow';
import {
  approveUpdate,
  forceRetrainUpdate,
  pauseUpdate,
  promotionOutcomeSignal,
  rejectUpdate,
  resumeUpdate,
  servingReportSignal,
  setPolicyUpdate,
  statusQuery,
  type Actor,
  type ForceRetrainRequest,
} from '../messages.ts';
import type { MonitorWorkflowState } from './state.ts';

export function registerMonitorHandlers(monitor: MonitorWorkflowState): void {
  setHandler(statusQuery, () => monitor.status());

  setHandler(setPolicyUpdate, (request) => monitor.setPolicy(request), {
    validator: ({ policy, ref }) => {
      if (policy.model !== monitor.modelId)
        fail(`policy is for model "${policy.model}", this monitor watches "${monitor.modelId}"`);
      if (!/^[0-9a-f]{64}$/.test(ref.hash))
        fail('policy ref needs the sha256 content hash from platform/policy-file.ts');
    },
  });

  setHandler(pauseUpdate, (request) => monitor.pause(request), {
    validator: (_request: Actor) => {
      if (monitor.state.paused) fail('the monitor is already paused');
    },
  });

  setHandler(resumeUpdate, (request) => monitor.resume(request), {
    validator: (_request: Actor) => {
      if (!monitor.state.paused) fail('the monitor is not paused');
    },
  });

  setHandler(forceRetrainUpdate, (request) => monitor.forceRetrain(request), {
    validator: (_request: ForceRetrainRequest) => {
      if (monitor.retrain) fail(`a retrain is already running (${monitor.retrain.retrainId}); one at a time`);
      if (monitor.state.paused) fail('the monitor is paused: resume it first');
      if (!monitor.lastEvaluation) fail('no window has been evaluated yet; wait for the first tick');
    },
  });

  setHandler(approveUpdate, (request) => monitor.approve(request), {
    validator: (_request: Actor) => expectPendingApproval(monitor),
  });

  setHandler(rejectUpdate, (request) => monitor.reject(request), {
    validator: (_request: Actor) => expectPendingApproval(monitor),
  });

  setHandler(servingReportSignal, (report) => monitor.onServingReport(report));
  setHandler(promotionOutcomeSignal, (outcome) => monitor.onPromotionOutcome(outcome));
}

function expectPendingApproval(monitor: MonitorWorkflowState): void {
  const { status } = monitor.state.approval;
  if (status !== 'pending') fail(`nothing is waiting for approval (approval is ${status})`);
}

/** A validator's refusal: the caller gets the message, the history gets nothing. */
function fail(message: string): never {
  throw new Error(message);
}
