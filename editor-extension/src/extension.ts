// Entry point: starts `neuride lsp` with vscode-languageclient and wires the
// views (model text editor, graph, registry tree, plots) and commands.

import * as fs from 'fs';
import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions, TransportKind } from 'vscode-languageclient/node';
import { registerCommands } from './commands';
import { ModelTextProvider, ModelEditorProvider } from './modelEditor';
import { MODEL_SCHEME, EVENTS } from './protocol';
import { RegistryTree } from './registryView';
import { resolveServerPath } from './serverPath';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  const setting = vscode.workspace.getConfiguration('neuride').get<string>('serverPath');
  const command = resolveServerPath(setting, folders, (file) => fs.existsSync(file));
  const output = vscode.window.createOutputChannel('neuride');
  output.appendLine(`starting ${command} lsp`);

  const serverOptions: ServerOptions = {
    run: { command, args: ['lsp'], transport: TransportKind.stdio },
    debug: { command, args: ['lsp'], transport: TransportKind.stdio, options: { env: { ...process.env, NEURIDE_LOG: 'debug' } } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'neuro' },
      { scheme: MODEL_SCHEME },
    ],
    outputChannel: output,
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher('**/*.{onnx,npz,neuro}'),
    },
  };
  client = new LanguageClient('neuride', 'neuride', serverOptions, clientOptions);

  const textProvider = new ModelTextProvider(() => client);
  const registry = new RegistryTree(() => client);
  context.subscriptions.push(
    output,
    vscode.workspace.registerTextDocumentContentProvider(MODEL_SCHEME, textProvider),
    vscode.window.registerCustomEditorProvider('neuride.modelView', new ModelEditorProvider(context, () => client, textProvider), {
      supportsMultipleEditorsPerDocument: true,
      webviewOptions: { retainContextWhenHidden: false },
    }),
    vscode.window.registerTreeDataProvider('neuride.models', registry),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('neuride.serverPath')) {
        void vscode.window.showInformationMessage('neuride: reload the window to use the new server path.');
      }
    }),
  );
  registerCommands(context, () => client, registry, textProvider);

  try {
    await client.start();
  } catch (error) {
    void vscode.window.showErrorMessage(
      `neuride: could not start '${command} lsp' (${String(error)}). Set "neuride.serverPath" to the neuride binary.`,
    );
    return;
  }
  // The registry changes when models are added, changed or removed; the
  // server tells us with `neuride/events`, and file events cover servers
  // that only answer it as a request.
  context.subscriptions.push(client.onNotification(EVENTS, () => registry.refreshSoon()));
  const watcher = vscode.workspace.createFileSystemWatcher('**/*.{onnx,npz}');
  context.subscriptions.push(
    watcher,
    watcher.onDidCreate(() => registry.refreshSoon()),
    watcher.onDidChange(() => registry.refreshSoon()),
    watcher.onDidDelete(() => registry.refreshSoon()),
  );
  registry.refreshSoon();
}

export async function deactivate(): Promise<void> {
  if (client) {
    await client.stop();
    client = undefined;
  }
}
