/**
 * Revisions of the decision texts. Workflow code writes decision reasons, and replaying a
 * recorded history must re-derive the reasons it recorded, so a monitor keeps the revision its
 * run started with (the ModelMonitor workflow's `patched` marker; `MonitorSettings.textRevision`).
 * - 1: as shipped until 2026-12: "no action: …", "retrain: retrain: …", "blocked by <guard>: …",
 *   hours with one decimal ("0.0 h ago"), ISO instants, policy durations as written ("2m").
 * - 2: the kind is not repeated; durations, instants and money in detectors/texts/format.ts'
 *   form; the economics statement of detectors/texts/economics-statement.ts.
 */
export const LATEST_TEXT_REVISION = 2;
