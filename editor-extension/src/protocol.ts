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

/** `workspace/executeCommand` ids the server implements. */
export const SERVER_COMMANDS = {
  simulate: 'neuride.simulate',
  infer: 'neuride.infer',
  importModel: 'neuride.importModel',
  exportModel: 'neuride.exportModel',
  showGraph: 'neuride.showGraph',
} as const;

/** The virtual document scheme of the text views. */
export const MODEL_SCHEME = 'neuride-model';

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
  /** Per layer: mean firing rate (Hz), as `{layer: rate}` or a list. */
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
