import { test } from 'node:test';
import assert from 'node:assert/strict';
import { barChart, escapeXml, lineChart, niceTicks, ratesAsBars, simulationPlots } from '../src/plot';

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

test('nice ticks are round and cover the range', () => {
  assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0, 50, 5), [0, 10, 20, 30, 40, 50]);
  assert.deepEqual(niceTicks(3, 3), [3, 3.2, 3.4, 3.6, 3.8, 4]);
  assert.deepEqual(niceTicks(NaN, 1), []);
});

test('line chart: one point per step, the path goes up with accuracy', () => {
  const svg = lineChart(
    [[1, 0.1], [2, 0.5], [3, 0.9]],
    { title: 'Accuracy', xLabel: 'steps', yLabel: 'acc', width: 400, height: 200 },
    [0, 1],
  );
  assert.equal(count(svg, '<circle'), 3);
  const d = /class="series" d="([^"]+)"/.exec(svg)![1];
  const ys = d.split(' ').map((p) => Number(p.slice(1).split(',')[1]));
  assert.equal(ys.length, 3);
  // SVG y grows downwards: rising accuracy means falling y.
  assert.ok(ys[0] > ys[1] && ys[1] > ys[2], d);
  // 0.9 of the way between the bottom (200 - 46) and the top (34) margins.
  assert.equal(ys[2], Number((154 - 0.9 * 120).toFixed(1)));
});

test('bar chart: one bar per layer, tallest bar for the highest rate, labels escaped', () => {
  const svg = barChart(
    [{ label: 'conv<1>', value: 10 }, { label: 'fc', value: 40 }],
    { title: 'Rates', xLabel: 'layer', yLabel: 'Hz' },
  );
  const heights = [...svg.matchAll(/class="bar"[^>]*height="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.equal(heights.length, 2);
  assert.ok(heights[1] > heights[0]);
  assert.ok(svg.includes('conv&lt;1&gt;'));
  assert.ok(!svg.includes('conv<1>'));
});

test('rates come as a map or a list', () => {
  assert.deepEqual(ratesAsBars({ l1: 3, l2: 4 }), [{ label: 'l1', value: 3 }, { label: 'l2', value: 4 }]);
  assert.deepEqual(ratesAsBars([{ layer: 'a', rate: 1.5 }]), [{ label: 'a', value: 1.5 }]);
  assert.deepEqual(ratesAsBars(undefined), []);
});

test('simulation plots: both charts, no external references, "no data" when empty', () => {
  const html = simulationPlots({ accuracy_per_step: [0.2, 0.6, 0.9, 0.95], rates: { fc1: 31.5, fc2: 12 }, accuracy: 0.95, steps: 4 });
  assert.equal(count(html, '<svg'), 2);
  assert.equal(count(html, 'class="point"'), 4);
  assert.equal(count(html, 'class="bar"'), 2);
  assert.ok(!/https?:\/\/(?!www\.w3\.org)/.test(html), 'no network references');
  assert.ok(html.includes('<b>accuracy</b>: 0.95'));
  // The server's rates are spikes per neuron per step, not per second.
  assert.ok(html.includes('spikes per neuron per step'));
  assert.ok(!/\bHz\b/.test(html));
  const empty = simulationPlots({});
  assert.equal(count(empty, 'no data'), 2);
});

test('xml escaping', () => {
  assert.equal(escapeXml(`a<b>&"c'`), 'a&lt;b&gt;&amp;&quot;c&apos;');
});
