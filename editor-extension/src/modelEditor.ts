// The custom read-only editor for `.onnx` and `.npz`: binary files are never
// opened as text; the editor shows the server's text rendering
// (`neuride/modelText`) and can open it as a virtual `neuride-model:`
// document, on which the server answers hover, symbols and diagnostics.

import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { MODEL_TEXT, ModelTextResult } from './protocol';
import { errorPage, textPage } from './webview';

export class ModelTextProvider implements vscode.TextDocumentContentProvider {
  private readonly cache = new Map<string, ModelTextResult>();
  /** Virtual URI -> model file URI, to ask again on refresh. */
  private readonly modelOf = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly client: () => LanguageClient | undefined) {}

  async fetch(modelUri: vscode.Uri): Promise<ModelTextResult> {
    const client = this.client();
    if (!client) {
      throw new Error('the neuride server is not running');
    }
    const result = await client.sendRequest<ModelTextResult>(MODEL_TEXT, { uri: modelUri.toString() });
    this.cache.set(result.uri, result);
    this.modelOf.set(result.uri, modelUri.toString());
    this.changed.fire(vscode.Uri.parse(result.uri));
    return result;
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const key = uri.toString();
    const cached = this.cache.get(key);
    if (cached) {
      return cached.text;
    }
    const model = this.modelOf.get(key) ?? vscode.Uri.file(uri.path).toString();
    const result = await this.fetch(vscode.Uri.parse(model));
    return result.text;
  }

  /** Re-asks the server for every open text view (after the model changed). */
  async refreshAll(): Promise<void> {
    for (const model of new Set(this.modelOf.values())) {
      await this.fetch(vscode.Uri.parse(model)).catch(() => undefined);
    }
  }

  async open(modelUri: vscode.Uri): Promise<void> {
    const result = await this.fetch(modelUri);
    const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(result.uri));
    await vscode.window.showTextDocument(document, { preview: true, viewColumn: vscode.ViewColumn.Beside });
  }
}

export class ModelEditorProvider implements vscode.CustomReadonlyEditorProvider {
  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly client: () => LanguageClient | undefined,
    private readonly text: ModelTextProvider,
  ) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  async resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): Promise<void> {
    panel.webview.options = { enableScripts: true, localResourceRoots: [] };
    const title = vscode.workspace.asRelativePath(document.uri);
    const render = async () => {
      try {
        const result = await this.text.fetch(document.uri);
        panel.webview.html = textPage(title, result.text);
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
      panel.webview.html = errorPage(title, 'The neuride server is not running.');
      return;
    }
    await render();
  }
}
