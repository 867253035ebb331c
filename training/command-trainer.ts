/**
 * The external-command trainer (contract in docs/trainers.md): halflife runs
 *   <command…> --train <csv> --params <json> --out-dir <dir> --seed <n>
 * and expects `<dir>/model.onnx` and `<dir>/metrics.json` and exit code 0. A non-zero exit is a
 * failure carrying the tail of stderr; exit code 2 (usage) or 3 (invalid input) mark it as not
 * worth retrying, as does a program that does not exist.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CSV_ID_COLUMN, CSV_LABEL_COLUMN } from './csv.ts';
import { TrainerError, type Trainer, type TrainOutput, type TrainRequest } from './trainer.ts';

export interface CommandTrainerOptions {
  /** Longest a training may run. @default 2 hours */
  timeoutMs?: number;
  /** Heartbeat interval while the command runs. @default 5000 */
  heartbeatMs?: number;
  /** Bytes of stderr kept for the failure message. @default 4096 */
  stderrTailBytes?: number;
  /** Extra environment for the command. @default {} */
  env?: Record<string, string>;
}

/** Exit codes the contract reserves for "your input is wrong": not retried. */
const BAD_INPUT_EXIT_CODES = new Set([2, 3]);

/** The params file halflife writes for the command. */
export interface CommandParamsFile {
  params: Record<string, unknown>;
  features: { numeric: string[]; categorical: string[] };
  id_column: string;
  label_column: string;
  /** What the model predicts: its label column holds 0/1, a class name, or a number. */
  kind: 'binary' | 'multiclass' | 'regression';
  /** Multiclass: the classes in order; the model's probability output has one column per class in this order. */
  classes?: string[];
}

export function commandTrainer(command: readonly string[], options: CommandTrainerOptions = {}): Trainer {
  if (command.length === 0 || !command[0]) throw new TrainerError('the command trainer needs a program to run', true);
  const program = command[0];
  return {
    name: `command:${path.basename(program)}`,
    async train(request: TrainRequest): Promise<TrainOutput> {
      await mkdir(request.outDir, { recursive: true });
      const paramsFile = path.join(request.outDir, 'params.json');
      const file: CommandParamsFile = {
        params: request.params,
        features: request.featureNames,
        id_column: CSV_ID_COLUMN,
        label_column: CSV_LABEL_COLUMN,
        kind: request.target?.kind ?? 'binary',
        ...(request.target?.kind === 'multiclass' ? { classes: [...request.target.classes] } : {}),
      };
      await writeFile(paramsFile, JSON.stringify(file, null, 2));
      const args = [
        ...command.slice(1),
        '--train',
        request.trainFile,
        '--params',
        paramsFile,
        '--out-dir',
        request.outDir,
        '--seed',
        String(request.seed),
      ];
      const tailBytes = options.stderrTailBytes ?? 4096;
      let stderr = Buffer.alloc(0);
      const started = performance.now();
      const exit = await new Promise<{
        code: number | null;
        signal: NodeJS.Signals | null;
        spawnError?: NodeJS.ErrnoException;
      }>((resolve) => {
        const child = spawn(program, args, {
          cwd: request.outDir,
          env: { ...process.env, ...options.env, PYTHONUNBUFFERED: '1' },
          stdio: ['ignore', 'ignore', 'pipe'],
          // Own process group so a timeout or cancellation also ends the command's children.
          detached: true,
        });
        const kill = () => {
          if (child.pid !== undefined) {
            try {
              process.kill(-child.pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }
        };
        const beat = setInterval(
          () => request.heartbeat({ trainer: 'command', elapsedMs: Math.round(performance.now() - started) }),
          options.heartbeatMs ?? 5000,
        );
        const timeout = setTimeout(kill, options.timeoutMs ?? 2 * 3600_000);
        request.signal?.addEventListener('abort', kill, { once: true });
        child.stderr.on('data', (chunk: Buffer) => {
          stderr = Buffer.concat([stderr, chunk]);
          if (stderr.length > tailBytes * 2) stderr = stderr.subarray(stderr.length - tailBytes);
        });
        const done = (result: {
          code: number | null;
          signal: NodeJS.Signals | null;
          spawnError?: NodeJS.ErrnoException;
        }) => {
          clearInterval(beat);
          clearTimeout(timeout);
          request.signal?.removeEventListener('abort', kill);
          resolve(result);
        };
        child.on('error', (err: NodeJS.ErrnoException) => done({ code: null, signal: null, spawnError: err }));
        child.on('close', (code, signal) => done({ code, signal }));
      });
      const tail = stderr
        .subarray(Math.max(0, stderr.length - tailBytes))
        .toString('utf8')
        .trim();
      if (exit.spawnError) {
        throw new TrainerError(
          `could not run ${program}: ${exit.spawnError.message}`,
          exit.spawnError.code === 'ENOENT' || exit.spawnError.code === 'EACCES',
        );
      }
      if (exit.code !== 0) {
        const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
        throw new TrainerError(
          `trainer ${path.basename(program)} ${how}${tail ? `: ${tail}` : ' (no stderr output)'}`,
          exit.code !== null && BAD_INPUT_EXIT_CODES.has(exit.code),
          tail,
          exit.code,
        );
      }
      const onnxPath = path.join(request.outDir, 'model.onnx');
      try {
        await access(onnxPath);
      } catch {
        throw new TrainerError(
          `trainer ${path.basename(program)} exited 0 but wrote no model.onnx in its --out-dir`,
          true,
          tail,
          0,
        );
      }
      let metrics: Record<string, unknown>;
      try {
        metrics = JSON.parse(await readFile(path.join(request.outDir, 'metrics.json'), 'utf8')) as Record<
          string,
          unknown
        >;
        if (metrics === null || typeof metrics !== 'object' || Array.isArray(metrics))
          throw new Error('not a JSON object');
      } catch (err) {
        throw new TrainerError(
          `trainer ${path.basename(program)} wrote no valid metrics.json: ${(err as Error).message}`,
          true,
          tail,
          0,
        );
      }
      const usedParams =
        metrics.params && typeof metrics.params === 'object'
          ? (metrics.params as Record<string, unknown>)
          : request.params;
      const codeVersion =
        typeof metrics.code_version === 'string' ? metrics.code_version : await fallbackCodeVersion(command);
      metrics.trainSeconds ??= (performance.now() - started) / 1000;
      return { onnxPath, metrics, params: usedParams, codeVersion };
    },
  };
}

/** Without a reported code_version: a digest of the command line and of any script file it names. */
async function fallbackCodeVersion(command: readonly string[]): Promise<string> {
  const h = createHash('sha256').update(command.join('\u0000'));
  for (const arg of command) {
    try {
      h.update(await readFile(arg));
    } catch {
      // not a file
    }
  }
  return `sha256:${h.digest('hex').slice(0, 16)}`;
}
