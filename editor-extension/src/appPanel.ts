// The app panel: ▶ Run app starts `neuride.runApp` as a job with its own
// work-done token and opens a webview that shows, live, the readings per
// sensor, the latest prediction of each pipeline, a timeline of rule
// firings and the counts, from the server's `neuride/appEvent` and
// `neuride/appStatus` notifications. Its Stop button cancels the job
// (`window/workDoneProgress/cancel`).

import * as path from 'path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { ExecuteCommandRequest, LSPErrorCodes, WorkDoneProgressCancelNotification } from 'vscode-languageclient/node';
import { APP_STYLE, AppEvent, AppReport, AppState, AppStatus, RunOptions, appBody, newState, onEvent, onReport, onStatus, runArguments } from './appModel';
import { SERVER_COMMANDS, userMessage } from './protocol';
import { page } from './webview';

/** Redraws closer together than this are merged. */
const RENDER_INTERVAL_MS = 100;

interface Run {
  state: AppState;
  panel: vscode.WebviewPanel;
  token: string;
  timer?: NodeJS.Timeout;
}

let nextToken = 0;

export class AppRuns {
  /** Runs by `uri#app`; a run's panel stays after it ends. */
  private readonly runs = new Map<string, Run>();

  constructor(private readonly clientOf: () => LanguageClient | undefined) {}

  onEvent(params: { uri: string; app: string; event: AppEvent }): void {
    const run = this.runs.get(`${params.uri}#${params.app}`);
    if (!run) return;
    onEvent(run.state, params.event);
    this.render(run);
  }

  onStatus(params: { uri: string; app: string; status: AppStatus }): void {
    const run = this.runs.get(`${params.uri}#${params.app}`);
    if (!run || !run.state.running) return;
    onStatus(run.state, params.status);
    this.render(run);
  }

  /** Runs `app` of `uri` (an open run of it is stopped first) and shows its panel. */
  async start(uri: vscode.Uri, app: string, options: RunOptions = { realtime: false, loop: false }): Promise<void> {
    const client = this.clientOf();
    if (!client || !client.isRunning()) throw new Error('the neuride server is not running (see the "neuride" output channel)');
    const key = `${uri.toString()}#${app}`;
    const open = this.runs.get(key);
    if (open?.state.running) this.stop(open);
    const token = `neuride-app/${++nextToken}`;
    const title = `App: ${app}`;
    const panel = open?.panel ?? vscode.window.createWebviewPanel('neuride.app', title, vscode.ViewColumn.Beside, { enableScripts: true, localResourceRoots: [], retainContextWhenHidden: true });
    const run: Run = { state: newState(app, path.basename(uri.fsPath), options), panel, token };
    this.runs.set(key, run);
    if (!open) {
      panel.onDidDispose(() => {
        const current = this.runs.get(key);
        if (current?.state.running) this.stop(current);
        this.runs.delete(key);
      });
      panel.webview.onDidReceiveMessage((message: { type?: string; realtime?: boolean; loop?: boolean }) => {
        const current = this.runs.get(key);
        if (message.type === 'stop' && current) this.stop(current);
        if (message.type === 'run' && !current?.state.running) {
          void this.start(uri, app, { realtime: !!message.realtime, loop: !!message.loop }).catch((error) => void vscode.window.showErrorMessage(userMessage(error)));
        }
      });
    }
    panel.webview.html = page({ title, body: `<style>${APP_STYLE}</style><div id="root">${appBody(run.state)}</div>`, script: PANEL_SCRIPT });
    panel.reveal(undefined, true);
    try {
      const report = (await client.sendRequest(ExecuteCommandRequest.type, {
        command: SERVER_COMMANDS.runApp,
        arguments: [runArguments(uri.toString(), app, options)],
        workDoneToken: token,
      })) as AppReport;
      onReport(run.state, report);
    } catch (error) {
      run.state.running = false;
      if ((error as { code?: number }).code === LSPErrorCodes.RequestCancelled) {
        run.state.stopped ??= 'cancelled';
      } else {
        run.state.stopped = userMessage(error);
        void vscode.window.showErrorMessage(userMessage(error));
      }
    }
    this.render(run, true);
  }

  private stop(run: Run): void {
    const client = this.clientOf();
    void client?.sendNotification(WorkDoneProgressCancelNotification.type, { token: run.token });
  }

  private render(run: Run, now = false): void {
    const draw = () => {
      run.timer = undefined;
      void run.panel.webview.postMessage({ type: 'render', html: appBody(run.state) });
    };
    if (now) {
      if (run.timer) clearTimeout(run.timer);
      draw();
    } else if (!run.timer) {
      run.timer = setTimeout(draw, RENDER_INTERVAL_MS);
    }
  }
}

/** The page's script: redraw on `render`, post `stop` from the button. */
const PANEL_SCRIPT = `
const vscode = acquireVsCodeApi();
function bind() {
  const stop = document.getElementById('stop');
  if (stop) stop.addEventListener('click', () => { stop.disabled = true; vscode.postMessage({ type: 'stop' }); });
  const run = document.getElementById('run');
  if (run) run.addEventListener('click', () => {
    run.disabled = true;
    vscode.postMessage({ type: 'run', realtime: document.getElementById('realtime').checked, loop: document.getElementById('loop').checked });
  });
}
window.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'render') {
    document.getElementById('root').innerHTML = event.data.html;
    bind();
  }
});
bind();`;

/** The app of a lens's `{uri, app}`, else of the active .neuro file (asked when it has several). */
export async function appTarget(arg: unknown): Promise<{ uri: vscode.Uri; app: string } | undefined> {
  const given = arg && typeof arg === 'object' && !(arg instanceof vscode.Uri) ? (arg as { uri?: unknown; app?: unknown }) : undefined;
  if (given && typeof given.uri === 'string' && typeof given.app === 'string') {
    return { uri: vscode.Uri.parse(given.uri), app: given.app };
  }
  const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
  if (!uri || !uri.path.endsWith('.neuro')) return undefined;
  const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
  const apps = lenses
    .map((lens) => (lens.command?.command === 'neuride.ui.runApp' ? (lens.command.arguments?.[0] as { app?: string } | undefined)?.app : undefined))
    .filter((app): app is string => typeof app === 'string');
  const app = apps.length <= 1 ? apps[0] : await vscode.window.showQuickPick(apps, { title: `Which app of ${path.basename(uri.fsPath)}?` });
  return app ? { uri, app } : undefined;
}
