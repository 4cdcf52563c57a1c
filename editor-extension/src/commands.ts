// The extension's commands. The server's own `workspace/executeCommand` ids
// (`neuride.simulate`, ...) are registered by vscode-languageclient as VS Code
// commands too, so the UI commands here live under `neuride.ui.*` and call
// them with proper arguments, then show the result.

import * as path from 'path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { ExecuteCommandRequest } from 'vscode-languageclient/node';
import { GRAPH, GraphResult, SERVER_COMMANDS, SimulationResult, graphContent, graphParams, EVENTS } from './protocol';
import { simulationPlots } from './plot';
import type { ModelTextProvider } from './modelEditor';
import type { RegistryTree } from './registryView';
import { errorPage, graphPage, plotPage, escapeHtml, page } from './webview';

function targetUri(arg: unknown, extensions: string[]): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) {
    return arg;
  }
  if (arg && typeof arg === 'object' && 'model' in arg) {
    return vscode.Uri.parse((arg as { model: { uri: string } }).model.uri);
  }
  const active = vscode.window.activeTextEditor?.document.uri ?? activeCustomEditorUri();
  if (active && extensions.some((ext) => active.path.endsWith(ext))) {
    return active;
  }
  return undefined;
}

function activeCustomEditorUri(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  return input instanceof vscode.TabInputCustom ? input.uri : undefined;
}

async function pickFile(title: string, extensions: string[]): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({ title, canSelectMany: false, filters: { Models: extensions.map((e) => e.slice(1)) } });
  return picked?.[0];
}

async function execute<T>(client: LanguageClient, command: string, args: unknown[]): Promise<T> {
  return client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args }) as Promise<T>;
}

export function registerCommands(
  context: vscode.ExtensionContext,
  clientOf: () => LanguageClient | undefined,
  registry: RegistryTree,
  text: ModelTextProvider,
): void {
  const need = (): LanguageClient => {
    const client = clientOf();
    if (!client || !client.isRunning()) {
      throw new Error('the neuride server is not running (see the "neuride" output channel)');
    }
    return client;
  };
  const register = (id: string, handler: (...args: unknown[]) => Promise<void>) =>
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          await handler(...args);
        } catch (error) {
          void vscode.window.showErrorMessage(`neuride: ${error instanceof Error ? error.message : String(error)}`);
        }
      }),
    );

  register('neuride.ui.showGraph', async (arg) => {
    const uri = targetUri(arg, ['.onnx']) ?? (await pickFile('Model to draw', ['.onnx']));
    if (uri) {
      await showGraph(context, need(), uri);
    }
  });
  register('neuride.ui.openModelText', async (arg) => {
    const uri = targetUri(arg, ['.onnx', '.npz']) ?? (await pickFile('Model to show as text', ['.onnx', '.npz']));
    if (uri) {
      await text.open(uri);
    }
  });
  register('neuride.ui.refreshModels', async () => {
    await registry.refresh();
  });
  register('neuride.ui.showEvents', async () => {
    const events = await need().sendRequest<unknown>(EVENTS, {});
    const document = await vscode.workspace.openTextDocument({ language: 'json', content: JSON.stringify(events, null, 2) });
    await vscode.window.showTextDocument(document, { preview: true });
  });
  register('neuride.ui.importModel', async (arg) => {
    const source = arg instanceof vscode.Uri ? arg : await pickFile('Model to import into the workspace', ['.onnx', '.npz']);
    if (!source) return;
    const result = await execute<unknown>(need(), SERVER_COMMANDS.importModel, [{ source: source.toString() }]);
    void vscode.window.showInformationMessage(`neuride: imported ${path.basename(source.fsPath)}${describe(result)}`);
    registry.refreshSoon();
  });
  register('neuride.ui.exportModel', async (arg) => {
    const uri = targetUri(arg, ['.onnx', '.npz']) ?? (await pickFile('Model to export', ['.onnx', '.npz']));
    if (!uri) return;
    const target = await vscode.window.showSaveDialog({ title: 'Export model as', defaultUri: uri });
    if (!target) return;
    // The save dialog asked the user, also about replacing a file.
    const result = await execute<unknown>(need(), SERVER_COMMANDS.exportModel,
      [{ uri: uri.toString(), target: target.toString(), userPicked: true, overwrite: true }]);
    void vscode.window.showInformationMessage(`neuride: exported to ${target.fsPath}${describe(result)}`);
  });
  register('neuride.ui.simulate', async (arg) => {
    const uri = targetUri(arg, ['.neuro', '.onnx']) ?? (await pickFile('Neuro file with a simulate item', ['.neuro']));
    if (!uri) return;
    // A model needs samples (an .npz with x and y); a .neuro file names its own.
    const args = await runArguments(uri, 'Samples to simulate (.npz with x, y)', 'data');
    if (!args) return;
    // The server reports work-done progress (cancellable) for the job itself.
    const result = await execute<SimulationResult>(need(), SERVER_COMMANDS.simulate, [args]);
    showPlots(`Simulation: ${path.basename(uri.fsPath)}`, result);
  });
  register('neuride.ui.infer', async (arg) => {
    const uri = targetUri(arg, ['.neuro', '.onnx']) ?? (await pickFile('Neuro file with an infer item, or a model', ['.neuro', '.onnx']));
    if (!uri) return;
    const args = await runArguments(uri, 'Inputs for the model (.npz keyed by input name)', 'input');
    if (!args) return;
    const result = await execute<unknown>(need(), SERVER_COMMANDS.infer, [args]);
    const panel = vscode.window.createWebviewPanel('neuride.infer', `Inference: ${path.basename(uri.fsPath)}`, vscode.ViewColumn.Beside, {});
    panel.webview.html = page({
      title: 'Inference',
      body: `<div class="content"><pre>${escapeHtml(JSON.stringify(result, null, 2))}</pre></div>`,
    });
  });
}

/**
 * The argument of `neuride.simulate`/`neuride.infer`: `{uri}` for a .neuro
 * file, `{uri, <key>: data file}` for a model (asks for the file).
 */
async function runArguments(uri: vscode.Uri, title: string, key: 'data' | 'input'): Promise<Record<string, string> | undefined> {
  if (uri.path.endsWith('.neuro')) {
    return { uri: uri.toString() };
  }
  const picked = await vscode.window.showOpenDialog({ title, canSelectMany: false, filters: { 'NumPy archives': ['npz'] } });
  if (!picked?.[0]) return undefined;
  return { uri: uri.toString(), [key]: picked[0].toString() };
}

function describe(result: unknown): string {
  if (result && typeof result === 'object' && 'path' in result) {
    return ` (${String((result as { path: unknown }).path)})`;
  }
  return '';
}

function showPlots(title: string, result: SimulationResult): void {
  const panel = vscode.window.createWebviewPanel('neuride.plots', title, vscode.ViewColumn.Beside, {});
  panel.webview.html = plotPage(title, simulationPlots(result));
}

async function showGraph(context: vscode.ExtensionContext, client: LanguageClient, uri: vscode.Uri): Promise<void> {
  const title = `Graph: ${path.basename(uri.fsPath)}`;
  const panel = vscode.window.createWebviewPanel('neuride.graph', title, vscode.ViewColumn.Beside, {
    enableScripts: true,
    localResourceRoots: [],
  });
  const render = async (direction: string) => {
    try {
      const result = await client.sendRequest<GraphResult>(GRAPH, graphParams(uri.toString(), direction));
      panel.webview.html = graphPage(title, graphContent(result), direction);
    } catch (error) {
      panel.webview.html = errorPage(title, `neuride could not draw ${uri.fsPath}: ${String(error)}`);
    }
  };
  panel.webview.onDidReceiveMessage(
    (message: { type?: string; direction?: string; id?: string }) => {
      if (message.type === 'direction' && message.direction) {
        void render(message.direction);
      }
    },
    undefined,
    context.subscriptions,
  );
  await render('LR');
}
