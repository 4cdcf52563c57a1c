// Inline SVG charts for simulation results: accuracy against time steps and
// firing rate per layer. Pure string building (no DOM, no network), so it
// runs in unit tests and inside a webview with a strict CSP alike.

import type { SimulationResult } from './protocol';

export interface Bar {
  label: string;
  value: number;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
}

const MARGIN = { left: 58, right: 18, top: 34, bottom: 46 };

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function fmt(value: number): string {
  if (!Number.isFinite(value)) {
    return '–';
  }
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e5 || abs < 1e-3)) {
    return value.toExponential(1);
  }
  return Number(value.toFixed(3)).toString();
}

/** About `count` round tick values covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) {
    return [];
  }
  if (max === min) {
    max = min + 1;
  }
  const rawStep = (max - min) / Math.max(1, count);
  const magnitude = Math.pow(10, Math.floor(Math.log10(rawStep)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= rawStep) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) {
    ticks.push(Number(t.toFixed(12)));
  }
  return ticks;
}

function frame(options: ChartOptions, body: string, xTicks: string, yTicks: string): string {
  const width = options.width ?? 560;
  const height = options.height ?? 300;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="neuride-plot" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(options.title)}">` +
    `<rect class="plot-bg" x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>` +
    `<text class="plot-title" x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold" fill="#111827">${escapeXml(options.title)}</text>` +
    yTicks +
    xTicks +
    `<line x1="${MARGIN.left}" y1="${height - MARGIN.bottom}" x2="${width - MARGIN.right}" y2="${height - MARGIN.bottom}" stroke="#374151"/>` +
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${height - MARGIN.bottom}" stroke="#374151"/>` +
    body +
    `<text class="axis-label" x="${(MARGIN.left + width - MARGIN.right) / 2}" y="${height - 8}" text-anchor="middle" font-size="12" fill="#374151">${escapeXml(options.xLabel)}</text>` +
    `<text class="axis-label" x="14" y="${(MARGIN.top + height - MARGIN.bottom) / 2}" text-anchor="middle" font-size="12" fill="#374151" transform="rotate(-90 14 ${(MARGIN.top + height - MARGIN.bottom) / 2})">${escapeXml(options.yLabel)}</text>` +
    `</svg>`
  );
}

/** A line chart of `points` (x ascending), one circle per point. */
export function lineChart(points: Array<[number, number]>, options: ChartOptions, yRange?: [number, number]): string {
  const width = options.width ?? 560;
  const height = options.height ?? 300;
  const finite = points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (finite.length === 0) {
    return frame(options, `<text x="${width / 2}" y="${height / 2}" text-anchor="middle" fill="#6b7280">no data</text>`, '', '');
  }
  const xs = finite.map((p) => p[0]);
  const ys = finite.map((p) => p[1]);
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs) === xMin ? xMin + 1 : Math.max(...xs);
  const [yMin, yMax] = yRange ?? [Math.min(0, ...ys), Math.max(...ys) === Math.min(0, ...ys) ? 1 : Math.max(...ys)];
  const px = (x: number) => MARGIN.left + ((x - xMin) / (xMax - xMin)) * (width - MARGIN.left - MARGIN.right);
  const py = (y: number) => height - MARGIN.bottom - ((y - yMin) / (yMax - yMin)) * (height - MARGIN.top - MARGIN.bottom);
  const yTicks = niceTicks(yMin, yMax)
    .map(
      (t) =>
        `<line x1="${MARGIN.left}" y1="${py(t).toFixed(1)}" x2="${width - MARGIN.right}" y2="${py(t).toFixed(1)}" stroke="#e5e7eb"/>` +
        `<text x="${MARGIN.left - 6}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#4b5563">${fmt(t)}</text>`,
    )
    .join('');
  const xTicks = niceTicks(xMin, xMax, 8)
    .map(
      (t) =>
        `<line x1="${px(t).toFixed(1)}" y1="${height - MARGIN.bottom}" x2="${px(t).toFixed(1)}" y2="${height - MARGIN.bottom + 4}" stroke="#374151"/>` +
        `<text x="${px(t).toFixed(1)}" y="${height - MARGIN.bottom + 17}" text-anchor="middle" font-size="11" fill="#4b5563">${fmt(t)}</text>`,
    )
    .join('');
  const path = finite.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
  const dots = finite
    .map(([x, y]) => `<circle class="point" cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="2.5" fill="#2563eb"><title>${fmt(x)}: ${fmt(y)}</title></circle>`)
    .join('');
  return frame(options, `<path class="series" d="${path}" fill="none" stroke="#2563eb" stroke-width="2"/>${dots}`, xTicks, yTicks);
}

/** A vertical bar chart, one bar per entry, labels under the bars. */
export function barChart(bars: Bar[], options: ChartOptions): string {
  const width = options.width ?? 560;
  const height = options.height ?? 300;
  const finite = bars.filter((b) => Number.isFinite(b.value));
  if (finite.length === 0) {
    return frame(options, `<text x="${width / 2}" y="${height / 2}" text-anchor="middle" fill="#6b7280">no data</text>`, '', '');
  }
  const yMax = Math.max(...finite.map((b) => b.value), 0) || 1;
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const slot = plotWidth / finite.length;
  const py = (y: number) => height - MARGIN.bottom - (y / yMax) * (height - MARGIN.top - MARGIN.bottom);
  const yTicks = niceTicks(0, yMax)
    .map(
      (t) =>
        `<line x1="${MARGIN.left}" y1="${py(t).toFixed(1)}" x2="${width - MARGIN.right}" y2="${py(t).toFixed(1)}" stroke="#e5e7eb"/>` +
        `<text x="${MARGIN.left - 6}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#4b5563">${fmt(t)}</text>`,
    )
    .join('');
  const body = finite
    .map((bar, i) => {
      const x = MARGIN.left + i * slot + slot * 0.15;
      const barWidth = slot * 0.7;
      const top = py(Math.max(0, bar.value));
      const label = bar.label.length > 14 ? `…${bar.label.slice(-13)}` : bar.label;
      return (
        `<rect class="bar" x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(height - MARGIN.bottom - top).toFixed(1)}" fill="#f59e0b"><title>${escapeXml(bar.label)}: ${fmt(bar.value)}</title></rect>` +
        `<text x="${(x + barWidth / 2).toFixed(1)}" y="${(top - 4).toFixed(1)}" text-anchor="middle" font-size="10" fill="#374151">${fmt(bar.value)}</text>` +
        `<text x="${(x + barWidth / 2).toFixed(1)}" y="${height - MARGIN.bottom + 15}" text-anchor="middle" font-size="11" fill="#4b5563">${escapeXml(label)}</text>`
      );
    })
    .join('');
  return frame(options, body, '', yTicks);
}

/** Rates as the server sends them (`{layer: rate}` or `[{layer, rate}]`). */
export function ratesAsBars(rates: SimulationResult['rates']): Bar[] {
  if (!rates) {
    return [];
  }
  if (Array.isArray(rates)) {
    return rates.map((r) => ({ label: String(r.layer), value: Number(r.rate) }));
  }
  return Object.entries(rates).map(([label, value]) => ({ label, value: Number(value) }));
}

/** Both plots for a simulation result, as an HTML fragment. */
export function simulationPlots(result: SimulationResult): string {
  const accuracy = (result.accuracy_per_step ?? []).map((a, i): [number, number] => [i + 1, Number(a)]);
  const accuracyMax = Math.max(1, ...accuracy.map((p) => p[1]).filter(Number.isFinite));
  const parts = [
    lineChart(accuracy, { title: 'Accuracy vs time steps', xLabel: 'time steps', yLabel: 'accuracy' }, [0, accuracyMax]),
    // The server's `rate` is spikes per neuron per step (`rate_hz` divides by dt).
    barChart(ratesAsBars(result.rates), { title: 'Mean firing rate per layer', xLabel: 'layer', yLabel: 'spikes per neuron per step' }),
  ];
  const facts: string[] = [];
  for (const key of ['accuracy', 'steps', 'synops'] as const) {
    const value = result[key];
    if (typeof value === 'number') {
      facts.push(`<li><b>${key}</b>: ${fmt(value)}</li>`);
    }
  }
  return `<div class="plots">${parts.join('\n')}</div>${facts.length ? `<ul class="facts">${facts.join('')}</ul>` : ''}`;
}
