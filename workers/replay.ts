import { readFileSync } from 'node:fs';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import type { temporal } from '@temporalio/proto';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { DerivedDecision } from '../workflows/messages.ts';
import { createLogger } from '../platform/logger.ts';
import { halflifeDataConverter } from '../platform/temporal-payload-codec.ts';
import { installTemporalRuntime } from './temporal-runtime.ts';
import { workflowBundle } from './temporal-worker.ts';

type History = temporal.api.history.v1.IHistory;

export interface ReplayOutcome {
  workflowId: string;
  ok: boolean;
  /** Decisions the current code derived from the recorded history, in order. */
  decisions: DerivedDecision[];
  /** Why the replay failed: nondeterminism (with the event where it diverged) or another error. */
  error: { kind: 'nondeterminism' | 'failure'; message: string; eventId: number | null } | null;
}

/** A history as exported by `temporal workflow show --output json` or the Web UI (proto3 JSON). */
export function loadHistoryFile(path: string): History {
  return historyFromJSON(JSON.parse(readFileSync(path, 'utf8')));
}

/**
 * Replay one recorded history against the current workflow code, collecting every decision the
 * code re-derives (through the monitor's decisions sink, which runs during replay).
 */
export async function replayHistory(
  history: History,
  workflowId: string,
  onDecision: (d: DerivedDecision) => void = () => {},
  bundle?: WorkflowBundleWithSourceMap,
): Promise<ReplayOutcome> {
  const decisions: DerivedDecision[] = [];
  // Only the SDK's warnings and errors, structured on stderr: a replay prints decisions, not worker states.
  installTemporalRuntime(createLogger('replay'), 'WARN');
  try {
    await Worker.runReplayHistory(
      {
        workflowBundle: bundle ?? (await workflowBundle()),
        // Reads payloads halflife's codec compressed and passes the rest through; a replay writes nothing.
        dataConverter: halflifeDataConverter({ compress: false }),
        sinks: {
          decisions: {
            derived: {
              fn: (_info, decision: DerivedDecision) => {
                decisions.push(decision);
                onDecision(decision);
              },
              callDuringReplay: true,
            },
          },
        },
      },
      history,
      workflowId,
    );
    return { workflowId, ok: true, decisions, error: null };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const nondeterministic =
      err instanceof Error && (err.name === 'DeterminismViolationError' || /nondetermin/i.test(message));
    // Core names the event as `HistoryEvent(id: N, Type)`.
    const eventMatch = /HistoryEvent\(id: (\d+)/.exec(message) ?? /event(?:\s+id)?\s*[:#]?\s*(\d+)/i.exec(message);
    return {
      workflowId,
      ok: false,
      decisions,
      error: {
        kind: nondeterministic ? 'nondeterminism' : 'failure',
        message,
        eventId: eventMatch ? Number(eventMatch[1]) : null,
      },
    };
  }
}
