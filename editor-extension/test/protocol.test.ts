import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { GRAPH, MODELS, MODEL_SCHEME, MODEL_TEXT, EVENTS, SERVER_COMMANDS, graphContent, graphParams } from '../src/protocol';
import { resolveServerPath } from '../src/serverPath';
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
