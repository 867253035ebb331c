/**
 * Messages of the ModelMonitor workflow, shared by the workflow, the CLI and the API.
 * Only definitions and plain types here: this file is imported from workflow code.
 */
import { defineQuery, defineSignal, defineUpdate, type Sinks } from '@temporalio/workflow';
import type { PromotionOutcome, ServingReport } from '../detectors/alerts/types.ts';
import type { DecayFit } from '../detectors/decay/types.ts';
import type { HealthFinding, HealthInputs, MonitorHealth } from '../detectors/monitor/health.ts';
import type { RetrainPolicy } from '../detectors/policy/types.ts';
import type { WindowSummary } from '../detectors/policy/state.ts';

/** Health of a model as its monitor sees it (also a search attribute). */
export type { MonitorHealth } from '../detectors/monitor/health.ts';
/** What the monitor is doing (also a search attribute). */
export type MonitorStage = 'monitoring' | 'awaiting-approval' | 'retraining' | 'paused';

export interface PolicyRef {
  name: string;
  version: string;
  /** sha256 of the canonical policy JSON (platform/policy-file.ts). */
  hash: string;
}

export interface MonitorStatus {
  modelId: string;
  /** The health rule on the monitor's own inputs (observers add ingest and serving: operations/monitor-health.ts). */
  health: MonitorHealth;
  /** Why it is not healthy, in rule order (absent from monitors started on older code). */
  healthFindings?: HealthFinding[];
  /** What the rule was given, so an observer can add what it sees and re-assess (absent on older code). */
  healthInputs?: HealthInputs;
  stage: MonitorStage;
  version: string | null;
  versionTrainedAt: number | null;
  policy: PolicyRef;
  ticks: number;
  nextTickAt: number | null;
  lastWindow: WindowSummary | null;
  lastDecision: { decisionId: string; kind: string; reason: string; at: number } | null;
  decay: DecayFit | null;
  retrain: { retrainId: string; startedAt: number } | null;
  approval: { status: string; expiresAt: number | null };
  paused: boolean;
}

/** Who asks, and why (recorded as the decision's actor and reason). */
export interface Actor {
  actor: string;
  reason?: string;
}

/** A new policy with its reference (validated by the caller with platform/policy-file.ts; checked again by the monitor). */
export type SetPolicyRequest = { policy: RetrainPolicy; ref: PolicyRef } & Actor;
/** `force` also overrides cooldown, budget, blackout and data quality. @default false */
export type ForceRetrainRequest = Actor & { force?: boolean };

export const statusQuery = defineQuery<MonitorStatus>('status');

/** Replace the policy. */
export const setPolicyUpdate = defineUpdate<PolicyRef, [SetPolicyRequest]>('setPolicy');
export const pauseUpdate = defineUpdate<MonitorStatus, [Actor]>('pause');
export const resumeUpdate = defineUpdate<MonitorStatus, [Actor]>('resume');
/** Ask for a retrain now. */
export const forceRetrainUpdate = defineUpdate<{ accepted: true; decisionId: string }, [ForceRetrainRequest]>(
  'forceRetrain',
);
/** Answer a pending approval request. */
export const approveUpdate = defineUpdate<{ approved: true; decisionId: string }, [Actor]>('approve');
export const rejectUpdate = defineUpdate<{ rejected: true; decisionId: string }, [Actor]>('reject');

/** What serving acknowledges against the registry (fires and resolves `serving-disagreement` alerts). */
export const servingReportSignal = defineSignal<[ServingReport]>('servingReport');
/** A promotion or rollback made outside the monitor's own retrains ended (a failure fires `promotion-failed`). */
export const promotionOutcomeSignal = defineSignal<[PromotionOutcome]>('promotionOutcome');

/** Workflow id of a model's monitor: one monitor per model. */
export function monitorWorkflowId(modelId: string): string {
  return `halflife-monitor-${modelId}`;
}

/** Workflow id of a retrain: derived from the monitor and the decision that asked for it. */
export function retrainWorkflowId(modelId: string, sequence: number): string {
  return `halflife-retrain-${modelId}-${sequence}`;
}

/** A decision as the workflow derived it, reported through a sink (also during replay). */
export interface DerivedDecision {
  modelId: string;
  decisionId: string;
  kind: string;
  reason: string;
  at: number;
  window: { start: number; end: number } | null;
  quality: number | null;
}

/**
 * Sinks the monitor calls. `derived` is registered with callDuringReplay so `halflife replay`
 * can print every decision as the current code re-derives it from the recorded history.
 */
export interface MonitorSinks extends Sinks {
  decisions: { derived(decision: DerivedDecision): void };
}
