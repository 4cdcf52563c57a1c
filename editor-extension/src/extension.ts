// Entry point: starts `neuride lsp` with vscode-languageclient and wires the
// views (model text editor, graph, registry tree, plots) and commands.

import * as fs from 'fs';
import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions, State, TransportKind } from 'vscode-languageclient/node';
import { AppRuns } from './appPanel';
import { registerCommands } from './commands';
import { ModelTextProvider, ModelEditorProvider, serverTextUri, textViewUri } from './modelEditor';
import { MODEL_SCHEME, EVENTS, LENS_UI_COMMANDS, APP_EVENT, APP_STATUS } from './protocol';
import { RegistryTree } from './registryView';
import { findOnPath, resolveServerPath } from './serverPath';

let client: LanguageClient | undefined;
let status: vscode.StatusBarItem | undefined;

function showStatus(text: string, error = false): void {
  if (!status) return;
  status.text = text;
  status.backgroundColor = error ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  status.show();
}

/** Why there is no server, for the views to say (undefined while all is well). */
export const serverProblem: { text?: string } = {};

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  const setting = vscode.workspace.getConfiguration('neuride').get<string>('serverPath');
  const command = resolveServerPath(setting, folders, (file) => fs.existsSync(file));
  const output = vscode.window.createOutputChannel('neuride');
  // The server's state at a glance; clicking shows the log.
  status = vscode.window.createStatusBarItem('neuride.server', vscode.StatusBarAlignment.Left, 10);
  status.name = 'neuride server';
  status.command = 'neuride.ui.showLog';
  showStatus('$(sync~spin) neuride: starting');
  context.subscriptions.push(status);
  const textProvider = new ModelTextProvider(() => client);
  const registry = new RegistryTree(() => client);
  const tree = vscode.window.createTreeView('neuride.models', { treeDataProvider: registry });
  registry.setView(tree);
  context.subscriptions.push(
    output,
    tree,
    vscode.workspace.registerTextDocumentContentProvider(MODEL_SCHEME, textProvider),
    vscode.window.registerCustomEditorProvider('neuride.modelView', new ModelEditorProvider(context, () => client, textProvider, serverProblem), {
      supportsMultipleEditorsPerDocument: true,
      webviewOptions: { retainContextWhenHidden: false },
    }),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('neuride.serverPath')) {
        void offerReload('neuride: the server path changed; reload the window to use it.', false);
      }
    }),
  );
  const apps = new AppRuns(() => client);
  registerCommands(context, () => client, registry, textProvider, output, apps);

  // Checked before starting: a missing binary would otherwise give one toast
  // from the language client, one from here and views that fail one by one.
  const found = findOnPath(command, process.env.PATH ?? '', (file) => fs.existsSync(file));
  if (!found) {
    return reportNoServer(`neuride: the server '${command}' was not found. Set "neuride.serverPath" to the neuride binary (cargo build -p neuride builds it), then reload.`, tree);
  }
  output.appendLine(`starting ${found} lsp`);

  const hiddenDiagnostics = new Map<string, vscode.Diagnostic[]>();
  const serverOptions: ServerOptions = {
    run: { command: found, args: ['lsp'], transport: TransportKind.stdio },
    debug: { command: found, args: ['lsp'], transport: TransportKind.stdio, options: { env: { ...process.env, NEURIDE_LOG: 'debug' } } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'neuro' },
      { scheme: MODEL_SCHEME },
    ],
    outputChannel: output,
    // Text views carry a suffix on the client side only (see textViewUri).
    uriConverters: {
      code2Protocol: (uri) => (uri.scheme === MODEL_SCHEME ? serverTextUri(uri) : uri.toString()),
      protocol2Code: (value) => (value.startsWith(`${MODEL_SCHEME}:`) ? textViewUri(value) : vscode.Uri.parse(value)),
    },
    middleware: {
      // A lens of the server runs the UI command that shows the result.
      provideCodeLenses: async (document, token, next) => {
        const lenses = await next(document, token);
        for (const lens of lenses ?? []) {
          const ui = lens.command && LENS_UI_COMMANDS[lens.command.command];
          if (lens.command && ui) {
            lens.command = { ...lens.command, command: ui };
          }
        }
        return lenses;
      },
      // The server reports a model's problems on the model file and on its
      // text view; the text view's are shown only while it is open, or
      // Problems lists each twice.
      handleDiagnostics: (uri, diagnostics, next) => {
        if (uri.scheme !== MODEL_SCHEME) {
          next(uri, diagnostics);
          return;
        }
        hiddenDiagnostics.set(uri.toString(), diagnostics);
        const open = vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString());
        next(uri, open ? diagnostics : []);
      },
    },
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher('**/*.{onnx,npz,neuro}'),
    },
  };
  client = new LanguageClient('neuride', 'neuride', serverOptions, clientOptions);
  context.subscriptions.push(
    client.onDidChangeState((event) => {
      if (event.newState === State.Running) showStatus('$(circuit-board) neuride: ready');
      else if (event.newState === State.Starting) showStatus('$(sync~spin) neuride: starting');
      else showStatus('$(error) neuride: stopped', true);
    }),
  );
  context.subscriptions.push(
    vscode.workspace.onDidOpenTextDocument((document) => {
      const hidden = hiddenDiagnostics.get(document.uri.toString());
      if (document.uri.scheme === MODEL_SCHEME && hidden) {
        client?.diagnostics?.set(document.uri, hidden);
      }
    }),
  );

  try {
    await client.start();
  } catch (error) {
    client = undefined;
    return reportNoServer(`neuride: could not start '${found} lsp' (${String(error)}). Check "neuride.serverPath", then reload.`, tree);
  }
  // The registry changes when models are added, changed or removed; the
  // server tells us with `neuride/events`, and file events cover servers
  // that only answer it as a request.
  context.subscriptions.push(client.onNotification(EVENTS, () => registry.refreshSoon()));
  // A running app's events and counts, for its panel.
  context.subscriptions.push(
    client.onNotification(APP_EVENT, (params) => apps.onEvent(params)),
    client.onNotification(APP_STATUS, (params) => apps.onStatus(params)),
  );
  const watcher = vscode.workspace.createFileSystemWatcher('**/*.{onnx,npz}');
  context.subscriptions.push(
    watcher,
    watcher.onDidCreate(() => registry.refreshSoon()),
    watcher.onDidChange(() => registry.refreshSoon()),
    watcher.onDidDelete(() => registry.refreshSoon()),
  );
  registry.refreshSoon();
}

/** One message with the two ways out; the views say the same until a reload. */
function reportNoServer(text: string, tree: vscode.TreeView<unknown>): void {
  serverProblem.text = text;
  showStatus('$(error) neuride: no server', true);
  tree.message = text;
  void offerReload(text, true);
}

async function offerReload(text: string, error: boolean): Promise<void> {
  const buttons = ['Open Settings', 'Reload'];
  const choice = error ? await vscode.window.showErrorMessage(text, ...buttons) : await vscode.window.showInformationMessage(text, ...buttons);
  if (choice === 'Open Settings') {
    await vscode.commands.executeCommand('workbench.action.openSettings', 'neuride.serverPath');
  } else if (choice === 'Reload') {
    await vscode.commands.executeCommand('workbench.action.reloadWindow');
  }
}

export async function deactivate(): Promise<void> {
  if (client) {
    await client.stop();
    client = undefined;
  }
}
