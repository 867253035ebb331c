/**
 * Side effects of the AlertEpisode workflow: record a notification, send it to a receiver (one
 * attempt per activity attempt; Temporal's retry policy gives the back-off), record the outcome.
 *
 * A failed attempt records itself here before it fails the activity (best effort: the receiver
 * and ClickHouse being down together loses that row, never the message). The delivered attempt and
 * a give-up are recorded by the workflow through {@link recordAlertDelivery}, retried until stored,
 * so the record of what reached a receiver is complete.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { AlertNotification, AlertReceiver } from '../detectors/alerts/types.ts';
import { sendAlert, type SendResult } from '../operations/alerts/send-alert.ts';
import {
  recordAlertDelivery as storeDelivery,
  recordAlertNotification as storeNotification,
  type AlertDeliveryRecord,
} from '../platform/clickhouse/alerts-repository.ts';
import type { Logger } from '../platform/logger.ts';

export interface AlertActivityDeps {
  clickhouse: ClickHouseClient;
  log: Logger;
  /** Where receiver URLs and secrets are read. @default process.env */
  env?: NodeJS.ProcessEnv;
}

export interface DeliverAlertInput {
  notification: AlertNotification;
  receiver: AlertReceiver;
  /** "notify" or "refresh-<n>" (Alertmanager re-sends). */
  send: string;
  /** When this send happens (workflow time): the body depends on it, so every attempt sends the same bytes. */
  sentAt: number;
}

/** What a delivered send returns to the workflow (which records it). */
export interface DeliveredAlert extends SendResult {
  attempt: number;
  attemptedAt: number;
}

/** Error type of a receiver that refused the message for good (4xx): retrying sends the same bytes. */
export const ALERT_REJECTED = 'AlertRejected';

export function createAlertActivities({ clickhouse, log, env = process.env }: AlertActivityDeps) {
  async function recordAlertNotification(
    notification: AlertNotification,
  ): Promise<{ stored: boolean; digest: string }> {
    return storeNotification(clickhouse, notification);
  }

  async function deliverAlert(input: DeliverAlertInput): Promise<DeliveredAlert> {
    const attempt = Context.current().info.attempt;
    const attemptedAt = Date.now();
    const result = await sendAlert({
      notification: input.notification,
      receiver: input.receiver,
      sentAt: input.sentAt,
      env,
    });
    const fields = {
      modelId: input.notification.alert.modelId,
      key: input.notification.alert.key,
      notificationId: input.notification.notificationId,
      receiver: input.receiver.name,
      send: input.send,
      attempt,
    };
    if (result.outcome === 'delivered') {
      log.info({ ...fields, status: result.httpStatus, ms: result.durationMs }, 'alert delivered');
      return { ...result, attempt, attemptedAt };
    }
    log.warn(
      { ...fields, outcome: result.outcome, status: result.httpStatus, error: result.error },
      'alert delivery failed',
    );
    await storeDelivery(clickhouse, deliveryRecord(input, attempt, attemptedAt, result)).catch((err: unknown) =>
      log.error({ ...fields, err: (err as Error).message }, 'could not record a failed alert delivery attempt'),
    );
    throw ApplicationFailure.create({
      message: `${input.receiver.name}: ${result.outcome}: ${result.error ?? 'failed'}`,
      type: result.retryable ? 'AlertDeliveryFailed' : ALERT_REJECTED,
      nonRetryable: !result.retryable,
    });
  }

  async function recordAlertDelivery(record: AlertDeliveryRecord): Promise<void> {
    await storeDelivery(clickhouse, record);
  }

  return { recordAlertNotification, deliverAlert, recordAlertDelivery };
}

export type AlertActivities = ReturnType<typeof createAlertActivities>;

/** The record of one attempt. */
export function deliveryRecord(
  input: DeliverAlertInput,
  attempt: number,
  attemptedAt: number,
  result: SendResult,
): AlertDeliveryRecord {
  return {
    notificationId: input.notification.notificationId,
    episodeId: input.notification.alert.episodeId,
    alertKey: input.notification.alert.key,
    modelId: input.notification.alert.modelId,
    receiver: input.receiver.name,
    format: input.receiver.format,
    send: input.send,
    attempt,
    attemptedAt,
    outcome: result.outcome,
    httpStatus: result.httpStatus,
    error: result.error,
    durationMs: result.durationMs,
    payloadDigest: result.payloadDigest,
  };
}
