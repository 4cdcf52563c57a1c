// The model registry tree: how `neuride/models` entries become tree items.
// Pure data (labels, descriptions, icon ids) so it is unit-tested without VS
// Code; `registryView.ts` turns these into `vscode.TreeItem`s.

import type { ModelEntry } from './protocol';

export const KIND_ORDER = ['snn', 'dl', 'ml', 'mixed', 'unknown'] as const;

const KIND_LABEL: Record<string, string> = {
  snn: 'Spiking networks',
  dl: 'Deep learning',
  ml: 'Classic ML',
  mixed: 'Mixed',
  unknown: 'Unknown / broken',
};

const KIND_ICON: Record<string, string> = {
  snn: 'pulse',
  dl: 'circuit-board',
  ml: 'graph-line',
  mixed: 'combine',
  unknown: 'question',
};

export interface KindGroup {
  kind: string;
  label: string;
  icon: string;
  models: ModelEntry[];
}

export interface ModelItem {
  label: string;
  description: string;
  tooltip: string;
  icon: string;
  uri: string;
}

/** 1536 -> "1.5 KiB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) {
    return '?';
  }
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** 1234567 -> "1.2M". */
export function formatCount(count: number): string {
  if (!Number.isFinite(count)) {
    return '?';
  }
  if (count >= 1e9) return `${(count / 1e9).toFixed(1)}G`;
  if (count >= 1e6) return `${(count / 1e6).toFixed(1)}M`;
  if (count >= 1e3) return `${(count / 1e3).toFixed(1)}k`;
  return String(count);
}

export function formatOpsets(opsets: ModelEntry['opsets']): string {
  if (!opsets) {
    return '';
  }
  const pairs: Array<[string, number]> = Array.isArray(opsets)
    ? opsets.map((o) => [o.domain, o.version])
    : Object.entries(opsets);
  return pairs.map(([domain, version]) => `${domain === '' ? 'ai.onnx' : domain} ${version}`).join(', ');
}

/** Groups models by kind in a fixed order; empty groups are left out. */
export function groupByKind(models: ModelEntry[]): KindGroup[] {
  const known = new Set<string>(KIND_ORDER);
  const groups = new Map<string, ModelEntry[]>();
  for (const model of models) {
    const kind = known.has(model.kind) ? model.kind : 'unknown';
    groups.set(kind, [...(groups.get(kind) ?? []), model]);
  }
  return KIND_ORDER.filter((kind) => groups.has(kind)).map((kind) => ({
    kind,
    label: `${KIND_LABEL[kind]} (${groups.get(kind)!.length})`,
    icon: KIND_ICON[kind],
    models: [...groups.get(kind)!].sort((a, b) => a.path.localeCompare(b.path)),
  }));
}

function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

/** The tree item for one model. */
export function modelItem(model: ModelEntry): ModelItem {
  const parts: string[] = [];
  // The folder tells two same-named models apart.
  const folder = model.path.split(/[\\/]/).slice(0, -1).join('/');
  if (folder) parts.push(folder);
  if (typeof model.nodes === 'number') parts.push(`${formatCount(model.nodes)} ${model.nodes === 1 ? 'node' : 'nodes'}`);
  // Classic ML models keep their numbers in attributes, not initializers: "0 params" would mislead.
  if (typeof model.parameters === 'number' && !(model.parameters === 0 && model.kind === 'ml')) {
    parts.push(`${formatCount(model.parameters)} ${model.parameters === 1 ? 'param' : 'params'}`);
  }
  parts.push(formatBytes(model.size));
  const tooltip = [
    model.path,
    `kind: ${model.kind}`,
    `size: ${formatBytes(model.size)}`,
    model.ir_version != null ? `IR version: ${model.ir_version}` : '',
    model.opsets ? `opsets: ${formatOpsets(model.opsets)}` : '',
    model.producer ? `producer: ${model.producer}` : '',
    typeof model.nodes === 'number' ? `nodes: ${model.nodes}` : '',
    typeof model.parameters === 'number' ? `parameters: ${model.parameters}` : '',
  ]
    .filter((line) => line !== '')
    .join('\n');
  return {
    label: baseName(model.path),
    description: parts.join(' · '),
    tooltip,
    icon: model.path.endsWith('.npz') ? 'database' : KIND_ICON[model.kind] ?? 'question',
    uri: model.uri,
  };
}
