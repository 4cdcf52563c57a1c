// The custom read-only editor for `.onnx` and `.npz`: binary files are never
// opened as text; the editor shows the server's text rendering
// (`neuride/modelText`) and can open it as a virtual `neuride-model:`
// document, on which the server answers hover, symbols and diagnostics.

import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { MODEL_SCHEME, MODEL_TEXT, ModelTextResult, modelPathOf, textViewPath } from './protocol';
import { errorPage, textPage } from './webview';

/**
 * The text view's URI as VS Code sees it: the server's virtual URI
 * (`neuride-model:///abs/m.onnx`) with TEXT_VIEW_SUFFIX on the path. The
 * suffix keeps the `*.onnx`/`*.npz` custom editor pattern from capturing the
 * text view (Go to Definition would land in the webview) and gives its tab
 * another title than the model editor's.
 */
export function textViewUri(serverUri: string): vscode.Uri {
  const uri = vscode.Uri.parse(serverUri);
  return uri.with({ path: textViewPath(uri.path) });
}

/** The server's URI of a text view (inverse of `textViewUri`), in the server's own spelling. */
export function serverTextUri(uri: vscode.Uri): string {
  return `${MODEL_SCHEME}:${vscode.Uri.file(modelPathOf(uri.path)).toString().slice('file:'.length)}`;
}

export class ModelTextProvider implements vscode.TextDocumentContentProvider {
  /** Keyed by the text view URI's `toString()`, the spelling VS Code asks with. */
  private readonly cache = new Map<string, ModelTextResult>();
  /** Text view URI -> model file URI, to ask again on refresh. */
  private readonly modelOf = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly client: () => LanguageClient | undefined) {}

  /** Asks the server for the model's text; returns it with the text view URI. */
  async fetch(modelUri: vscode.Uri): Promise<{ view: vscode.Uri; result: ModelTextResult }> {
    const client = this.client();
    if (!client) {
      throw new Error('the neuride server is not running');
    }
    const result = await client.sendRequest<ModelTextResult>(MODEL_TEXT, { uri: modelUri.toString() });
    const view = textViewUri(result.uri);
    const key = view.toString();
    const previous = this.cache.get(key);
    this.cache.set(key, result);
    this.modelOf.set(key, modelUri.toString());
    // Only a changed text is news: VS Code answers a change event by asking
    // for the content again, so an unconditional event would loop.
    if (previous && previous.text !== result.text) {
      this.changed.fire(view);
    }
    return { view, result };
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const key = uri.toString();
    const cached = this.cache.get(key);
    if (cached) {
      return cached.text;
    }
    const model = this.modelOf.get(key) ?? vscode.Uri.file(modelPathOf(uri.path)).toString();
    return (await this.fetch(vscode.Uri.parse(model))).result.text;
  }

  /** Re-asks the server for every open text view (after the model changed). */
  async refreshAll(): Promise<void> {
    for (const model of new Set(this.modelOf.values())) {
      await this.fetch(vscode.Uri.parse(model)).catch(() => undefined);
    }
  }

  async open(modelUri: vscode.Uri): Promise<void> {
    const { view } = await this.fetch(modelUri);
    const document = await vscode.workspace.openTextDocument(view);
    await vscode.window.showTextDocument(document, { preview: true, viewColumn: vscode.ViewColumn.Beside });
  }
}

export class ModelEditorProvider implements vscode.CustomReadonlyEditorProvider {
  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly client: () => LanguageClient | undefined,
    private readonly text: ModelTextProvider,
    private readonly problem: { text?: string },
  ) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  async resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): Promise<void> {
    panel.webview.options = { enableScripts: true, localResourceRoots: [] };
    const title = vscode.workspace.asRelativePath(document.uri);
    const render = async () => {
      try {
        const { result } = await this.text.fetch(document.uri);
        panel.webview.html = textPage(title, result.text, document.uri.path.endsWith('.onnx') || document.uri.path.endsWith('.nir'));
      } catch (error) {
        panel.webview.html = errorPage(title, `neuride could not render ${title}: ${String(error)}`);
      }
    };
    panel.webview.onDidReceiveMessage(
      (message: { type?: string }) => {
        if (message.type === 'openText') {
          void this.text.open(document.uri);
        } else if (message.type === 'showGraph') {
          void vscode.commands.executeCommand('neuride.ui.showGraph', document.uri);
        }
      },
      undefined,
      this.context.subscriptions,
    );
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.joinPath(document.uri, '..'), document.uri.path.split('/').pop() ?? '*'));
    watcher.onDidChange(() => void render());
    panel.onDidDispose(() => watcher.dispose());
    if (!this.client()) {
      panel.webview.html = errorPage(title, this.problem.text ?? 'The neuride server is not running.');
      return;
    }
    await render();
  }
}
