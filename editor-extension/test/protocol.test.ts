import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { GRAPH, LENS_UI_COMMANDS, MODELS, MODEL_SCHEME, MODEL_TEXT, EVENTS, SERVER_COMMANDS, compactJson, graphContent, graphParams, modelPathOf, textViewPath, userMessage } from '../src/protocol';
import { findOnPath, resolveServerPath } from '../src/serverPath';
import { graphPage, page, textPage } from '../src/webview';

const root = path.join(__dirname, '..', '..');

test('method names agreed with the server', () => {
  assert.equal(MODEL_TEXT, 'neuride/modelText');
  assert.equal(GRAPH, 'neuride/graph');
  assert.equal(MODELS, 'neuride/models');
  assert.equal(EVENTS, 'neuride/events');
  assert.equal(MODEL_SCHEME, 'neuride-model');
  assert.equal(SERVER_COMMANDS.simulate, 'neuride.simulate');
});

test('graph params and results', () => {
  assert.deepEqual(graphParams('file:///m.onnx', 'TB'), { uri: 'file:///m.onnx', format: 'svg', direction: 'TB' });
  assert.deepEqual(graphParams('file:///m.onnx', 'sideways'), { uri: 'file:///m.onnx', format: 'svg', direction: 'LR' });
  assert.equal(JSON.stringify(graphParams('file:///m.onnx', 'LR')), '{"uri":"file:///m.onnx","format":"svg","direction":"LR"}');
  assert.equal(graphContent('<svg/>'), '<svg/>');
  assert.equal(graphContent({ format: 'svg', content: '<svg a/>' }), '<svg a/>');
  assert.equal(graphContent({ svg: '<svg b/>' }), '<svg b/>');
  assert.equal(graphContent({}), '');
});

test('server path: setting, then workspace release build, then PATH', () => {
  const exists = (file: string) => file === '/ws/target/release/neuride';
  assert.equal(resolveServerPath('/opt/neuride', ['/ws'], exists, 'linux'), '/opt/neuride');
  assert.equal(resolveServerPath('bin/neuride', ['/ws'], exists, 'linux'), '/ws/bin/neuride');
  assert.equal(resolveServerPath('', ['/other', '/ws'], exists, 'linux'), '/ws/target/release/neuride');
  assert.equal(resolveServerPath(undefined, ['/none'], exists, 'linux'), 'neuride');
  assert.equal(resolveServerPath(undefined, [], () => false, 'win32'), 'neuride.exe');
});

test('webview pages: strict CSP, no remote resources, text escaped', () => {
  const html = textPage('m.onnx', '<graph> & "x"');
  assert.ok(html.includes("default-src 'none'"));
  assert.ok(html.includes('&lt;graph&gt; &amp; &quot;x&quot;'));
  const nonce = /script-src 'nonce-([A-Za-z0-9]+)'/.exec(html)![1];
  assert.ok(html.includes(`<script nonce="${nonce}">`));
  assert.ok(!/(src|href)="https?:/.test(graphPage('g', '<svg></svg>', 'LR')));
  assert.ok(!page({ title: 't', body: 'b' }).includes('<script'));
  assert.ok(textPage('m.onnx', 'x').includes('id="graph"'));
  assert.ok(!textPage('w.npz', 'x', false).includes('id="graph"'), 'an archive has no graph to show');
});

test('package.json contributes what the code registers', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  assert.ok(manifest.engines.vscode);
  assert.ok(manifest.activationEvents.includes('workspaceContains:**/*.onnx'));
  assert.deepEqual(manifest.contributes.languages[0].extensions, ['.neuro']);
  assert.equal(manifest.contributes.customEditors[0].viewType, 'neuride.modelView');
  const ids: string[] = manifest.contributes.commands.map((c: { command: string }) => c.command);
  const source = fs.readFileSync(path.join(root, 'src', 'commands.ts'), 'utf8');
  for (const id of ids) {
    assert.ok(source.includes(`'${id}'`), `${id} is registered`);
    // Server command ids are registered by the language client: no clash.
    assert.ok(!Object.values(SERVER_COMMANDS).includes(id as never), `${id} clashes with a server command`);
  }
  for (const registered of source.matchAll(/register\('([^']+)'/g)) {
    assert.ok(ids.includes(registered[1]), `${registered[1]} is contributed`);
  }
});

test('text view paths: the suffix keeps the custom editor pattern off, and is undone exactly', () => {
  const view = textViewPath('/ws/models/m.onnx');
  assert.ok(!view.endsWith('.onnx'), 'a *.onnx pattern must not match the text view');
  assert.equal(textViewPath(view), view, 'applied once');
  assert.equal(modelPathOf(view), '/ws/models/m.onnx');
  assert.equal(modelPathOf('/ws/models/m.onnx'), '/ws/models/m.onnx');
});

test('code lenses run the UI commands, which are not server commands', () => {
  assert.equal(LENS_UI_COMMANDS['neuride.simulate'], 'neuride.ui.simulate');
  assert.equal(LENS_UI_COMMANDS['neuride.infer'], 'neuride.ui.infer');
  assert.equal(LENS_UI_COMMANDS['neuride.showGraph'], 'neuride.ui.showGraph');
  const contributed = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).contributes.commands.map((c: { command: string }) => c.command);
  for (const ui of Object.values(LENS_UI_COMMANDS)) {
    assert.ok(contributed.includes(ui), `${ui} is contributed`);
  }
});

test('user messages carry one "neuride: " prefix', () => {
  assert.equal(userMessage(new Error('neuride: simulating a.neuro: cancelled')), 'neuride: simulating a.neuro: cancelled');
  assert.equal(userMessage('neuride: neuride: x'), 'neuride: x');
  assert.equal(userMessage(new Error('bad')), 'neuride: bad');
});

test('server lookup: a path must exist, a bare name is searched on PATH', () => {
  const exists = (file: string) => file === '/usr/local/bin/neuride' || file === '/opt/neuride';
  assert.equal(findOnPath('/opt/neuride', '', exists, 'linux'), '/opt/neuride');
  assert.equal(findOnPath('/nonexistent/neuride', '/usr/local/bin', exists, 'linux'), undefined);
  assert.equal(findOnPath('neuride', '/usr/bin::/usr/local/bin', exists, 'linux'), '/usr/local/bin/neuride');
  assert.equal(findOnPath('neuride', '/usr/bin', exists, 'linux'), undefined);
});

test('inference JSON keeps arrays of numbers on one line', () => {
  const text = compactJson({ accuracy: 0.9, outputs: { y: [[0.1, 0.9], [1, 2]] }, names: ['a', 'b'], none: [] });
  assert.ok(text.includes('[0.1, 0.9]'), text);
  assert.ok(text.includes('["a", "b"]'), text);
  assert.ok(text.includes('"none": []'), text);
  assert.deepEqual(JSON.parse(text), { accuracy: 0.9, outputs: { y: [[0.1, 0.9], [1, 2]] }, names: ['a', 'b'], none: [] });
});

test('sweeps: the grid typed in the panel and the Pareto table', async () => {
  const { parseGrid, paretoTable } = await import('../src/protocol');
  assert.equal(SERVER_COMMANDS.sweep, 'neuride.sweep');
  assert.equal(LENS_UI_COMMANDS['neuride.sweep'], 'neuride.ui.sweep');
  assert.deepEqual(parseGrid('steps=5,10,20  encode=current,rate'), { steps: ['5', '10', '20'], encode: ['current', 'rate'] });
  assert.match(String(parseGrid('steps')), /expected NAME=V1,V2/);
  assert.match(String(parseGrid('')), /at least one/);
  const table = paretoTable(
    { pareto: [{ params: { steps: 10, encode: '<rate>' }, accuracy: 0.875, synops: 1234.4, steps: 10 }] },
    (t) => t.replace(/</g, '&lt;').replace(/>/g, '&gt;'),
  );
  assert.match(table, /steps=10 encode=&lt;rate&gt;/);
  assert.match(table, /87\.50 %/);
  assert.match(table, /<td>1234<\/td>/);
});
