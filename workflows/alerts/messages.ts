/**
 * What an AlertEpisode workflow is started with and the signal that resolves it. Definitions and
 * plain types only: the monitor (workflow code) and tests import them.
 */
import { defineSignal } from '@temporalio/workflow';
import type {
  AlertNotice,
  AlertNotification,
  AlertReceiver,
  AlertResolution,
  AlertRetry,
} from '../../detectors/alerts/types.ts';

export interface AlertEpisodeInput {
  /** What fired (its `episodeId` is this workflow's id). */
  alert: AlertNotice;
  /** The receivers it goes to, as the policy declared them when it fired (names of variables, never values). */
  receivers: AlertReceiver[];
  retry: AlertRetry;
  /** Send the alert again this often while it fires. @default null (never) */
  renotifyEvery: string | null;
  source: AlertNotification['source'];
  /** History events in a run before it continues as new (when Temporal has not suggested it earlier). @default 5000 */
  maxHistoryEvents?: number;
  /** Carried across continue-as-new. @default undefined (a new episode) */
  carried?: AlertEpisodeCarried;
}

/** What an episode hands to its next run: everything its receivers have been sent is delivered (or given up). */
export interface AlertEpisodeCarried {
  sequence: number;
  /** The notification Alertmanager receivers re-send while the alert fires. */
  latest: AlertNotification;
  resolution: AlertResolution | null;
  nextRenotifyAt: number | null;
  lanes: Record<string, { lastSentAt: number; refreshes: number }>;
}

/** The monitor's word that the alert's condition cleared. */
export const resolveAlertSignal = defineSignal<[AlertResolution]>('resolveAlert');
