/**
 * Labels still on their way, ordered by arrival: a backtest's window sees only labels that
 * arrived before its decision time, and later windows receive the rest as late labels for the
 * windows their events belong to — as the ModelMonitor's windows do in production.
 */

/** A label in flight: when it arrives, the window its event was scored in, the score it was given, the label. */
export interface PendingLabel {
  arrival: number;
  windowStart: number;
  score: number;
  label: 0 | 1;
}

/** A binary min-heap on arrival time. */
export class LabelQueue {
  readonly #heap: PendingLabel[] = [];

  get size(): number {
    return this.#heap.length;
  }

  push(label: PendingLabel): void {
    const h = this.#heap;
    h.push(label);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((h[parent] as PendingLabel).arrival <= label.arrival) break;
      h[i] = h[parent] as PendingLabel;
      i = parent;
    }
    h[i] = label;
  }

  /** Remove and return every label that arrives before `time`, in arrival order. */
  takeBefore(time: number): PendingLabel[] {
    const out: PendingLabel[] = [];
    while (this.#heap.length > 0 && (this.#heap[0] as PendingLabel).arrival < time) out.push(this.#pop());
    return out;
  }

  #pop(): PendingLabel {
    const h = this.#heap;
    const top = h[0] as PendingLabel;
    const last = h.pop() as PendingLabel;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let smallest = i;
        const at = (k: number): number => (k === i ? last.arrival : (h[k] as PendingLabel).arrival);
        if (l < h.length && at(l) < at(smallest)) smallest = l;
        if (r < h.length && at(r) < at(smallest)) smallest = r;
        if (smallest === i) break;
        h[i] = h[smallest] as PendingLabel;
        i = smallest;
      }
      h[i] = last;
    }
    return top;
  }
}
