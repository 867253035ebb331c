import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../platform/paths.ts';
import { freePort } from '../../local-services/process.ts';
import { runDaemon, type Daemon } from '../../workers/daemon.ts';
import { testConfig, uniqueName } from '../helpers/stack.ts';

const exec = promisify(execFile);
const TOKEN = 'monitor-cli-token-0123456789';

/** The operator's path end to end: the daemon runs; the `halflife` command drives a monitor on the real dev server. */
describe('halflife monitor / decisions / explain / replay against a running daemon', () => {
  let daemon: Daemon;
  let env: NodeJS.ProcessEnv;
  let traffic: NodeJS.Timeout | undefined;
  const model = uniqueName('cli-model');
  let sent = 0;

  const halflife = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await exec(process.execPath, [path.join(projectRoot, 'bin/halflife.mjs'), ...args], {
        env,
        cwd: projectRoot,
        timeout: 60_000,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  beforeAll(async () => {
    const port = await freePort();
    const prefix = uniqueName('topics');
    const config = testConfig({
      api: { port, token: TOKEN },
      temporal: { taskQueue: uniqueName('cli-tq') },
      kafka: {
        scoringEventsTopic: `${prefix}.events`,
        labelsTopic: `${prefix}.labels`,
        scoringRequestsTopic: `${prefix}.requests`,
        modelUpdatesTopic: `${prefix}.updates`,
      },
      ingest: { groupId: uniqueName('group') },
    });
    daemon = await runDaemon({ handleSignals: false, config });
    env = {
      ...process.env,
      HALFLIFE_DATA_DIR: config.dataDir,
      HALFLIFE_API_PORT: String(port),
      HALFLIFE_API_TOKEN: TOKEN,
      TEMPORAL_ADDRESS: config.temporal.address,
      KAFKA_BROKERS: config.kafka.brokers,
      HALFLIFE_TASK_QUEUE: config.temporal.taskQueue,
      HALFLIFE_LOG_LEVEL: 'warn',
    };
    // Live traffic with labels, through the HTTP ingest endpoint.
    traffic = setInterval(() => {
      const now = Date.now();
      const events = Array.from({ length: 40 }, (_, i) => {
        const x = Math.sin(sent + i) * 3;
        return {
          event_id: `${model}-${sent + i}`,
          model_id: model,
          model_version: 'v1',
          timestamp: now,
          features: { x, plan: i % 3 ? 'basic' : 'pro' },
          prediction: { score: 1 / (1 + Math.exp(-x)) },
        };
      });
      const labels = events.map((e) => ({
        event_id: e.event_id,
        label: e.prediction.score > 0.5 ? 1 : 0,
        timestamp: now,
      }));
      sent += events.length;
      const post = (p: string, body: unknown) =>
        fetch(`${daemon.apiUrl}${p}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
          body: JSON.stringify(body),
        });
      void post('/v1/events', events)
        .then(() => post('/v1/labels', labels))
        .catch(() => undefined);
    }, 500);
  });

  afterAll(async () => {
    if (traffic) clearInterval(traffic);
    await daemon?.stop();
  });

  it('starts a monitor from a policy file, and it ticks, decides and explains itself', async () => {
    const policyFile = path.join(dataDirOf(env), 'policy.yaml');
    writeFileSync(
      policyFile,
      `name: cli-threshold\nversion: "1"\nmodel: ${model}\ntrigger:\n  kind: threshold\n  metric: accuracy\n  threshold: 0.5\n  consecutiveWindows: 2\nguards:\n  cooldown: 1h\n`,
    );
    const validated = await halflife('policy', 'validate', policyFile, '--json');
    expect(validated.code).toBe(0);
    const started = await halflife(
      'monitor',
      'start',
      model,
      '--policy',
      policyFile,
      '--cadence',
      '10s',
      '--settle',
      '1s',
      '--json',
    );
    expect(started.code, started.stderr).toBe(0);
    const { workflowId } = JSON.parse(started.stdout) as { workflowId: string };
    expect(workflowId).toBe(`halflife-monitor-${model}`);
    // Starting again is a no-op, not an error.
    expect((await halflife('monitor', 'start', model, '--policy', policyFile, '--cadence', '10s')).code).toBe(0);

    let status: { ticks: number; health: string; stage: string } = { ticks: 0, health: '', stage: '' };
    for (let i = 0; i < 40 && status.ticks < 2; i++) {
      await new Promise((r) => setTimeout(r, 2000));
      status = JSON.parse((await halflife('monitor', 'status', model, '--json')).stdout) as typeof status;
    }
    expect(status.ticks).toBeGreaterThanOrEqual(2);
    expect(status.stage).toBe('monitoring');

    type Listed = { decisionId: string; runId: string; kind: string; reason: string; policy: { hash: string } }[];
    const listDecisions = async (): Promise<Listed> => {
      const listed = await halflife('decisions', '--model', model, '--json');
      expect(listed.code, listed.stderr).toBe(0);
      return JSON.parse(listed.stdout) as Listed;
    };
    // The monitor keeps ticking every 10 s, and on a loaded machine a CLI call takes seconds: take
    // the table between two listings that agree, so both show the same decisions.
    let decisions: Listed = [];
    let table = { code: -1, stdout: '', stderr: '' };
    for (let attempt = 0; attempt < 10; attempt++) {
      decisions = await listDecisions();
      table = await halflife('decisions', '--model', model);
      if ((await listDecisions()).length === decisions.length) break;
    }
    expect(decisions.length).toBeGreaterThanOrEqual(2);
    expect(decisions.every((d) => d.kind === 'no-action')).toBe(true);
    // A monitor started on this code records revision-2 texts: the kind is not repeated in the reason.
    for (const d of decisions) expect(d.reason).toMatch(/^(accuracy \d\.\d{4} \(realised\)|no accuracy measured)/);
    // The table: times in the one format, each reason whole (piped output: one line per decision).
    expect(table.code, table.stderr).toBe(0);
    const rows = table.stdout.trim().split('\n').slice(1);
    expect(rows).toHaveLength(decisions.length);
    for (const [i, row] of rows.entries()) {
      expect(row).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC {2}/);
      expect(row.endsWith(decisions[i]!.reason)).toBe(true);
    }
    const explained = await halflife('explain', decisions[0]!.decisionId);
    expect(explained.code, explained.stderr).toBe(0);
    expect(explained.stdout).toContain('NO-ACTION');
    expect(explained.stdout).toContain('policy cli-threshold v1');
    expect(explained.stdout).toMatch(/accuracy \(realised from [\d,]+ labels\)/);
    expect(explained.stdout).toContain(`halflife replay ${workflowId}`);

    // The run that recorded most of the listed decisions: on a loaded machine the monitor may have
    // continued as new (its history budget) since, and the latest run may not have decided yet.
    const perRun = new Map<string, number>();
    for (const d of decisions) perRun.set(d.runId, (perRun.get(d.runId) ?? 0) + 1);
    const [runId, recorded] = [...perRun].sort((a, b) => b[1] - a[1])[0]!;
    const replayed = await halflife('replay', workflowId, '--run', runId, '--json');
    expect(replayed.code, replayed.stderr).toBe(0);
    // The SDK's worker chatter stays out of a command's output (its warnings would be JSON lines).
    expect(replayed.stderr).not.toMatch(/\[INFO\]|Worker state changed/);
    const outcome = JSON.parse(replayed.stdout) as { ok: boolean; decisions: unknown[] };
    expect(outcome.ok).toBe(true);
    // Every decision the run recorded is re-derived (a run still going may have made more since).
    expect(outcome.decisions.length).toBeGreaterThanOrEqual(recorded);
  });

  it('pauses and resumes with the actor recorded, and refuses what makes no sense with a clear error', async () => {
    const paused = await halflife('monitor', 'pause', model, '--as', 'carol', '--reason', 'maintenance', '--json');
    expect(paused.code, paused.stderr).toBe(0);
    expect(JSON.parse(paused.stdout)).toMatchObject({ stage: 'paused', paused: true });
    const again = await halflife('monitor', 'pause', model);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('already paused');
    const approve = await halflife('approve', model);
    expect(approve.code).not.toBe(0);
    expect(approve.stderr).toContain('nothing is waiting for approval');
    const resumed = await halflife('monitor', 'resume', model, '--as', 'carol', '--json');
    expect(JSON.parse(resumed.stdout)).toMatchObject({ paused: false });
    const decisions = JSON.parse(
      (await halflife('decisions', '--model', model, '--kind', 'pause,resume', '--json')).stdout,
    ) as { kind: string; actor: string; reason: string }[];
    expect(decisions.map((d) => [d.kind, d.actor]).sort()).toEqual([
      ['pause', 'carol'],
      ['resume', 'carol'],
    ]);
  });

  it('names an unknown model, an invalid policy file and a missing one, with their exit codes', async () => {
    const unknown = await halflife('monitor', 'status', 'no-such-model', '--json');
    expect(unknown.code).toBe(5);
    expect(unknown.stderr).toContain('no monitor is running');
    const bad = path.join(dataDirOf(env), 'bad-policy.yaml');
    writeFileSync(
      bad,
      'name: x\nversion: "1"\nmodel: m\ntrigger:\n  kind: threshold\n  threshold: high\nguards:\n  cooldown: soon\n',
    );
    const invalid = await halflife('policy', 'validate', bad);
    expect(invalid.code).toBe(3);
    expect(invalid.stderr).toContain('cooldown');
    expect(invalid.stderr).toContain('threshold');
    // A path that names no file: a clear message and exit 2, from every command that takes one.
    const missing = path.join(dataDirOf(env), 'no-such-policy.yaml');
    for (const [args, named] of [
      [['policy', 'validate', missing], 'policy file'],
      [['monitor', 'start', 'no-such-model', '--policy', missing], '--policy'],
      [['policy', 'apply', 'no-such-model', missing], 'policy file'],
    ] as const) {
      const run = await halflife(...args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toContain(`${named} ${missing}: no such file or directory`);
    }
  });
});

function dataDirOf(env: NodeJS.ProcessEnv): string {
  return env.HALFLIFE_DATA_DIR!;
}
