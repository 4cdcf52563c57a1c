// The extension's commands. The server's own `workspace/executeCommand` ids
// (`neuride.simulate`, ...) are registered by vscode-languageclient as VS Code
// commands too, so the UI commands here live under `neuride.ui.*` and call
// them with proper arguments, then show the result.

import * as path from 'path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { ExecuteCommandRequest, LSPErrorCodes, WorkDoneProgress, WorkDoneProgressCancelNotification } from 'vscode-languageclient/node';
import { GRAPH, GraphResult, SERVER_COMMANDS, SimulationResult, SweepResult, graphContent, graphParams, EVENTS, compactJson, paretoTable, parseGrid, userMessage } from './protocol';
import { simulationPlots } from './plot';
import type { ModelTextProvider } from './modelEditor';
import type { RegistryTree } from './registryView';
import { type AppRuns, appTarget } from './appPanel';
import { errorPage, graphPage, plotPage, escapeHtml, page } from './webview';

function targetUri(arg: unknown, extensions: string[]): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) {
    return arg;
  }
  if (arg && typeof arg === 'object' && 'model' in arg) {
    return vscode.Uri.parse((arg as { model: { uri: string } }).model.uri);
  }
  // A code lens's argument: `{uri, name?}`.
  if (arg && typeof arg === 'object' && typeof (arg as { uri?: unknown }).uri === 'string') {
    return vscode.Uri.parse((arg as { uri: string }).uri);
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

let nextToken = 0;

/**
 * Runs a server job under a cancellable notification: the request carries
 * its own work-done token, the server's reports move the bar, Cancel sends
 * `window/workDoneProgress/cancel`. Resolves undefined when cancelled:
 * cancelling is the user's choice, not an error.
 */
async function runJob<T>(client: LanguageClient, title: string, command: string, args: unknown[]): Promise<T | undefined> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, cancel) => {
    const token = `neuride-ui/${++nextToken}`;
    let done = 0;
    const reports = client.onProgress(WorkDoneProgress.type, token, (value) => {
      if (value.kind !== 'report') return;
      const percentage = value.percentage ?? done;
      progress.report({ message: value.message, increment: Math.max(0, percentage - done) });
      done = Math.max(done, percentage);
    });
    const cancelled = cancel.onCancellationRequested(() => void client.sendNotification(WorkDoneProgressCancelNotification.type, { token }));
    try {
      return (await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args, workDoneToken: token })) as T;
    } catch (error) {
      if (cancel.isCancellationRequested || (error as { code?: number }).code === LSPErrorCodes.RequestCancelled) {
        vscode.window.setStatusBarMessage(`${title}: cancelled`, 5000);
        return undefined;
      }
      throw error;
    } finally {
      reports.dispose();
      cancelled.dispose();
    }
  });
}

/**
 * The `simulate`/`infer` block to run in a .neuro file when none was named
 * (title button, context menu): the one at the cursor, the only one, or the
 * user's pick. The blocks are the file's code lenses for `command`.
 */
async function pickBlock(uri: vscode.Uri, command: string, kind: string): Promise<string | undefined | null> {
  const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
  const named = (lens: vscode.CodeLens) => (lens.command?.arguments?.[0] as { name?: string } | undefined)?.name;
  const blocks = lenses.filter((lens) => lens.command?.command === command && named(lens));
  if (blocks.length <= 1) {
    return blocks.length ? named(blocks[0]) : undefined;
  }
  const editor = vscode.window.activeTextEditor;
  if (editor && editor.document.uri.toString() === uri.toString()) {
    // Items start at their lenses; the cursor is in the last item starting at or above it.
    const line = editor.selection.active.line;
    const above = lenses.filter((lens) => lens.range.start.line <= line).sort((a, b) => a.range.start.line - b.range.start.line);
    const item = above[above.length - 1];
    const here = item && blocks.find((lens) => lens.range.start.line === item.range.start.line);
    if (here) {
      return named(here);
    }
  }
  const picked = await vscode.window.showQuickPick(blocks.map((lens) => named(lens)!), { title: `Which ${kind} block of ${path.basename(uri.fsPath)}?` });
  return picked ?? null;
}

/** `{uri, name?}` of a lens, or `{uri}` with the block asked for; null when the user gave up. */
async function blockArguments(arg: unknown, uri: vscode.Uri, command: string, kind: string): Promise<{ uri: string; name?: string } | null> {
  const given = arg && typeof arg === 'object' && !(arg instanceof vscode.Uri) ? (arg as { name?: unknown }).name : undefined;
  const name = typeof given === 'string' ? given : await pickBlock(uri, command, kind);
  if (name === null) return null;
  return name ? { uri: uri.toString(), name } : { uri: uri.toString() };
}

export function registerCommands(
  context: vscode.ExtensionContext,
  clientOf: () => LanguageClient | undefined,
  registry: RegistryTree,
  text: ModelTextProvider,
  output: vscode.OutputChannel,
  apps: AppRuns,
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
          void vscode.window.showErrorMessage(userMessage(error));
        }
      }),
    );

  register('neuride.ui.showGraph', async (arg) => {
    const uri = targetUri(arg, ['.onnx', '.nir']) ?? (await pickFile('Model to draw', ['.onnx', '.nir']));
    if (uri) {
      await showGraph(context, need(), uri);
    }
  });
  register('neuride.ui.openModelText', async (arg) => {
    const uri = targetUri(arg, ['.onnx', '.npz', '.nir']) ?? (await pickFile('Model to show as text', ['.onnx', '.npz', '.nir']));
    if (uri) {
      await text.open(uri);
    }
  });
  register('neuride.ui.showLog', async () => output.show());
  register('neuride.ui.refreshModels', async () => {
    await registry.refresh();
  });
  // The event log is a read-only virtual document (an untitled one would be
  // "dirty" and ask to be saved on close); each open asks the server again.
  const eventLog = vscode.Uri.parse('neuride-events:/neuride event log.json');
  const eventsChanged = new vscode.EventEmitter<vscode.Uri>();
  context.subscriptions.push(
    eventsChanged,
    vscode.workspace.registerTextDocumentContentProvider('neuride-events', {
      onDidChange: eventsChanged.event,
      provideTextDocumentContent: async () => compactJson(await need().sendRequest<unknown>(EVENTS, {})),
    }),
  );
  register('neuride.ui.showEvents', async () => {
    need();
    const document = await vscode.workspace.openTextDocument(eventLog);
    eventsChanged.fire(eventLog);
    await vscode.window.showTextDocument(await vscode.languages.setTextDocumentLanguage(document, 'json'), { preview: true });
  });
  register('neuride.ui.importModel', async (arg) => {
    const source = arg instanceof vscode.Uri ? arg : await pickFile('Model to import into the workspace', ['.onnx', '.npz']);
    if (!source) return;
    let result: unknown;
    try {
      result = await execute<unknown>(need(), SERVER_COMMANDS.importModel, [{ source: source.toString() }]);
    } catch (error) {
      // The server never replaces a file unasked; here the user is asked.
      if (!/already exists/.test(String(error instanceof Error ? error.message : error))) throw error;
      const name = path.basename(source.fsPath);
      const choice = await vscode.window.showWarningMessage(`${name} already exists in the workspace. Replace it?`, { modal: true }, 'Replace');
      if (choice !== 'Replace') return;
      result = await execute<unknown>(need(), SERVER_COMMANDS.importModel, [{ source: source.toString(), overwrite: true }]);
    }
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
    const uri = targetUri(arg, ['.neuro', '.onnx', '.nir']) ?? (await pickFile('Neuro file with a simulate item, or a NIR file', ['.neuro', '.nir']));
    if (!uri) return;
    // A model needs samples (an .npz with x and y); a .neuro file names its own.
    const args = uri.path.endsWith('.neuro')
      ? await blockArguments(arg, uri, 'neuride.ui.simulate', 'simulate')
      : await runArguments(uri, 'Samples to simulate (.npz with x, y)', 'data');
    if (!args) return;
    const label = runLabel(uri, args);
    const result = await runJob<SimulationResult>(need(), `neuride: simulating ${label}`, SERVER_COMMANDS.simulate, [args]);
    if (!result) return;
    // A model that already spikes in plain ops runs as it is: its result is
    // an inference's (outputs), with the reason, not the simulator's plots.
    if (typeof result.ran_as_is === 'string') showJson('neuride.plots', `plots:Simulation: ${label}`, `Simulation: ${label}`, result);
    else showPlots(`Simulation: ${label}`, result);
  });
  register('neuride.ui.runApp', async (arg) => {
    const target = await appTarget(arg);
    if (!target) {
      void vscode.window.showInformationMessage('neuride: open a .neuro file with an app to run it');
      return;
    }
    await apps.start(target.uri, target.app);
  });
  register('neuride.ui.sweep', async (arg) => {
    const uri = targetUri(arg, ['.neuro', '.onnx', '.nir']) ?? (await pickFile('Neuro file with a sweep item, or a model', ['.neuro', '.onnx', '.nir']));
    if (!uri) return;
    let args: Record<string, unknown> | null | undefined;
    if (uri.path.endsWith('.neuro')) {
      args = await blockArguments(arg, uri, 'neuride.ui.sweep', 'sweep');
    } else {
      // A model: samples, then the grid (`steps=5,10,20 encode=current,rate`).
      args = await runArguments(uri, 'Samples to simulate (.npz with x, y)', 'data');
      const text = args && (await vscode.window.showInputBox({ title: 'Settings to sweep', value: 'steps=5,10,20,50 encode=current,rate' }));
      if (!args || !text) return;
      const grid = parseGrid(text);
      if (typeof grid === 'string') throw new Error(grid);
      args = { ...args, grid };
    }
    if (!args) return;
    const label = runLabel(uri, args as { name?: string });
    const result = await runJob<SweepResult>(need(), `neuride: sweeping ${label}`, SERVER_COMMANDS.sweep, [args]);
    if (!result) return;
    showSweep(`Sweep: ${label}`, result);
  });
  register('neuride.ui.infer', async (arg) => {
    const uri = targetUri(arg, ['.neuro', '.onnx']) ?? (await pickFile('Neuro file with an infer item, or a model', ['.neuro', '.onnx']));
    if (!uri) return;
    const args = uri.path.endsWith('.neuro')
      ? await blockArguments(arg, uri, 'neuride.ui.infer', 'infer')
      : await runArguments(uri, 'Inputs for the model (.npz keyed by input name)', 'input');
    if (!args) return;
    const label = runLabel(uri, args);
    const result = await runJob<unknown>(need(), `neuride: inference on ${label}`, SERVER_COMMANDS.infer, [args]);
    if (result === undefined) return;
    showJson('neuride.infer', `infer:${args.uri}#${args.name ?? ''}`, `Inference: ${label}`, result);
  });
}

/** "file.neuro › block" or "model.onnx": what a run is called in titles. */
function runLabel(uri: vscode.Uri, args: { name?: string }): string {
  return args.name ? `${path.basename(uri.fsPath)} › ${args.name}` : path.basename(uri.fsPath);
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

/** Open panels by what they show: showing the same thing again reveals and refreshes its panel. */
const panels = new Map<string, vscode.WebviewPanel>();

function reusePanel(viewType: string, key: string, title: string, options: vscode.WebviewPanelOptions & vscode.WebviewOptions): vscode.WebviewPanel {
  const open = panels.get(key);
  if (open) {
    open.title = title;
    open.reveal(undefined, false);
    return open;
  }
  const panel = vscode.window.createWebviewPanel(viewType, title, vscode.ViewColumn.Beside, options);
  panels.set(key, panel);
  panel.onDidDispose(() => panels.delete(key));
  return panel;
}

function showJson(viewType: string, key: string, title: string, result: unknown): void {
  const panel = reusePanel(viewType, key, title, {});
  panel.webview.html = page({ title, body: `<div class="toolbar"><b>${escapeHtml(title)}</b></div><div class="content"><pre>${escapeHtml(compactJson(result))}</pre></div>` });
}

function showPlots(title: string, result: SimulationResult): void {
  const panel = reusePanel('neuride.plots', `plots:${title}`, title, {});
  panel.webview.html = plotPage(title, simulationPlots(result));
}

/** The sweep's plots (the server's SVG) and its Pareto front. */
function showSweep(title: string, result: SweepResult): void {
  const panel = reusePanel('neuride.plots', `sweep:${title}`, title, {});
  const svg = typeof result.svg === 'string' && result.svg.startsWith('<svg') ? result.svg : '';
  panel.webview.html = plotPage(title, `${svg}${paretoTable(result, escapeHtml)}`);
}

async function showGraph(context: vscode.ExtensionContext, client: LanguageClient, uri: vscode.Uri): Promise<void> {
  const title = `Graph: ${path.basename(uri.fsPath)}`;
  const reused = panels.has(`graph:${uri.toString()}`);
  const panel = reusePanel('neuride.graph', `graph:${uri.toString()}`, title, { enableScripts: true, localResourceRoots: [] });
  const render = async (direction: string) => {
    try {
      const result = await client.sendRequest<GraphResult>(GRAPH, graphParams(uri.toString(), direction));
      panel.webview.html = graphPage(title, graphContent(result), direction);
    } catch (error) {
      panel.webview.html = errorPage(title, `neuride could not draw ${uri.fsPath}: ${String(error)}`);
    }
  };
  if (!reused) {
    panel.webview.onDidReceiveMessage(
      (message: { type?: string; direction?: string; id?: string }) => {
        if (message.type === 'direction' && message.direction) {
          void render(message.direction);
        }
      },
      undefined,
      context.subscriptions,
    );
  }
  await render('LR');
}
