import { test } from 'node:test';
import assert from 'node:assert/strict';
import { APP_EVENT, APP_STATUS, LENS_UI_COMMANDS, SERVER_COMMANDS } from '../src/protocol';
import { MAX_FIRINGS, appBody, newState, onEvent, onReport, onStatus, runArguments } from '../src/appModel';

test('app method names agreed with the server', () => {
  assert.equal(APP_EVENT, 'neuride/appEvent');
  assert.equal(APP_STATUS, 'neuride/appStatus');
  assert.equal(SERVER_COMMANDS.runApp, 'neuride.runApp');
  assert.equal(LENS_UI_COMMANDS['neuride.runApp'], 'neuride.ui.runApp');
});

test('the panel folds events, statuses and the report', () => {
  const state = newState('greenhouse', 'greenhouse.neuro');
  onEvent(state, { t: 0, app: 'greenhouse', kind: 'started', values: { leaf: 'replay of 150 rows @ 5 Hz', probe: 'mqtt "greenhouse/probe" (idle)' } });
  onEvent(state, { t: 20.4, app: 'greenhouse', kind: 'rule', rule: 'virginica', event: 'virginica-detected', values: { species: 2 } });
  onEvent(state, { t: 21, app: 'greenhouse', kind: 'bad_reading', sensor: 'leaf', message: 'value 1 is NaN, expected a finite number' });
  onStatus(state, { t: 21, readings: { leaf: 106, probe: 0 }, predictions: { species: 106, probe_species: 0 }, latest: { species: 2, probe_species: null }, events: { virginica: 1, mismatch: 0 }, dropped: 0, bad_readings: 1, readings_per_s: 5000 });
  let html = appBody(state);
  assert.match(html, /<td>leaf<\/td><td>replay of 150 rows @ 5 Hz<\/td><td>106<\/td>/);
  assert.match(html, /<td>species<\/td><td>2<\/td><td>106<\/td>/);
  assert.match(html, /<td>probe_species<\/td><td>—<\/td>/);
  assert.match(html, /<td>virginica<\/td><td>1<\/td>/);
  assert.match(html, /class="tick" style="left:\d/);
  assert.match(html, /<b>virginica-detected<\/b> \(rule virginica\) species=2/);
  assert.match(html, /bad reading of leaf: value 1 is NaN/);
  assert.match(html, /<button id="run" disabled>Run<\/button><button id="stop" >Stop<\/button>/);
  assert.match(html, /running — t=21\.0 s, 5000 readings\/s/);

  onReport(state, { readings: { leaf: 150, probe: 0 }, predictions: { species: 150, probe_species: 0 }, events: { virginica: 3, mismatch: 0 }, dropped: 0, bad_readings: 1, readings_per_s: 9000, run_s: 29.8, stopped: 'end of data', sensors: [{ name: 'probe', source: 'mqtt', state: 'idle' }], notes: ['sensor `probe` is idle'] });
  html = appBody(state);
  assert.match(html, /<button id="run" >Run<\/button><button id="stop" disabled>Stop<\/button>/);
  assert.match(html, /<input type="checkbox" id="realtime"  >/);
  assert.match(html, /stopped \(end of data\) at t=29\.8 s/);
  assert.match(html, /<td>virginica<\/td><td>3<\/td>/);
  assert.match(html, /idle/);
});

test('the timeline keeps the latest firings and escapes what the server sent', () => {
  const state = newState('<app>', 'a.neuro');
  for (let i = 0; i < MAX_FIRINGS + 20; i++) {
    onEvent(state, { t: i, app: 'a', kind: 'rule', rule: 'r<1>', event: 'e&"x"', values: {} });
  }
  assert.equal(state.firings.length, MAX_FIRINGS);
  assert.equal(state.firings[0].t, 20);
  assert.equal(state.events['r<1>'], MAX_FIRINGS + 20);
  const html = appBody(state);
  assert.ok(!html.includes('<app>') && !html.includes('r<1>'));
  assert.match(html, /&lt;app&gt;/);
  onEvent(state, { t: 600, app: 'a', kind: 'stopped', message: 'cancelled' });
  assert.equal(state.running, false);
  assert.match(appBody(state), /stopped \(cancelled\)/);
});

test('the panel options become runApp arguments', () => {
  assert.deepEqual(runArguments('file:///a.neuro', 'g', { realtime: false, loop: false }), { uri: 'file:///a.neuro', app: 'g' });
  assert.deepEqual(runArguments('file:///a.neuro', 'g', { realtime: true, loop: true }), { uri: 'file:///a.neuro', app: 'g', speed: 'realtime', loop: true });
});
