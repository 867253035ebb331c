/**
 * AlertEpisode(alert): one alert's life, from firing to resolved, delivered to its receivers.
 *
 * The monitor starts it (an abandoned child: it outlives the monitor's run) when a key fires, and
 * signals it when the key resolves; it never waits for it, so a slow or dead receiver never slows
 * a tick. Each receiver is a lane that sends the notifications in order — firing, reminders,
 * resolved — each through an activity whose retry policy is the policy's back-off, until the
 * receiver takes it or `giveUpAfter` passes (recorded as given up). Retries are durable timers in
 * Temporal, so a daemon restart resumes them; Temporal runs each attempt on one worker only, so a
 * deployment with several workers still sends each message once.
 *
 * Alertmanager lanes also re-send the firing alert every `resendEvery` (Alertmanager resolves
 * alerts a client stops sending). Long episodes continue-as-new once every lane has caught up.
 */
import { condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { AlertActivities } from '../../activities/alerts.ts';
import type { AlertNotification, AlertReceiver, AlertResolution } from '../../detectors/alerts/types.ts';
import { parseDuration } from '../../detectors/policy/duration.ts';
import type { AlertDeliveryRecord } from '../../platform/clickhouse/alerts-repository.ts';
import { resolveAlertSignal, type AlertEpisodeCarried, type AlertEpisodeInput } from './messages.ts';

/** Records retry until stored: ClickHouse being down delays the record, never loses it. */
const record = proxyActivities<AlertActivities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '5s', maximumInterval: '1m', backoffCoefficient: 2 },
});

/** Events in a run before it continues as new (when Temporal has not suggested it earlier). */
const DEFAULT_MAX_HISTORY_EVENTS = 5_000;

/** Time an attempt may take beyond the receiver's own timeout (recording a failed attempt). */
const ATTEMPT_MARGIN_MS = 30_000;

export async function AlertEpisode(input: AlertEpisodeInput): Promise<{ notifications: number }> {
  const { alert, source } = input;
  const carried = input.carried;
  let resolution: AlertResolution | null = carried?.resolution ?? null;
  setHandler(resolveAlertSignal, (r) => {
    resolution ??= r;
  });

  let sequence = carried?.sequence ?? 0;
  let latest: AlertNotification | null = carried?.latest ?? null;
  /** Notifications of this run, in order; each lane works through them. */
  const notifications: AlertNotification[] = [];
  let stopping = false;

  const notify = async (type: AlertNotification['type']): Promise<void> => {
    sequence += 1;
    const n: AlertNotification = {
      notificationId: `${alert.episodeId}/${sequence}`,
      sequence,
      type,
      alert,
      resolvedAt: type === 'resolved' ? (resolution?.at ?? Date.now()) : null,
      resolution: type === 'resolved' ? (resolution?.reason ?? null) : null,
      notifiedAt: Date.now(),
      source,
    };
    await record.recordAlertNotification(n);
    if (type !== 'resolved') latest = n;
    notifications.push(n);
  };

  const laneState: AlertEpisodeCarried['lanes'] = { ...(carried?.lanes ?? {}) };
  const lane = async (receiver: AlertReceiver): Promise<void> => {
    const state = (laneState[receiver.name] ??= { lastSentAt: 0, refreshes: 0 });
    let next = 0;
    for (;;) {
      if (next < notifications.length) {
        const n = notifications[next++]!;
        await deliver(receiver, n, 'notify', input);
        state.lastSentAt = Date.now();
        if (n.type === 'resolved') return;
        continue;
      }
      if (stopping) return;
      if (receiver.format === 'alertmanager' && latest !== null) {
        const due = state.lastSentAt + parseDuration(receiver.resendEvery);
        const more = await condition(() => next < notifications.length || stopping, Math.max(1, due - Date.now()));
        if (!more && !stopping) {
          state.refreshes += 1;
          await deliver(receiver, latest, `refresh-${state.refreshes}`, input);
          state.lastSentAt = Date.now();
        }
      } else {
        await condition(() => next < notifications.length || stopping);
      }
    }
  };

  if (!carried) await notify('firing');
  const lanes = input.receivers.map(lane);

  const renotifyMs = input.renotifyEvery === null ? null : parseDuration(input.renotifyEvery);
  let nextRenotifyAt = carried?.nextRenotifyAt ?? (renotifyMs === null ? null : alert.startsAt + renotifyMs);
  const maxEvents = input.maxHistoryEvents ?? DEFAULT_MAX_HISTORY_EVENTS;
  const longEnough = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= maxEvents;
  while (resolution === null) {
    const wake = () => resolution !== null || longEnough();
    if (nextRenotifyAt === null) await condition(wake);
    else if (!(await condition(wake, Math.max(1, nextRenotifyAt - Date.now())))) {
      await notify('renotify');
      nextRenotifyAt += renotifyMs!;
    }
    if (resolution === null && longEnough()) {
      // Every lane finishes what it is sending, then the next run takes over with nothing in flight.
      stopping = true;
      await Promise.all(lanes);
      await continueAsNew<typeof AlertEpisode>({
        ...input,
        carried: { sequence, latest: latest!, resolution, nextRenotifyAt, lanes: laneState },
      });
    }
  }
  await notify('resolved');
  await Promise.all(lanes);
  return { notifications: sequence };
}

/** Send one notification to one receiver with the policy's retries; record the outcome or the give-up. */
async function deliver(
  receiver: AlertReceiver,
  n: AlertNotification,
  send: string,
  input: AlertEpisodeInput,
): Promise<void> {
  const attempts = proxyActivities<AlertActivities>({
    startToCloseTimeout: parseDuration(receiver.timeout) + ATTEMPT_MARGIN_MS,
    scheduleToCloseTimeout: parseDuration(input.retry.giveUpAfter),
    retry: {
      initialInterval: parseDuration(input.retry.initialInterval),
      backoffCoefficient: input.retry.backoffCoefficient,
      maximumInterval: parseDuration(input.retry.maximumInterval),
      nonRetryableErrorTypes: ['AlertRejected'],
    },
  });
  const base: Omit<
    AlertDeliveryRecord,
    'attempt' | 'attemptedAt' | 'outcome' | 'httpStatus' | 'error' | 'durationMs' | 'payloadDigest'
  > = {
    notificationId: n.notificationId,
    episodeId: n.alert.episodeId,
    alertKey: n.alert.key,
    modelId: n.alert.modelId,
    receiver: receiver.name,
    format: receiver.format,
    send,
  };
  try {
    const delivered = await attempts.deliverAlert({ notification: n, receiver, send, sentAt: Date.now() });
    await record.recordAlertDelivery({
      ...base,
      attempt: delivered.attempt,
      attemptedAt: delivered.attemptedAt,
      outcome: 'delivered',
      httpStatus: delivered.httpStatus,
      error: null,
      durationMs: delivered.durationMs,
      payloadDigest: delivered.payloadDigest,
    });
  } catch (err) {
    await record.recordAlertDelivery({
      ...base,
      attempt: 0,
      attemptedAt: Date.now(),
      outcome: 'gave-up',
      httpStatus: null,
      error: `gave up: ${failureMessage(err)}`,
      durationMs: 0,
      payloadDigest: '',
    });
  }
}

/** The activity failure's own message and its causes' (the last attempt's error, or the timeout that ended retrying). */
function failureMessage(err: unknown): string {
  let current: unknown = err;
  const parts: string[] = [];
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    parts.push(current.message);
    current = current.cause;
  }
  return parts.filter(Boolean).join(': ') || String(err);
}
