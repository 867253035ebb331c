/**
 * TaintedWithdrawal(model): the durable timer of a GDPR grace period. An erasure configured with
 * `gdpr.withdrawalGraceMs` > 0 starts it instead of withdrawing at once; after the grace period it
 * withdraws whatever tainted version the model's routing still serves (none if a retrain promoted
 * a fresh version meanwhile). A worker restart during the wait changes nothing: the timer is
 * Temporal's.
 */
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { RetrainActivities } from '../activities/retrain.ts';

export interface TaintedWithdrawalInput {
  modelId: string;
  erasureId: string;
  actor: string;
  reason: string;
  graceMs: number;
}

const activities = proxyActivities<RetrainActivities>({
  startToCloseTimeout: '5m',
  retry: { initialInterval: '1s', maximumInterval: '1m', maximumAttempts: 20 },
});

export async function TaintedWithdrawal(input: TaintedWithdrawalInput) {
  await sleep(input.graceMs);
  return activities.withdrawTainted({
    modelId: input.modelId,
    erasureId: input.erasureId,
    actor: input.actor,
    reason: input.reason,
  });
}
