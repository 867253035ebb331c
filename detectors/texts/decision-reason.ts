/**
 * Decision reasons: the kind of a decision is a field (`retrain`, `no-action`, `blocked`…), and
 * its reason says why without repeating it. One composer for the policy's decisions, and one
 * reader's view of any stored reason (records written before this rule carry prefixes such as
 * "retrain: retrain: …" or "no action: wait: …"; they are stored as written and cleaned only
 * where people read them).
 */

/** Who stands in the way of a retrain the trigger wants (see detectors/policy/evaluate.ts). */
export interface BlockingGuard {
  guard: string;
  detail: string;
}

/**
 * The reason of a policy decision from its trigger's reason and the first blocking guard.
 * `no-action` and `retrain` give the trigger's reason alone; `blocked` names the guard first,
 * then the trigger ("cooldown guard: …; trigger: …").
 */
export function composeDecisionReason(triggerReason: string, blocking: BlockingGuard | null): string {
  if (blocking === null) return triggerReason;
  return `${blocking.guard} guard: ${blocking.detail}; trigger: ${triggerReason}`;
}

/**
 * Text revision 3: the reason of a decision whose challenger probe the data-quality guard stops —
 * a probe trains on the data a retrain would. Before a retrain the guard blocks the retrain the
 * trigger wants and the probe that would check it; an exploring probe is named as not started.
 */
export function probeStoppedReason(
  plan: { kind: 'before-retrain' | 'explore'; reason: string },
  triggerReason: string,
  dataQuality: BlockingGuard,
): string {
  return plan.kind === 'before-retrain'
    ? `${dataQuality.guard} guard: ${dataQuality.detail}; the challenger probe that would check the retrain trains on the same data, so neither starts; trigger: ${triggerReason}`
    : `${triggerReason}; ${plan.reason}, but it is not started: ${dataQuality.guard} guard: ${dataQuality.detail}`;
}

/**
 * A trigger's reason when the data holds back the retrain it wants (too few labelled rows since a
 * change, say): what holds it first — "waiting for …", with what it waits for — then the
 * trigger's own reason, which says why the retrain will come. The decision's kind (`no-action`)
 * is not repeated.
 */
export function heldTriggerReason(hold: string, triggerReason: string): string {
  return `${hold}; ${triggerReason}`;
}

/** Prefixes earlier texts put before the reason, by the kind they repeat. */
const LEGACY_PREFIXES: readonly RegExp[] = [/^no action: /, /^retrain: /, /^wait: /, /^training failed: /];

/**
 * A stored reason as people should read it: without a leading repetition of the decision's kind
 * or the economics verdict ("retrain: retrain: …", "no action: wait: …", "blocked by cooldown:
 * …" → "cooldown guard: …"), the trigger's own verdict after "trigger:" dropped too. Reasons
 * written without prefixes are returned unchanged.
 */
export function displayReason(reason: string): string {
  let text = reason;
  for (let changed = true; changed;) {
    changed = false;
    for (const prefix of LEGACY_PREFIXES) {
      const next = text.replace(prefix, '');
      if (next !== text) {
        text = next;
        changed = true;
      }
    }
  }
  text = text.replace(/^blocked by ([a-z-]+): /, '$1 guard: ');
  text = text.replace(/; trigger: (?:retrain|wait): /, '; trigger: ');
  text = text.replace(/^wait for a clean training window: (?:retrain: )?/, 'waiting for a clean training window: ');
  text = text.replace(
    /^wait for enough data after the change: (?:retrain: )?/,
    'waiting for enough data after the change: ',
  );
  return text;
}

/**
 * The first clause of a reason (up to the first "; "), for a table that shows one line with the
 * whole text a click or keystroke away. Returns the whole reason when it has one clause.
 */
export function reasonHeadline(reason: string): string {
  const cut = reason.indexOf('; ');
  return cut < 0 ? reason : reason.slice(0, cut);
}
