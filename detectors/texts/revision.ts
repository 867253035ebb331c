/**
 * Revisions of the decision texts. Workflow code writes decision reasons, and replaying a
 * recorded history must re-derive the reasons it recorded, so a monitor keeps the revision its
 * run started with (the ModelMonitor workflow's `patched` marker; `MonitorSettings.textRevision`).
 * - 1: as shipped until 2026-12: "no action: …", "retrain: retrain: …", "blocked by <guard>: …",
 *   hours with one decimal ("0.0 h ago"), ISO instants, policy durations as written ("2m").
 * - 2: the kind is not repeated; durations, instants and money in detectors/texts/format.ts'
 *   form; the economics statement of detectors/texts/economics-statement.ts.
 * - 3: a challenger probe the data-quality guard stops is said so. Before 3 the decision read
 *   "probe first: …" (kind `no-action`) and no probe started, window after window, without naming
 *   the broken data; from 3 a probe before a retrain stopped so is the guard's block of that retrain
 *   (kind `blocked`, the failing checks named, the trigger recorded as fired), and a stopped exploring probe is named in the
 *   no-action reason with the guard's detail.
 */
export const LATEST_TEXT_REVISION = 3;
