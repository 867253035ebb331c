/**
 * The monitor's alerts: after each tick (and each event that can change an alert — an approval
 * answered, a retrain finished, a policy applied, serving's report) the pure evaluator
 * (detectors/alerts/) compares the rules with the monitor's signals; each key that fires starts an
 * AlertEpisode child workflow and each key that resolves signals its episode. The monitor waits
 * only for the child to start, never for a delivery.
 *
 * Off for runs recorded before alerts existed (no `patched('alert-rules')` marker), so replaying
 * them issues no new commands.
 */
import { getExternalWorkflowHandle, log, ParentClosePolicy, startChild } from '@temporalio/workflow';
import {
  emptyAlertMemory,
  evaluateAlerts,
  notePromotionOutcome,
  noteServingReport,
} from '../../detectors/alerts/evaluate.ts';
import { monitorAlertSignals, type MonitorAlertInputs } from '../../detectors/alerts/signals.ts';
import { outlivingTurn } from './turn-scopes.ts';
import type {
  AlertMemory,
  AlertNotice,
  AlertNotification,
  AlertPolicy,
  AlertResolution,
  PromotionOutcome,
  ServingReport,
} from '../../detectors/alerts/types.ts';
import { AlertEpisode } from '../alerts/alert-episode.ts';
import { resolveAlertSignal } from '../alerts/messages.ts';

export class MonitorAlerts {
  memory: AlertMemory;

  /** `enabled`: whether this run's history carries the alerts `patched` marker. */
  constructor(
    readonly enabled: boolean,
    carried: AlertMemory | undefined,
  ) {
    this.memory = carried ?? emptyAlertMemory();
  }

  /** A retrain or promotion ended: a failure fires `promotion-failed` until a later promotion. */
  notePromotion(outcome: PromotionOutcome): void {
    this.memory = notePromotionOutcome(this.memory, outcome);
  }

  /** Serving reported what it runs. */
  noteServing(report: ServingReport): void {
    this.memory = noteServingReport(this.memory, report);
  }

  /** Evaluate the rules now; start an episode per key that fires, signal the episode of each key that resolves. */
  async update(
    policy: AlertPolicy | undefined,
    inputs: Omit<MonitorAlertInputs, 'memory'>,
    source: AlertNotification['source'],
  ): Promise<void> {
    if (!this.enabled) return;
    const signals = monitorAlertSignals({ ...inputs, memory: this.memory });
    const { memory, fire, resolve } = evaluateAlerts(policy, signals, this.memory);
    this.memory = memory;
    if (fire.length === 0 && resolve.length === 0) return;
    await Promise.all([
      ...fire.map((notice) => this.#start(notice, policy!, source)),
      ...resolve.map((resolution) => this.#resolve(resolution)),
    ]);
  }

  async #start(notice: AlertNotice, policy: AlertPolicy, source: AlertNotification['source']): Promise<void> {
    try {
      // The episode outlives the turn that started it (turn-scopes.ts).
      await outlivingTurn(() =>
        startChild(AlertEpisode, {
          workflowId: notice.episodeId,
          // Delivery outlives the monitor's run (continue-as-new) and never holds it up.
          parentClosePolicy: ParentClosePolicy.ABANDON,
          args: [
            {
              alert: notice,
              receivers: policy.receivers.filter((r) => notice.receivers.includes(r.name)),
              retry: policy.retry,
              renotifyEvery: policy.renotifyEvery ?? null,
              source,
            },
          ],
        }),
      );
    } catch (err) {
      log.warn('alert episode not started', { key: notice.key, episodeId: notice.episodeId, error: String(err) });
    }
  }

  async #resolve(resolution: AlertResolution): Promise<void> {
    try {
      await getExternalWorkflowHandle(resolution.episodeId).signal(resolveAlertSignal, resolution);
    } catch (err) {
      // The episode is gone (terminated by a person, or never started): nothing left to resolve.
      log.warn('alert episode not signalled', {
        key: resolution.key,
        episodeId: resolution.episodeId,
        error: String(err),
      });
    }
  }
}
