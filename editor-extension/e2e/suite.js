// @ts-check
// End-to-end suite: the packaged extension inside a real VS Code (code-server,
// the VS Code web build) driven by headless Chromium through playwright-core.
// Every step polls for what the page shows or for lines of the "neuride"
// output channel (the extension traces its JSON-RPC messages there, so a
// request count catches loops); a failed step saves a screenshot and the
// suite goes on, so one run lists every failure. Run by scripts/test-vscode.

'use strict';
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { spawn, execFileSync } = require('child_process');
const { poll } = require('./poll');
const { npz } = require('./npz');

const args = parseArgs(process.argv.slice(2));
const { chromium } = require(path.join(args.cache, 'node_modules', 'playwright-core'));
const codeServer = path.join(args.cache, 'node_modules', '.bin', 'code-server');
const failures = path.join(args.artifacts, 'failures');
const docsShots = args['docs-screenshots'];

function parseArgs(list) {
  /** @type {Record<string, string>} */
  const out = {};
  for (let i = 0; i < list.length; i += 2) {
    out[list[i].replace(/^--/, '')] = list[i + 1];
  }
  for (const key of ['cache', 'vsix', 'server', 'examples', 'fixtures', 'artifacts']) {
    if (!out[key]) throw new Error(`missing --${key}`);
  }
  return out;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A fresh workspace: a copy of examples/ plus the spiking snnTorch model and a broken model. */
function makeWorkspace(root) {
  const ws = path.join(root, 'workspace');
  fs.cpSync(args.examples, ws, { recursive: true });
  fs.mkdirSync(path.join(ws, 'snn'));
  for (const file of ['digits_snntorch.onnx', 'digits_snntorch.npz']) {
    fs.copyFileSync(path.join(args.fixtures, 'snn', file), path.join(ws, 'snn', file));
  }
  // Samples for it: spike trains in its time-major input [25 steps, 4 samples, 64 inputs].
  const count = 25 * 4 * 64;
  let seed = 7;
  const spikes = Array.from({ length: count }, () => ((seed = (seed * 1103515245 + 12345) % 2147483648) % 3 === 0 ? 1 : 0));
  fs.writeFileSync(path.join(ws, 'snn', 'spikes.npz'), npz({ spikes: { shape: [25, 4, 64], data: spikes } }));
  fs.mkdirSync(path.join(ws, 'broken'));
  // The first 200 bytes of a real model: a truncated protobuf the checker reports.
  const bytes = fs.readFileSync(path.join(ws, 'digits-snn', 'models', 'digits_cnn.onnx'));
  fs.writeFileSync(path.join(ws, 'broken', 'truncated.onnx'), bytes.subarray(0, 200));
  return ws;
}

function writeSettings(userData, serverPath) {
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  const settings = {
    'security.workspace.trust.enabled': false,
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'update.mode': 'none',
    'telemetry.telemetryLevel': 'off',
    'chat.commandCenter.enabled': false,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'editor.codeLens': true,
    'neuride.serverPath': serverPath,
    'neuride.trace.server': 'messages',
  };
  fs.writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
}

/** The "neuride" output channel's log file (written by the extension host). */
function outputLog(userData) {
  const logs = path.join(userData, 'logs');
  const found = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/output_logging_/.test(dir) && /neuride\.log$/.test(entry.name)) found.push(full);
    }
  };
  if (fs.existsSync(logs)) walk(logs);
  return found.map((file) => fs.readFileSync(file, 'utf8')).join('\n');
}

function count(text, needle) {
  return text.split(needle).length - 1;
}

class Vscode {
  constructor(page, userData, workspace) {
    this.page = page;
    this.userData = userData;
    this.workspace = workspace;
  }

  log() {
    return outputLog(this.userData);
  }

  modelTextRequests() {
    return count(this.log(), "Sending request 'neuride/modelText");
  }

  async waitForWorkbench() {
    await poll('the workbench', () => this.page.locator('.monaco-workbench .part.editor').isVisible(), 60000);
  }

  /** Runs a command palette entry by its title. */
  async command(title) {
    await this.closeQuickInput();
    await this.page.keyboard.press('F1');
    const input = this.page.locator('.quick-input-widget input');
    await poll('the command palette', () => input.isVisible());
    await input.fill(`>${title}`);
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    await poll(`command "${title}" in the palette`, () => row.isVisible());
    await row.click();
  }

  async closeQuickInput() {
    if (await this.page.locator('.quick-input-widget').isVisible()) {
      await this.page.keyboard.press('Escape');
    }
  }

  /** Opens a workspace file by quick open (its default editor). */
  async open(relative) {
    await this.closeQuickInput();
    await this.page.keyboard.press('F1');
    const input = this.page.locator('.quick-input-widget input');
    await poll('quick open', () => input.isVisible());
    await input.fill(relative);
    const base = path.basename(relative);
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: base }).first();
    await poll(`${relative} in quick open`, () => row.isVisible());
    await row.click();
    await poll(`a tab for ${base}`, () => this.activeTab().then((tab) => tab.includes(base)));
  }

  async activeTab() {
    const tab = this.page.locator('.editor-group-container.active .tab.active').first();
    return (await tab.count()) ? (await tab.getAttribute('aria-label')) ?? '' : '';
  }

  /** The frame (webview content) where `selector` matches, polled. */
  async frameWith(selector, what, ms = 20000) {
    return poll(what, async () => {
      for (const frame of this.page.frames()) {
        if (await frame.locator(selector).count().catch(() => 0)) return frame;
      }
      return undefined;
    }, ms);
  }

  toasts() {
    return this.page.locator('.notifications-toasts .notification-toast');
  }

  async toastTexts() {
    return this.toasts().locator('.notification-list-item-message').allInnerTexts();
  }

  async clearNotifications() {
    await this.command('Notifications: Clear All Notifications');
    await poll('no notification toasts', async () => (await this.toasts().count()) === 0, 5000);
  }

  async closeAllEditors() {
    await this.command('View: Close All Editors');
    await poll('no open editors', async () => (await this.page.locator('.tabs-container .tab').count()) === 0, 5000);
  }
}

async function main() {
  const started = Date.now();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'neuride-e2e-'));
  fs.rmSync(failures, { recursive: true, force: true });
  fs.mkdirSync(failures, { recursive: true });
  const workspace = makeWorkspace(root);
  const userData = path.join(root, 'user-data');
  const extensions = path.join(root, 'extensions');
  writeSettings(userData, args.server);
  execFileSync(codeServer, ['--install-extension', args.vsix, '--extensions-dir', extensions, '--user-data-dir', userData], { stdio: 'ignore' });

  const port = await freePort();
  const serverLog = fs.openSync(path.join(args.artifacts, 'code-server.log'), 'w');
  const server = spawn(codeServer, [
    '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check',
    '--disable-workspace-trust', '--disable-getting-started-override',
    '--extensions-dir', extensions, '--user-data-dir', userData, workspace,
  ], { stdio: ['ignore', serverLog, serverLog], detached: true });
  const browser = await chromium.launch({ executablePath: args.chromium ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
  /** @type {{name: string, error: string}[]} */
  const failed = [];
  try {
    await poll('code-server to listen', () => fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok), 60000);
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
    const vscode = new Vscode(page, userData, workspace);
    await vscode.waitForWorkbench();
    // The extension's status item: activated and the server answered initialize.
    await poll('the neuride server to be ready', () => page.locator('.statusbar-item', { hasText: 'neuride: ready' }).isVisible(), 60000);
    const { steps } = require('./steps');
    for (const step of steps) {
      if (args.only && !step.name.includes(args.only)) continue;
      const t0 = Date.now();
      try {
        await step.run(vscode, { docsShots, root });
        console.log(`ok   ${step.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        failed.push({ name: step.name, error: message });
        console.log(`FAIL ${step.name}: ${message}`);
        const file = path.join(failures, `${step.name.replace(/[^a-z0-9]+/gi, '-')}.png`);
        await page.screenshot({ path: file }).catch(() => undefined);
        fs.writeFileSync(file.replace(/\.png$/, '.html'), await page.content().catch(() => ''));
        await vscode.closeQuickInput().catch(() => undefined);
      }
    }
    fs.writeFileSync(path.join(args.artifacts, 'neuride-output.log'), vscode.log());
  } finally {
    await browser.close();
    if (server.pid) {
      try {
        process.kill(-server.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    fs.rmSync(root, { recursive: true, force: true });
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  if (failed.length) {
    console.log(`\n${failed.length} step(s) failed in ${seconds} s; screenshots in ${failures}`);
    process.exit(1);
  }
  console.log(`\nall steps passed in ${seconds} s`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
