/**
 * What alerting adds to a monitor tick, in CPU: the pure rule evaluator (every rule kind, on the
 * signals a tick has) across a fleet, and building and signing one message in each format. The
 * delivery itself runs in its own workflow and never in the tick.
 *
 *   npm run bench -- alerts [--models 1000] [--ticks 100] [--json]
 *
 * Each simulated tick evaluates every model's 7 rules; a model's windows drift on and off so keys
 * fire and resolve (the transitions the monitor turns into child starts and signals are counted).
 */
import os from 'node:os';
import { emptyAlertMemory, evaluateAlerts } from '../detectors/alerts/evaluate.ts';
import type { AlertMemory, AlertNotification, AlertPolicy, AlertSignals } from '../detectors/alerts/types.ts';
import type { WindowSummary } from '../detectors/policy/state.ts';
import { alertBody } from '../operations/alerts/payloads.ts';
import { signAlert } from '../operations/alerts/signing.ts';
import { parsePolicy } from '../platform/policy-file.ts';
import { argReader, machine } from './lib/cli.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1);

function policy(): AlertPolicy {
  return parsePolicy({
    name: 'bench',
    version: 1,
    model: 'bench',
    trigger: { kind: 'manual' },
    alerts: {
      receivers: [
        { name: 'a', format: 'json', url: { env: 'A' } },
        { name: 'b', format: 'slack', url: { env: 'B' } },
        { name: 'c', format: 'alertmanager', url: { env: 'C' } },
      ],
      rules: [
        { kind: 'health' },
        { kind: 'slo', within: '24h' },
        { kind: 'data-quality' },
        { kind: 'drift', consecutiveWindows: 2 },
        { kind: 'approval-pending' },
        { kind: 'promotion-failed' },
        { kind: 'serving-disagreement' },
      ],
    },
  }).policy.alerts!;
}

/** Model m's windows up to tick t: drift in ticks where (t + m) mod 12 < 4, quality drifting around the SLO. */
function windowsOf(m: number, t: number): WindowSummary[] {
  const out: WindowSummary[] = [];
  for (let i = Math.max(0, t - 23); i <= t; i++) {
    const drifting = (i + m) % 12 < 4;
    out.push({
      start: T0 + i * HOUR,
      end: T0 + (i + 1) * HOUR,
      events: 1000,
      dataQualityOk: (i + m) % 17 !== 0,
      drift: { datasetDrift: drifting, driftedShare: drifting ? 0.6 : 0.05 },
      quality: { metric: 'accuracy', value: 0.86 + 0.03 * Math.sin((i + m) / 3), source: 'realised' },
    });
  }
  return out;
}

export async function main(argv: readonly string[]): Promise<void> {
  const { flag, option } = argReader(argv);
  if (flag('help')) {
    process.stdout.write('usage: npm run bench -- alerts [--models 1000] [--ticks 100] [--json]\n');
    return;
  }
  const models = Number(option('models', '1000'));
  const ticks = Number(option('ticks', '100'));
  const alerts = policy();
  const memories: AlertMemory[] = Array.from({ length: models }, () => emptyAlertMemory());
  // Signals are built before timing: the monitor already has them after its tick.
  const signalsAt = (m: number, t: number): AlertSignals => {
    const windows = windowsOf(m, t);
    const last = windows[windows.length - 1]!;
    return {
      modelId: `model-${m}`,
      version: 'v1',
      at: T0 + (t + 1) * HOUR,
      health: last.dataQualityOk === false ? 'data-quality' : last.drift?.datasetDrift ? 'drifting' : 'healthy',
      windows,
      slo: 0.85,
      timeToBreachHours: last.quality!.value < 0.86 ? 12 : null,
      dataQualityAlerts: last.dataQualityOk === false ? ['x1: missing rate 0.400 vs reference 0.010'] : [],
      driftedFeatures: last.drift?.datasetDrift ? ['x1', 'x2', 'x3', 'x4'] : [],
      approval: { pending: false, requestedAt: null },
      promotionFailure: null,
      serving: null,
    };
  };
  let fired = 0;
  let resolved = 0;
  let evaluationNs = 0n;
  for (let t = 0; t < ticks; t++) {
    const signals = Array.from({ length: models }, (_, m) => signalsAt(m, t));
    const started = process.hrtime.bigint();
    for (let m = 0; m < models; m++) {
      const result = evaluateAlerts(alerts, signals[m]!, memories[m]!);
      memories[m] = result.memory;
      fired += result.fire.length;
      resolved += result.resolve.length;
    }
    evaluationNs += process.hrtime.bigint() - started;
  }
  const evaluations = models * ticks;
  const perEvaluationUs = Number(evaluationNs) / 1000 / evaluations;

  // One message in each format, signed: what an attempt costs before the network.
  const sample = evaluateAlerts(alerts, signalsAt(0, 3), emptyAlertMemory()).fire[0]!;
  const notification: AlertNotification = {
    notificationId: `${sample.episodeId}/1`,
    sequence: 1,
    type: 'firing',
    alert: sample,
    resolvedAt: null,
    resolution: null,
    notifiedAt: sample.startsAt,
    source: { workflowId: 'w', runId: 'r', policy: null },
  };
  const messages = 20_000;
  const payloadUs: Record<string, number> = {};
  for (const format of ['json', 'slack', 'alertmanager'] as const) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < messages; i++) {
      const body = alertBody(format, notification, { sentAt: T0 + i, resendEveryMs: 300_000 });
      signAlert('bench-key', 1_780_000_000, body);
    }
    payloadUs[format] = Number(process.hrtime.bigint() - started) / 1000 / messages;
  }

  const host: Record<string, string> = {
    ...machine(),
    loadavg: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  };
  const result = {
    benchmark: 'alerts',
    command: `npm run bench -- alerts --models ${models} --ticks ${ticks}`,
    machine: host,
    models,
    ticks,
    rulesPerModel: alerts.rules.length,
    evaluations,
    evaluatorMicrosecondsPerModelTick: Number(perEvaluationUs.toFixed(2)),
    evaluatorMillisecondsPerFleetTick: Number(((perEvaluationUs * models) / 1000).toFixed(2)),
    transitions: { fired, resolved, perModelTick: Number(((fired + resolved) / evaluations).toFixed(3)) },
    payloadAndSignatureMicroseconds: Object.fromEntries(
      Object.entries(payloadUs).map(([k, v]) => [k, Number(v.toFixed(2))]),
    ),
  };
  if (flag('json')) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    [
      `alerts benchmark — ${result.machine.cpu} (${result.machine.nproc} cores), node ${result.machine.node}, load ${result.machine.loadavg}, ${result.machine.date}`,
      `rule evaluator: ${models} models × ${ticks} ticks, ${alerts.rules.length} rules each: ${result.evaluatorMicrosecondsPerModelTick} µs per model-tick, ${result.evaluatorMillisecondsPerFleetTick} ms per fleet tick`,
      `transitions: ${fired} fired, ${resolved} resolved (${result.transitions.perModelTick} per model-tick; each is one child start or one signal in the monitor)`,
      `one message built and signed: ${Object.entries(result.payloadAndSignatureMicroseconds)
        .map(([k, v]) => `${k} ${v} µs`)
        .join(', ')}`,
    ].join('\n') + '\n',
  );
}
