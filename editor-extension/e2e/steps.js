// @ts-check
// The suite's steps, in order (later steps reuse what earlier ones opened as
// little as possible: each closes the editors first). Steps named "defect N"
// are the numbered defects of issue 19; each failed before its fix.

'use strict';
const fs = require('fs');
const path = require('path');
const { poll } = require('./poll');

/** Waits until a text editor (Monaco, not a webview) is the active editor and its tab label contains `label`. */
async function activeTextEditor(vscode, label) {
  const { page } = vscode;
  return poll(`a text editor for ${label}`, async () => {
    const tab = await vscode.activeTab();
    if (!tab.includes(label)) return false;
    // The active group's editor is Monaco when it has a focused or visible .monaco-editor and no webview.
    const group = page.locator('.editor-group-container.active');
    return (await group.locator('.monaco-editor').count()) > 0 && (await group.locator('.monaco-editor .view-lines').isVisible());
  });
}

/** The `text` code lens just above the line that starts with `lineStart` (scrolled into view first) in `relative` (the open file). */
async function codeLens(vscode, text, lineStart, relative = 'digits-snn/digits.neuro') {
  const { page } = vscode;
  const file = path.join(vscode.workspace, relative);
  const line = fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.startsWith(lineStart)) + 1;
  if (line === 0) throw new Error(`no line starts with ${lineStart}`);
  await goToLine(vscode, line);
  const row = page.locator('.editor-group-container.active .view-line', { hasText: lineStart }).first();
  return poll(`the "${text}" code lens above "${lineStart}"`, async () => {
    const rowBox = await row.boundingBox();
    if (!rowBox) return undefined;
    const lenses = page.locator('.editor-group-container.active .codelens-decoration a', { hasText: text });
    for (let i = 0; i < (await lenses.count()); i++) {
      const box = await lenses.nth(i).boundingBox();
      if (box && box.y < rowBox.y && rowBox.y - box.y < 2.5 * rowBox.height) return lenses.nth(i);
    }
    return undefined;
  }, 30000);
}

/** Moves the cursor to a 1-based line with quick open's ":line". */
async function goToLine(vscode, line) {
  await vscode.closeQuickInput();
  await vscode.page.keyboard.press('F1');
  const input = vscode.page.locator('.quick-input-widget input');
  await poll('quick open', () => input.isVisible());
  await input.fill(`:${line}`);
  await vscode.page.keyboard.press('Enter');
  await poll(`the cursor on line ${line}`, async () => (await cursorLine(vscode)) === line, 5000);
}

async function shot(context, vscode, name, locator) {
  if (!context.docsShots) return;
  fs.mkdirSync(context.docsShots, { recursive: true });
  const file = path.join(context.docsShots, name);
  if (locator) await locator.screenshot({ path: file });
  else await vscode.page.screenshot({ path: file });
}

/** The text of every error toast shown now. */
async function errorToasts(vscode) {
  const toasts = vscode.toasts();
  const out = [];
  for (let i = 0; i < (await toasts.count()); i++) {
    const toast = toasts.nth(i);
    if (await toast.locator('.codicon-error').count()) out.push(await toast.innerText());
  }
  return out;
}

function findFiles(root, name) {
  const found = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.name === name) found.push(full);
      if (entry.isDirectory()) walk(full);
    }
  };
  walk(root);
  return found;
}

const steps = [
  {
    name: 'models tree lists the workspace models',
    async run(vscode, context) {
      const { page } = vscode;
      const pane = await modelsPane(vscode);
      // The file tree collapsed, so the models pane has the room to show
      // every group (the examples hold enough models to push the last
      // group out of view, where a virtualized row is not rendered).
      const files = page.locator('.pane-header[aria-expanded="true"]', { hasText: 'workspace' });
      if (await files.count()) await files.first().click();
      await poll('the file tree collapsed', async () => (await files.count()) === 0, 5000);
      for (const name of ['digits_cnn.onnx', 'digits_snntorch.onnx', 'iris_logreg_nozipmap.onnx']) {
        await poll(`${name} in the models tree`, () => pane.locator('.monaco-list-row', { hasText: name }).first().isVisible(), 30000);
      }
      await shot(context, vscode, 'vscode-models-tree.png', page.locator('.part.sidebar'));
      const collapsed = page.locator('.pane-header[aria-expanded="false"]', { hasText: 'workspace' });
      if (await collapsed.count()) await collapsed.first().click();
    },
  },
  {
    name: 'model editor shows the text rendering',
    async run(vscode, context) {
      await vscode.closeAllEditors();
      await vscode.open('digits-snn/models/digits_cnn.onnx');
      const frame = await vscode.frameWith('pre.model-text', 'the model editor webview');
      const text = await frame.locator('pre.model-text').innerText();
      if (!/Conv/.test(text)) throw new Error(`model text has no Conv node: ${text.slice(0, 200)}`);
      await shot(context, vscode, 'vscode-model-editor.png');
    },
  },
  {
    name: 'defect 1: opening the text view twice makes no modelText request loop',
    async run(vscode) {
      await vscode.closeAllEditors();
      await vscode.open('digits-snn/models/digits_cnn.onnx');
      for (let i = 0; i < 2; i++) {
        const frame = await vscode.frameWith('#open', 'the "Open as text document" button');
        const before = vscode.modelTextRequests();
        await frame.locator('#open').click();
        await activeTextEditor(vscode, 'digits_cnn.onnx');
        // A loop shows as hundreds of requests a second; two seconds of quiet is proof enough.
        await noRequestLoop(vscode, before, 6, 2000);
        await vscode.page.locator('.tabs-container .tab', { hasText: 'digits_cnn.onnx' }).first().click();
      }
    },
  },
  {
    name: 'defect 2: go to definition in the text view stays in the text editor',
    async run(vscode) {
      const { page } = vscode;
      await vscode.closeAllEditors();
      await vscode.command('neuride: Open Model as Text');
      // The command asks for a model when none is active: the simple file dialog takes a path.
      await pickPath(vscode, path.join(vscode.workspace, 'digits-snn/models/digits_cnn.onnx'));
      await activeTextEditor(vscode, 'digits_cnn.onnx');
      // The second Relu's input is the first pool's output: find its use, then F12.
      await page.keyboard.press('Control+f');
      const find = page.locator('.find-widget textarea, .find-widget input').first();
      await poll('the find widget', () => find.isVisible());
      await find.fill('= Relu (');
      await page.keyboard.press('Escape');
      const before = vscode.modelTextRequests();
      const lineBefore = await cursorLine(vscode);
      await page.keyboard.press('End');
      await page.keyboard.press('ArrowLeft');
      await page.keyboard.press('ArrowLeft');
      await page.keyboard.press('F12');
      await poll('the cursor to move to the definition', async () => (await cursorLine(vscode)) !== lineBefore, 10000);
      await activeTextEditor(vscode, 'digits_cnn.onnx');
      const webviews = await page.locator('.editor-group-container.active .webview, .editor-group-container.active iframe').count();
      if (webviews) throw new Error('the definition opened in a webview');
      await noRequestLoop(vscode, before, 6, 2000);
    },
  },
  {
    name: 'defect 3: Simulate code lens shows the plots of its own block',
    async run(vscode, context) {
      await vscode.closeAllEditors();
      await vscode.open('digits-snn/digits.neuro');
      const lens = await codeLens(vscode, 'Simulate', 'simulate written');
      await lens.click();
      await poll('a plots tab', async () => (await vscode.activeTab()).startsWith('Simulation'), 120000);
      const title = await vscode.activeTab();
      if (!title.includes('written')) throw new Error(`plots tab is "${title}", not the "written" block's`);
      const frame = await vscode.frameWith('.plots svg', 'the simulation plots');
      const body = await frame.locator('body').innerText();
      if (!/accuracy/i.test(body)) throw new Error(`plots page shows no accuracy: ${body.slice(0, 200)}`);
      await shot(context, vscode, 'vscode-simulation-plots.png', vscode.page.locator('.editor-group-container.active'));
    },
  },
  {
    name: 'defect 8: firing rates are in spikes per step, not Hz',
    async run(vscode) {
      const frame = await vscode.frameWith('svg text', 'the simulation plots');
      const labels = (await frame.locator('svg text').allTextContents()).join(' | ');
      if (/\bHz\b/.test(labels)) throw new Error(`a plot label says Hz: ${labels}`);
      if (!/spikes per neuron per step/.test(labels)) throw new Error(`no "spikes per neuron per step" axis: ${labels}`);
    },
  },
  {
    name: 'defect 3: Infer code lens shows the result',
    async run(vscode) {
      await vscode.closeAllEditors();
      await vscode.open('digits-snn/digits.neuro');
      const lens = await codeLens(vscode, 'Infer', 'infer cnn');
      await lens.click();
      const frame = await vscode.frameWith('pre', 'the inference result', 60000);
      await poll('an accuracy in the inference result', async () => /accuracy/.test(await frame.locator('pre').innerText()));
    },
  },
  {
    name: 'defect 3: the title button runs the block at the cursor',
    async run(vscode) {
      const { page } = vscode;
      await vscode.closeAllEditors();
      await vscode.open('digits-snn/digits.neuro');
      // The cursor inside the `simulate written` block, the second of the file.
      await codeLens(vscode, 'Simulate', 'simulate written');
      await goToLine(vscode, (await cursorLine(vscode)) + 2);
      await page.locator('.editor-actions .action-label[aria-label*="Simulate Spiking Network"]').click();
      await vscode.frameWith('svg', 'the simulation plots', 120000);
      await poll('a plots tab for "written"', async () => (await vscode.activeTab()).includes('written'), 5000);
    },
  },
  {
    name: 'defect 5: a simulation is cancelled from its notification without an error',
    async run(vscode) {
      await vscode.closeAllEditors();
      await vscode.clearNotifications();
      // The example's block simulates 450 samples in well under a second
      // now: a copy with 20,000 steps runs long enough to be cancelled.
      const source = fs.readFileSync(path.join(vscode.workspace, 'digits-snn/digits.neuro'), 'utf8');
      // (Without the app block, whose camera rate 20 s readings could not keep up with.)
      const long = source.replace(/(simulate snn on test \{\s*dt = 1ms\s*steps = )50/, '$120000').replace(/\napp digit_door[^]*$/, '\n');
      if (long === source || /\napp /.test(long)) throw new Error('digits.neuro has no "simulate snn" block with steps = 50 or its app block stayed');
      const longFile = path.join(vscode.workspace, 'digits-snn/long.neuro');
      fs.writeFileSync(longFile, long);
      await vscode.open('digits-snn/long.neuro');
      const lens = await codeLens(vscode, 'Simulate', 'simulate snn', 'digits-snn/long.neuro');
      await lens.click();
      const toast = vscode.toasts().filter({ hasText: 'simulating' });
      const cancel = toast.locator('.monaco-button', { hasText: 'Cancel' });
      await poll('a cancellable "simulating" notification', () => cancel.first().isVisible(), 30000);
      await cancel.first().click();
      await poll('the progress notification to close', async () => (await toast.count()) === 0, 20000);
      await poll('the server to log the cancellation', () => /cancelled/.test(vscode.log()), 20000);
      const errors = await errorToasts(vscode);
      if (errors.length) throw new Error(`cancelling showed an error: ${errors.join(' / ')}`);
      await vscode.closeAllEditors();
      fs.unlinkSync(longFile);
    },
  },
  {
    name: 'defect 6: a broken model is listed once in Problems',
    async run(vscode) {
      const { page } = vscode;
      await vscode.closeAllEditors();
      await vscode.open('broken/truncated.onnx');
      await vscode.frameWith('.error, pre.model-text', 'the model editor on the broken model');
      await vscode.command('View: Focus Problems (Errors, Warnings, Infos)');
      const rows = page.locator('.markers-panel .monaco-list-row', { hasText: 'truncated.onnx' });
      await poll('truncated.onnx in Problems', async () => (await rows.count()) > 0, 20000);
      // Diagnostics arrive for both URIs within one analysis; a second entry shows up at once if it comes.
      await noGrowth(async () => rows.count(), 1, 2000, 'Problems entries for truncated.onnx');
      await vscode.command('View: Hide Panel');
    },
  },
  {
    name: 'defect 4: Graph code lens opens the graph webview and writes nothing',
    async run(vscode, context) {
      await vscode.closeAllEditors();
      await vscode.open('digits-snn/digits.neuro');
      const lens = await codeLens(vscode, 'Graph', 'model cnn');
      await lens.click();
      const graph = await vscode.frameWith('.graph svg', 'the graph webview');
      if (context.docsShots) {
        // Top to bottom fits the side panel; the page is rendered again.
        await graph.locator('#tb').click();
        await vscode.frameWith('#tb[disabled]', 'the top-to-bottom graph');
      }
      const written = findFiles(vscode.workspace, '.neuride');
      if (written.length) throw new Error(`the graph was written into the workspace: ${written.join(', ')}`);
      await shot(context, vscode, 'vscode-graph.png', vscode.page.locator('.editor-group-container.active'));
    },
  },
  {
    name: 'defect 7: the snnTorch model simulates as it is',
    async run(vscode) {
      await vscode.closeAllEditors();
      await vscode.clearNotifications();
      await vscode.open('snn/digits_snntorch.onnx');
      await vscode.frameWith('pre.model-text', 'the model editor');
      await vscode.command('neuride: Simulate Spiking Network');
      // Its own samples: spike trains in the model's time-major input layout.
      await pickPath(vscode, path.join(vscode.workspace, 'snn/spikes.npz'));
      // The result's panel may open without focus: look for its tab in any group.
      const resultTab = vscode.page.locator('.tabs-container .tab', { hasText: 'Simulation: digits_snntorch.onnx' });
      await poll('a result or an error', async () => (await resultTab.count()) > 0 || (await errorToasts(vscode)).length, 120000);
      const errors = await errorToasts(vscode);
      if (errors.length) throw new Error(errors.join(' / '));
      const frame = await vscode.frameWith('pre:not(.model-text)', 'the run result');
      const text = await frame.locator('pre:not(.model-text)').innerText();
      if (!/already spikes/.test(text) || !/"outputs"|"summary"/.test(text)) throw new Error(`not run as it is: ${text.slice(0, 300)}`);
    },
  },
  {
    name: 'item 10: importing over an existing model asks before replacing',
    async run(vscode) {
      const { page } = vscode;
      await vscode.closeAllEditors();
      await vscode.clearNotifications();
      const source = path.join(vscode.workspace, 'digits-snn/models/digits_cnn.onnx');
      for (let i = 0; i < 2; i++) {
        await vscode.command('neuride: Import Model into Workspace');
        await pickPath(vscode, source);
        if (i === 0) {
          await poll('the import message', async () => (await vscode.toastTexts()).some((t) => t.includes('imported digits_cnn.onnx')), 20000);
          await vscode.clearNotifications();
        }
      }
      const dialog = page.locator('.monaco-dialog-box', { hasText: 'already exists' });
      await poll('a dialog asking to replace digits_cnn.onnx', () => dialog.isVisible(), 20000);
      await dialog.locator('.monaco-button', { hasText: 'Replace' }).click();
      await poll('the import message after replacing', async () => (await vscode.toastTexts()).some((t) => t.includes('imported digits_cnn.onnx')), 20000);
      const errors = await errorToasts(vscode);
      if (errors.length) throw new Error(errors.join(' / '));
    },
  },
  {
    name: 'issue 18: the Sweep code lens shows the plots and the Pareto front',
    async run(vscode, context) {
      await vscode.closeAllEditors();
      await vscode.open('tabular-snn/genes.neuro');
      const lens = await codeLens(vscode, 'Sweep', 'sweep snn', 'tabular-snn/genes.neuro');
      await lens.click();
      await poll('a sweep tab', async () => (await vscode.activeTab()).startsWith('Sweep'), 240000);
      const frame = await vscode.frameWith('table', 'the sweep result', 60000);
      const body = await frame.locator('body').innerText();
      if (!/Pareto front/.test(body) || !/steps=/.test(body)) throw new Error(`no Pareto front with settings: ${body.slice(0, 300)}`);
      if ((await frame.locator('svg').count()) === 0) throw new Error('the sweep result has no plot');
      await shot(context, vscode, 'vscode-sweep.png', vscode.page.locator('.editor-group-container.active'));
    },
  },
  {
    name: 'issue 12: the app panel shows a running app live and Stop cancels it',
    async run(vscode, context) {
      await vscode.closeAllEditors();
      await vscode.clearNotifications();
      await vscode.open('digits-snn/digits.neuro');
      const lens = await codeLens(vscode, 'Run app', 'app digit_door');
      await lens.click();
      // The whole replay (450 readings at full speed) ends in the panel.
      const frame = await vscode.frameWith('#stop', 'the app panel', 60000);
      await poll('the run to end', async () => /stopped \(end of data\)/.test(await frame.locator('#state').innerText()), 120000);
      const body = await frame.locator('body').innerText();
      if (!/cam\s+replay of 450 rows @ 10 Hz\s+450/.test(body)) throw new Error(`no 450 readings of cam: ${body.slice(0, 400)}`);
      if (!/digit\s+\d\s+450/.test(body)) throw new Error(`no latest digit: ${body.slice(0, 400)}`);
      if (!/unlock \(rule open\)/.test(body)) throw new Error(`no rule firing on the timeline: ${body.slice(0, 600)}`);
      if ((await frame.locator('.timeline .tick').count()) < 1) throw new Error('no tick on the timeline');
      await shot(context, vscode, 'vscode-app-panel.png', vscode.page.locator('.editor-group-container.active'));
      // Again in real time, looping: it runs until stopped.
      await frame.locator('#realtime').check();
      await frame.locator('#loop').check();
      await frame.locator('#run').click();
      // The panel may be re-rendered (a new frame) while it runs: look it up each time.
      const panel = () => vscode.frameWith('#stop', 'the app panel', 10000);
      const readings = async () => Number((/cam\s+replay[^\n]*?(\d+)\s*$/m.exec(await (await panel()).locator('body').innerText()) ?? [])[1] ?? -1);
      const state = async () => (await panel()).locator('#state').innerText();
      await poll('readings arriving live', async () => /running/.test(await state()) && (await readings()) >= 3, 30000);
      const before = await readings();
      await poll('more readings', async () => (await readings()) > before, 10000);
      await (await panel()).locator('#stop').click();
      await poll('the run to stop', async () => /stopped \(cancel/.test(await state()), 20000);
      const errors = await errorToasts(vscode);
      if (errors.length) throw new Error(`stopping showed an error: ${errors.join(' / ')}`);
    },
  },
  {
    name: 'defect 9: a missing server gives one message with Open Settings and Reload',
    async run(vscode) {
      const settings = path.join(vscode.userData, 'User', 'settings.json');
      const values = JSON.parse(fs.readFileSync(settings, 'utf8'));
      values['neuride.serverPath'] = '/nonexistent/neuride';
      fs.writeFileSync(settings, JSON.stringify(values, null, 2));
      await vscode.closeAllEditors();
      await vscode.command('Developer: Reload Window');
      await vscode.waitForWorkbench();
      const toast = vscode.toasts().filter({ hasText: '/nonexistent/neuride' });
      await poll('a message naming the missing server', async () => (await toast.count()) > 0, 30000);
      for (const button of ['Open Settings', 'Reload']) {
        if (!(await toast.first().locator('.monaco-button', { hasText: button }).count())) throw new Error(`no "${button}" button`);
      }
      await noGrowth(async () => (await errorToasts(vscode)).length, 1, 2000, 'error toasts');
      const pane = await modelsPane(vscode);
      await poll('the Models view to say the server is missing', async () => /nonexistent/.test(await pane.innerText()), 10000);
    },
  },
];

/** The Neuride Models view, shown and expanded. */
async function modelsPane(vscode) {
  const { page } = vscode;
  await vscode.command('View: Show Explorer');
  const header = page.locator('.pane-header', { hasText: 'Neuride Models' });
  await poll('the Neuride Models view', () => header.isVisible());
  if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
  return page.locator('.pane', { has: header });
}

/** Fails if `probe()` ever exceeds `limit` during `ms`, and if it ends below it. */
async function noGrowth(probe, limit, ms, what) {
  const end = Date.now() + ms;
  let value = 0;
  while (Date.now() < end) {
    value = await probe();
    if (value > limit) throw new Error(`${value} ${what}, expected ${limit}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (value < limit) throw new Error(`${value} ${what}, expected ${limit}`);
}

async function noRequestLoop(vscode, since, limit, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const grown = vscode.modelTextRequests() - since;
    if (grown > limit) throw new Error(`${grown} neuride/modelText requests within ${ms} ms: a request loop`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The 1-based line of the cursor in the active editor (from the status bar). */
async function cursorLine(vscode) {
  const text = await vscode.page.locator('.statusbar-item[id="status.editor.selection"]').innerText();
  const match = /Ln (\d+)/.exec(text);
  return match ? Number(match[1]) : 0;
}

/** Answers an open dialog (VS Code's simple file dialog in the browser) with a path. */
async function pickPath(vscode, file) {
  const input = vscode.page.locator('.quick-input-widget input');
  await poll('the file dialog', () => input.isVisible());
  // The dialog sets its start folder once it has listed it, which can
  // overwrite a path typed too early: type it again until it is accepted.
  const ok = vscode.page.locator('.quick-input-widget .monaco-button', { hasText: 'OK' });
  await poll('the file dialog to take the path and close', async () => {
    if (!(await input.isVisible())) return true;
    if ((await input.inputValue()) !== file) {
      await input.fill(file);
      return false;
    }
    if (await ok.isVisible()) await ok.click().catch(() => undefined);
    else await vscode.page.keyboard.press('Enter');
    return false;
  }, 15000);
}

module.exports = { steps };
