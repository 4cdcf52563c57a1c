// The app panel's model: what a running app (`neuride.runApp`) has shown so
// far, folded from its `neuride/appEvent` and `neuride/appStatus`
// notifications and its final report, and the panel's HTML for it. Kept
// free of `vscode` imports so unit tests can drive it.

import { escapeHtml } from './webview';

/** One event of a run (docs/app.md); fields that do not apply are absent. */
export interface AppEvent {
  t: number;
  app: string;
  kind: 'started' | 'rule' | 'reading' | 'prediction' | 'bad_reading' | 'dropped' | 'notice' | 'stopped';
  rule?: string;
  event?: string;
  values?: Record<string, unknown>;
  sensor?: string;
  pipeline?: string;
  count?: number;
  message?: string;
}

/** `neuride/appStatus`'s counts. */
export interface AppStatus {
  t: number;
  readings: Record<string, number>;
  predictions: Record<string, number>;
  latest: Record<string, unknown>;
  events: Record<string, number>;
  dropped: number;
  bad_readings: number;
  readings_per_s: number;
}

/** The parts of the final report the panel shows. */
export interface AppReport {
  readings: Record<string, number>;
  predictions: Record<string, number>;
  events: Record<string, number>;
  dropped: number;
  bad_readings: number;
  readings_per_s: number;
  run_s: number;
  stopped: string;
  sensors?: Array<{ name: string; source: string; state: string }>;
  notes?: string[];
}

export interface Firing {
  t: number;
  rule: string;
  event: string;
  values: Record<string, unknown>;
}

/** How the panel runs the app (its toolbar's checkboxes). */
export interface RunOptions {
  /** Wall clock instead of virtual time. */
  realtime: boolean;
  /** Replay sensors start over at the end of their data. */
  loop: boolean;
}

/** `neuride.runApp`'s argument for `options`. */
export function runArguments(uri: string, app: string, options: RunOptions): Record<string, unknown> {
  return { uri, app, ...(options.realtime ? { speed: 'realtime' } : {}), ...(options.loop ? { loop: true } : {}) };
}

export interface AppState {
  app: string;
  file: string;
  options: RunOptions;
  running: boolean;
  /** Why it ended, once it has. */
  stopped?: string;
  t: number;
  readings: Record<string, number>;
  sources: Record<string, string>;
  predictions: Record<string, number>;
  latest: Record<string, unknown>;
  events: Record<string, number>;
  bad: number;
  dropped: number;
  rate: number;
  /** Rule firings, oldest first (the latest MAX_FIRINGS). */
  firings: Firing[];
  /** Notices and bad readings, newest last (the latest MAX_MESSAGES). */
  messages: string[];
}

export const MAX_FIRINGS = 500;
export const MAX_MESSAGES = 50;

export function newState(app: string, file: string, options: RunOptions = { realtime: false, loop: false }): AppState {
  return { app, file, options, running: true, t: 0, readings: {}, sources: {}, predictions: {}, latest: {}, events: {}, bad: 0, dropped: 0, rate: 0, firings: [], messages: [] };
}

function keep<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}

export function onEvent(state: AppState, event: AppEvent): void {
  state.t = Math.max(state.t, event.t);
  switch (event.kind) {
    case 'started':
      for (const [sensor, source] of Object.entries(event.values ?? {})) {
        state.sources[sensor] = String(source);
        state.readings[sensor] ??= 0;
      }
      break;
    case 'rule': {
      const rule = event.rule ?? '';
      state.events[rule] = (state.events[rule] ?? 0) + 1;
      keep(state.firings, { t: event.t, rule, event: event.event ?? '', values: event.values ?? {} }, MAX_FIRINGS);
      break;
    }
    case 'bad_reading':
      state.bad += 1;
      keep(state.messages, `t=${event.t} s: bad reading of ${event.sensor ?? '?'}: ${event.message ?? ''}`, MAX_MESSAGES);
      break;
    case 'dropped':
      state.dropped += event.count ?? 0;
      break;
    case 'notice':
      keep(state.messages, `t=${event.t} s: ${event.message ?? ''}`, MAX_MESSAGES);
      break;
    case 'prediction':
      if (event.pipeline) state.latest[event.pipeline] = event.values?.[event.pipeline];
      break;
    case 'stopped':
      state.running = false;
      state.stopped = event.message ?? 'stopped';
      break;
    default:
      break;
  }
}

export function onStatus(state: AppState, status: AppStatus): void {
  state.t = Math.max(state.t, status.t);
  state.readings = { ...state.readings, ...status.readings };
  state.predictions = status.predictions;
  state.latest = status.latest;
  state.events = { ...state.events, ...status.events };
  state.bad = status.bad_readings;
  state.dropped = status.dropped;
  state.rate = status.readings_per_s;
}

export function onReport(state: AppState, report: AppReport): void {
  state.running = false;
  state.stopped = report.stopped;
  state.readings = report.readings;
  state.predictions = report.predictions;
  state.events = report.events;
  state.bad = report.bad_readings;
  state.dropped = report.dropped;
  state.rate = report.readings_per_s;
  state.t = Math.max(state.t, report.run_s);
  for (const sensor of report.sensors ?? []) {
    if (sensor.state === 'idle') state.sources[sensor.name] = `${state.sources[sensor.name] ?? sensor.source} — idle`;
  }
  for (const note of report.notes ?? []) keep(state.messages, note, MAX_MESSAGES);
}

function value(v: unknown): string {
  if (v === undefined || v === null) return '—';
  if (Array.isArray(v)) return `[${v.map((x) => (typeof x === 'number' ? +x.toFixed(4) : String(x))).join(', ')}]`;
  return typeof v === 'number' ? String(+v.toFixed(4)) : String(v);
}

function table(head: string[], rows: string[][]): string {
  const th = head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const tr = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${th}</tr></thead><tbody>${tr}</tbody></table>`;
}

/** The timeline: one row per rule, a tick per firing at its time. */
function timeline(state: AppState): string {
  if (state.firings.length === 0) return '<p class="empty">No rule has fired yet.</p>';
  const end = Math.max(state.t, ...state.firings.map((f) => f.t), 1e-9);
  const rules = [...new Set(state.firings.map((f) => f.rule))];
  const rows = rules
    .map((rule) => {
      const ticks = state.firings
        .filter((f) => f.rule === rule)
        .map((f) => `<span class="tick" style="left:${((100 * f.t) / end).toFixed(2)}%" title="${escapeHtml(`${f.event} at t=${f.t} s ${JSON.stringify(f.values)}`)}"></span>`)
        .join('');
      return `<div class="lane"><span class="lane-name">${escapeHtml(rule)}</span><div class="track">${ticks}</div></div>`;
    })
    .join('');
  const recent = state.firings
    .slice(-10)
    .reverse()
    .map((f) => `<li>t=${escapeHtml(String(f.t))} s — <b>${escapeHtml(f.event)}</b> (rule ${escapeHtml(f.rule)}) ${escapeHtml(Object.entries(f.values).map(([k, v]) => `${k}=${value(v)}`).join(' '))}</li>`)
    .join('');
  return `${rows}<div class="axis"><span>0 s</span><span>${escapeHtml(end.toFixed(1))} s</span></div><ol class="recent">${recent}</ol>`;
}

/** The panel's content (inside the page shell of webview.ts). */
export function appBody(state: AppState): string {
  const status = state.running ? `running — t=${state.t.toFixed(1)} s, ${Math.round(state.rate)} readings/s` : `stopped (${state.stopped ?? 'done'}) at t=${state.t.toFixed(1)} s`;
  const sensors = table(
    ['sensor', 'source', 'readings'],
    Object.keys({ ...state.sources, ...state.readings }).map((s) => [s, state.sources[s] ?? '', String(state.readings[s] ?? 0)]),
  );
  const pipelines = table(
    ['pipeline', 'latest prediction', 'predictions'],
    Object.keys({ ...state.predictions, ...state.latest }).map((p) => [p, value(state.latest[p]), String(state.predictions[p] ?? 0)]),
  );
  const rules = table(['rule', 'events'], Object.entries(state.events).map(([r, n]) => [r, String(n)]));
  const counts = `<p class="counts">bad readings: <b id="bad">${state.bad}</b> · dropped: <b id="dropped">${state.dropped}</b></p>`;
  const messages = state.messages.length ? `<h3>Notices</h3><ul>${state.messages.map((m) => `<li>${escapeHtml(m)}</li>`).join('')}</ul>` : '';
  const check = (id: string, label: string, on: boolean) => `<label><input type="checkbox" id="${id}" ${on ? 'checked' : ''} ${state.running ? 'disabled' : ''}> ${label}</label>`;
  return `<div class="toolbar"><button id="run" ${state.running ? 'disabled' : ''}>Run</button><button id="stop" ${state.running ? '' : 'disabled'}>Stop</button>${check('realtime', 'real time', state.options.realtime)}${check('loop', 'loop', state.options.loop)}<span id="state">${escapeHtml(status)}</span><span class="info">${escapeHtml(`${state.app} · ${state.file}`)}</span></div>
<div class="content app">
<div class="columns"><section><h3>Sensors</h3>${sensors}</section><section><h3>Pipelines</h3>${pipelines}</section><section><h3>Rules</h3>${rules}${counts}</section></div>
<h3>Rule firings</h3><div class="timeline">${timeline(state)}</div>
${messages}
</div>`;
}

/** Styles of the app panel (added to the page shell's). */
export const APP_STYLE = `
.app table { border-collapse: collapse; margin-bottom: 8px; }
.app th, .app td { text-align: left; padding: 2px 10px 2px 0; border-bottom: 1px solid var(--vscode-widget-border, #ddd); }
.app .columns { display: flex; flex-wrap: wrap; gap: 24px; }
.timeline .lane { display: flex; align-items: center; gap: 8px; margin: 4px 0; }
.timeline .lane-name { width: 120px; overflow: hidden; text-overflow: ellipsis; }
.timeline .track { position: relative; flex: 1; height: 14px; background: var(--vscode-editorWidget-background, #f3f3f3); }
.timeline .tick { position: absolute; top: 0; width: 2px; height: 14px; background: var(--vscode-charts-orange, #e58b00); }
.timeline .axis { display: flex; justify-content: space-between; margin-left: 128px; font-size: 11px; opacity: 0.7; }
.timeline .recent { font-size: 12px; }
.app .empty { opacity: 0.7; }
`;
