/**
 * When a load generator's POSTs of one interval are sent (post-latency and fleet benchmarks):
 * `burst` all at once, events first, as one client flushing an interval's buffer does; `spread`
 * evenly over the interval, events and labels interleaved, as many independent clients do. POSTs
 * sent together wait for each other's work on the server, so the two measure different things.
 */
export type Arrival = 'burst' | 'spread';

export function arrivalOf(text: string): Arrival {
  if (text !== 'burst' && text !== 'spread')
    throw new Error(`--arrival takes burst or spread, got ${JSON.stringify(text)}`);
  return text;
}

/** Sends each interval's POSTs as `arrival` says; `cancel` drops the ones not sent yet. */
export class PostPacer {
  readonly #pending = new Set<NodeJS.Timeout>();

  constructor(
    readonly arrival: Arrival,
    readonly intervalMs: number,
  ) {}

  send(eventPosts: readonly (() => void)[], labelPosts: readonly (() => void)[]): void {
    if (this.arrival === 'burst') {
      for (const post of [...eventPosts, ...labelPosts]) post();
      return;
    }
    const order = interleave(eventPosts, labelPosts);
    order.forEach((post, k) => {
      const timer = setTimeout(
        () => {
          this.#pending.delete(timer);
          post();
        },
        Math.floor((k * this.intervalMs) / order.length),
      );
      this.#pending.add(timer);
    });
  }

  cancel(): void {
    for (const timer of this.#pending) clearTimeout(timer);
    this.#pending.clear();
  }
}

/** a[0], b[0], a[1], b[1], … then the rest of the longer. */
export function interleave<T>(a: readonly T[], b: readonly T[]): T[] {
  const out: T[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i < a.length) out.push(a[i]!);
    if (i < b.length) out.push(b[i]!);
  }
  return out;
}
