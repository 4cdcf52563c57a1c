// The messages this extension exchanges with `neuride lsp`, beyond standard
// LSP. Kept free of `vscode` imports so unit tests can check their shapes.

/** Request `neuride/modelText`: the read-only text rendering of a model. */
export const MODEL_TEXT = 'neuride/modelText';
/** Request `neuride/graph`: the graph as SVG, DOT or JSON. */
export const GRAPH = 'neuride/graph';
/** Request `neuride/models`: one entry per model in the workspace. */
export const MODELS = 'neuride/models';
/** `neuride/events`: the registry's event log (request), also accepted as a
 *  notification meaning "the registry changed". */
export const EVENTS = 'neuride/events';

/** Notification `neuride/appEvent`: `{uri, app, event}`, one per event of a running app. */
export const APP_EVENT = 'neuride/appEvent';
/** Notification `neuride/appStatus`: `{uri, app, status}`, a running app's counts. */
export const APP_STATUS = 'neuride/appStatus';

/** `workspace/executeCommand` ids the server implements. */
export const SERVER_COMMANDS = {
  simulate: 'neuride.simulate',
  sweep: 'neuride.sweep',
  infer: 'neuride.infer',
  runApp: 'neuride.runApp',
  importModel: 'neuride.importModel',
  exportModel: 'neuride.exportModel',
  showGraph: 'neuride.showGraph',
} as const;

/**
 * The extension's own command for each server command a code lens names:
 * run by VS Code directly, a server command's result would be dropped, so a
 * lens runs the UI command that shows it (plots, inference, graph webview).
 */
export const LENS_UI_COMMANDS: Readonly<Record<string, string>> = {
  [SERVER_COMMANDS.simulate]: 'neuride.ui.simulate',
  [SERVER_COMMANDS.sweep]: 'neuride.ui.sweep',
  [SERVER_COMMANDS.infer]: 'neuride.ui.infer',
  [SERVER_COMMANDS.runApp]: 'neuride.ui.runApp',
  [SERVER_COMMANDS.showGraph]: 'neuride.ui.showGraph',
};

/** A message for the user, without the "neuride: " the server's messages may start with. */
export function userMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return `neuride: ${text.replace(/^(neuride: )+/, '')}`;
}

/** JSON with two-space indents, but arrays of numbers/strings on one line each. */
export function compactJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/\[\s*([^[\]{}]*?)\s*\]/g, (_all, inner: string) =>
    inner.trim() === '' ? '[]' : `[${inner.split(/,\s*/).map((item) => item.trim()).join(', ')}]`,
  );
}

/** The virtual document scheme of the text views. */
export const MODEL_SCHEME = 'neuride-model';

/** Appended to a text view's path on the client side only (see modelEditor.ts). */
export const TEXT_VIEW_SUFFIX = ' (text)';

/** The client-side path of the text view of the model at `modelPath`. */
export function textViewPath(modelPath: string): string {
  return modelPath.endsWith(TEXT_VIEW_SUFFIX) ? modelPath : modelPath + TEXT_VIEW_SUFFIX;
}

/** The model's path from a text view's client-side path (also accepts a bare model path). */
export function modelPathOf(viewPath: string): string {
  return viewPath.endsWith(TEXT_VIEW_SUFFIX) ? viewPath.slice(0, -TEXT_VIEW_SUFFIX.length) : viewPath;
}

export interface ModelTextParams {
  uri: string;
}

export interface ModelTextResult {
  /** The virtual `neuride-model:` URI the server answers hover/symbols on. */
  uri: string;
  text: string;
  /** Node/value name -> range in `text`; the exact shape is the server's. */
  map: unknown;
}

export type GraphDirection = 'LR' | 'TB';
export type GraphFormat = 'svg' | 'dot' | 'json';

export interface GraphParams {
  uri: string;
  format: GraphFormat;
  direction?: GraphDirection;
  collapse?: 'auto' | 'never' | 'always';
}

/** The server answers `{ format, content }` or the bare content string. */
export type GraphResult = string | { format?: string; content?: string; svg?: string; text?: string };

export type ModelKind = 'snn' | 'ml' | 'dl' | 'mixed' | 'unknown';

export interface ModelEntry {
  uri: string;
  path: string;
  kind: ModelKind | string;
  size: number;
  ir_version?: number | null;
  opsets?: Record<string, number> | Array<{ domain: string; version: number }> | null;
  producer?: string | null;
  nodes?: number | null;
  parameters?: number | null;
}

export interface SimulateArguments {
  /** The `.neuro` file with the `simulate` item (or a model). */
  uri: string;
  /** Which `simulate` item, when the file has several. */
  name?: string;
}

/** What `neuride.simulate` returns; only the fields the plots use are typed. */
export interface SimulationResult {
  accuracy_per_step?: number[];
  /** Per layer: mean firing rate in spikes per neuron per step, as `{layer: rate}` or a list. */
  rates?: Record<string, number> | Array<{ layer: string; rate: number }>;
  accuracy?: number;
  steps?: number;
  synops?: number;
  [other: string]: unknown;
}

/** Extracts the SVG/DOT text from a `neuride/graph` answer. */
export function graphContent(result: GraphResult): string {
  if (typeof result === 'string') {
    return result;
  }
  return result.content ?? result.svg ?? result.text ?? '';
}

/** Builds `neuride/graph` params, checking the direction. */
export function graphParams(uri: string, direction: string, format: GraphFormat = 'svg'): GraphParams {
  const dir: GraphDirection = direction === 'TB' ? 'TB' : 'LR';
  return { uri, format, direction: dir };
}

/** What `neuride.sweep` returns; only the fields the panel uses are typed. */
export interface SweepResult {
  target?: string;
  svg?: string;
  results?: { params?: Record<string, unknown>; accuracy?: number | null; synops?: number; steps?: number; error?: string }[];
  pareto?: { params?: Record<string, unknown>; accuracy?: number | null; synops?: number; steps?: number }[];
}

/** `steps=5,10,20 encode=current,rate` as `neuride.sweep`'s grid object. */
export function parseGrid(text: string): Record<string, string[]> | string {
  const grid: Record<string, string[]> = {};
  for (const part of text.split(/\s+/).filter((p) => p.length > 0)) {
    const at = part.indexOf('=');
    const values = at > 0 ? part.slice(at + 1).split(',').filter((v) => v.length > 0) : [];
    if (at <= 0 || values.length === 0) return `expected NAME=V1,V2,... (e.g. steps=5,10,20), found "${part}"`;
    grid[part.slice(0, at)] = values;
  }
  return Object.keys(grid).length > 0 ? grid : 'expected at least one NAME=V1,V2,...';
}

/** The sweep's Pareto front as an HTML table (values escaped by `escape`). */
export function paretoTable(result: SweepResult, escape: (text: string) => string): string {
  const rows = (result.pareto ?? []).map((trial) => {
    const params = Object.entries(trial.params ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(' ');
    const accuracy = typeof trial.accuracy === 'number' ? `${(trial.accuracy * 100).toFixed(2)} %` : '-';
    return `<tr><td>${escape(params)}</td><td>${accuracy}</td><td>${Math.round(trial.synops ?? 0)}</td><td>${trial.steps ?? ''}</td></tr>`;
  });
  return `<table><tr><th>Pareto front</th><th>accuracy</th><th>synops/sample</th><th>steps</th></tr>${rows.join('')}</table>`;
}
