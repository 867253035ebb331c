/**
 * `halflife backtest --plot <file.html>`: one self-contained HTML file (uPlot and its stylesheet
 * inlined, the data as JSON) with two charts over the history, one series per policy: each
 * window's quality in hindsight, and the cumulative true cost; retrains are marked on the
 * quality chart. It opens from disk, with no network.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { RunInfo } from './backtest-report.ts';

/** The data the page plots: per policy, window ends, qualities, cumulative true cost and retrain times (epoch seconds). */
export interface PlotData {
  title: string;
  series: {
    name: string;
    time: number[];
    quality: (number | null)[];
    cumulativeCost: (number | null)[];
    retrains: number[];
  }[];
}

export function plotData(runs: readonly RunInfo[], data: string): PlotData {
  return {
    title: `halflife backtest: ${path.basename(data)}`,
    series: runs.map(({ report: r }) => {
      let cost = 0;
      const price = r.costModel === null ? 0 : r.costModel.retrainCost + r.costModel.riskCost;
      // A retrain is charged at the close of the window that decided it (as true cost charges it: not when it serves nothing).
      const charged = new Map<number, number>();
      for (const d of r.decisions)
        if (d.kind === 'retrain' && !d.retrain?.servesNothing) charged.set(d.time, (charged.get(d.time) ?? 0) + price);
      return {
        name: `${r.policy.name} v${r.policy.version} (${r.policy.trigger})`,
        time: r.windows.map((w) => w.end / 1000),
        quality: r.windows.map((w) => w.hindsightQuality),
        cumulativeCost: r.windows.map((w) => {
          if (r.costModel === null) return null;
          cost += (w.trueCost ?? 0) + (charged.get(w.end) ?? 0);
          return cost;
        }),
        retrains: r.decisions.filter((d) => d.kind === 'retrain').map((d) => d.time / 1000),
      };
    }),
  };
}

function uplotAssets(): { js: string; css: string } {
  const require = createRequire(import.meta.url);
  const dir = path.dirname(require.resolve('uplot/package.json'));
  return {
    js: readFileSync(path.join(dir, 'dist/uPlot.iife.min.js'), 'utf8'),
    css: readFileSync(path.join(dir, 'dist/uPlot.min.css'), 'utf8'),
  };
}

/** Escape text for a <script> element's body: it must not close the element. */
const scriptSafe = (text: string): string => text.replace(/<\/(script)/gi, '<\\/$1');

export function backtestPlotHtml(runs: readonly RunInfo[], data: string): string {
  const { js, css } = uplotAssets();
  const payload = plotData(runs, data);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(payload.title)}</title>
<style>${css}
body { font: 14px system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 18px; } h2 { font-size: 15px; margin-top: 28px; }
</style>
</head>
<body>
<h1>${escapeHtml(payload.title)}</h1>
<p>Quality of every window in hindsight (every label, whenever it arrived), and the cumulative true cost
(errors + retrains), one line per policy. Ticks under the quality chart mark retrains.</p>
<h2>Quality per window</h2><div id="quality"></div>
<h2>Cumulative true cost</h2><div id="cost"></div>
<script>${scriptSafe(js)}</script>
<script>
const data = ${scriptSafe(JSON.stringify(payload))};
const colours = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const width = Math.min(1100, window.innerWidth - 48);
const time = data.series[0] ? data.series[0].time : [];
function chart(el, key, label) {
  const series = [{}].concat(data.series.map((s, i) => ({ label: s.name, stroke: colours[i % colours.length], width: 1.5, spanGaps: true })));
  const marks = {
    hooks: {
      draw: [(u) => {
        if (key !== 'quality') return;
        const ctx = u.ctx;
        data.series.forEach((s, i) => {
          ctx.fillStyle = colours[i % colours.length];
          for (const t of s.retrains) {
            const x = u.valToPos(t, 'x', true);
            ctx.fillRect(x - 1, u.bbox.top + u.bbox.height - 10 - 6 * i, 3, 6);
          }
        });
      }],
    },
  };
  new uPlot({ width, height: 320, series, axes: [{}, { label }], plugins: [marks] },
    [time].concat(data.series.map((s) => s[key])), el);
}
chart(document.getElementById('quality'), 'quality', 'quality');
chart(document.getElementById('cost'), 'cumulativeCost', 'money');
</script>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
}
