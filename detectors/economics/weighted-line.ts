/** The event-weighted least-squares line of window quality on window start, shared by the step and persistence rules. */

interface WeightedQualityWindow {
  start: number;
  events: number;
  quality: number;
}

/** Each window's residual from the event-weighted least-squares line of quality on window start. */
export function weightedLineResiduals(ws: readonly WeightedQualityWindow[]): number[] {
  const n = ws.reduce((s, w) => s + w.events, 0);
  const t0 = ws[0]?.start ?? 0;
  const mt = ws.reduce((s, w) => s + w.events * (w.start - t0), 0) / n;
  const mq = ws.reduce((s, w) => s + w.events * w.quality, 0) / n;
  let stt = 0;
  let stq = 0;
  for (const w of ws) {
    stt += w.events * (w.start - t0 - mt) ** 2;
    stq += w.events * (w.start - t0 - mt) * (w.quality - mq);
  }
  const slope = stt > 0 ? stq / stt : 0;
  return ws.map((w) => w.quality - mq - slope * (w.start - t0 - mt));
}
