// HTML shells for the webviews: a strict Content-Security-Policy (no network,
// inline styles only, scripts only with the per-page nonce) around content
// the server or the plot module produced.

export function nonce(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  for (let i = 0; i < 32; i++) {
    out += chars.charAt(Math.floor(Math.random() * chars.length));
  }
  return out;
}

export interface PageOptions {
  title: string;
  body: string;
  /** Script run in the page (given the nonce); omit for a static page. */
  script?: string;
  nonce?: string;
}

export function page(options: PageOptions): string {
  const scriptNonce = options.nonce ?? nonce();
  const csp = [
    "default-src 'none'",
    "img-src data:",
    "style-src 'unsafe-inline'",
    `script-src 'nonce-${scriptNonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(options.title)}</title>
<style>
  body { margin: 0; padding: 0; font-family: var(--vscode-font-family, sans-serif); color: var(--vscode-foreground, #222); background: var(--vscode-editor-background, #fff); }
  .toolbar { position: sticky; top: 0; z-index: 1; display: flex; gap: 6px; align-items: center; padding: 6px 10px; background: var(--vscode-editorWidget-background, #f3f3f3); border-bottom: 1px solid var(--vscode-widget-border, #ccc); }
  .toolbar button { font: inherit; padding: 2px 10px; cursor: pointer; }
  .toolbar .info { margin-left: auto; opacity: 0.8; font-size: 12px; }
  .content { padding: 10px; }
  .graph { overflow: auto; }
  .graph svg { transform-origin: 0 0; }
  .plots { display: flex; flex-wrap: wrap; gap: 16px; }
  pre.model-text { font-family: var(--vscode-editor-font-family, monospace); font-size: var(--vscode-editor-font-size, 13px); line-height: 1.4; margin: 0; white-space: pre; }
  .error { color: var(--vscode-errorForeground, #b00020); white-space: pre-wrap; }
</style>
</head>
<body>
${options.body}
${options.script ? `<script nonce="${scriptNonce}">${options.script}</script>` : ''}
</body>
</html>`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The graph page: toolbar (direction, zoom) and the server's SVG. The SVG
 *  is the server's own output (no scripts in it: the CSP would block them).
 *  "Fit width" stops at 10 %: below that a large graph is unreadable dots. */
export function graphPage(title: string, svg: string, direction: string): string {
  const script = `
const vscode = acquireVsCodeApi();
let scale = 1;
const svg = document.querySelector('.graph svg');
function apply() { if (svg) { svg.style.transform = 'scale(' + scale + ')'; } document.getElementById('zoom').textContent = Math.round(scale * 100) + '%'; }
document.getElementById('lr').addEventListener('click', () => vscode.postMessage({ type: 'direction', direction: 'LR' }));
document.getElementById('tb').addEventListener('click', () => vscode.postMessage({ type: 'direction', direction: 'TB' }));
document.getElementById('in').addEventListener('click', () => { scale = Math.min(4, scale * 1.25); apply(); });
document.getElementById('out').addEventListener('click', () => { scale = Math.max(0.05, scale / 1.25); apply(); });
document.getElementById('fit').addEventListener('click', () => { if (svg) { const w = svg.width.baseVal.value || 1; scale = Math.max(0.1, Math.min(1, (document.body.clientWidth - 24) / w)); apply(); } });
document.querySelectorAll('.graph g.node').forEach((node) => node.addEventListener('click', () => vscode.postMessage({ type: 'node', id: node.getAttribute('data-id') })));
apply();`;
  const body = `<div class="toolbar">
<button id="lr" ${direction === 'LR' ? 'disabled' : ''}>Left → right</button>
<button id="tb" ${direction === 'TB' ? 'disabled' : ''}>Top → bottom</button>
<button id="out">−</button><span id="zoom">100%</span><button id="in">+</button><button id="fit">Fit width</button>
<span class="info">${escapeHtml(title)}</span>
</div>
<div class="content graph">${svg}</div>`;
  return page({ title, body, script });
}

export function plotPage(title: string, plots: string): string {
  return page({ title, body: `<div class="toolbar"><b>${escapeHtml(title)}</b></div><div class="content">${plots}</div>` });
}

/** The model editor's page; `graph: false` (an .npz has no graph) drops the "Show graph" button. */
export function textPage(title: string, text: string, graph = true): string {
  const script = `
const vscode = acquireVsCodeApi();
document.getElementById('open').addEventListener('click', () => vscode.postMessage({ type: 'openText' }));
document.getElementById('graph')?.addEventListener('click', () => vscode.postMessage({ type: 'showGraph' }));`;
  const body = `<div class="toolbar">
<button id="open">Open as text document</button>${graph ? '<button id="graph">Show graph</button>' : ''}
<span class="info">${escapeHtml(title)}</span>
</div>
<div class="content"><pre class="model-text">${escapeHtml(text)}</pre></div>`;
  return page({ title, body, script });
}

export function errorPage(title: string, message: string): string {
  return page({ title, body: `<div class="content"><p class="error">${escapeHtml(message)}</p></div>` });
}
