import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, formatCount, formatOpsets, groupByKind, modelItem } from '../src/registry';
import type { ModelEntry } from '../src/protocol';

const models: ModelEntry[] = [
  { uri: 'file:///w/dl/digits_mlp.onnx', path: 'dl/digits_mlp.onnx', kind: 'dl', size: 20134, ir_version: 8, opsets: { '': 17 }, producer: 'pytorch', nodes: 4, parameters: 4810 },
  { uri: 'file:///w/snn/digits_snntorch.onnx', path: 'snn/digits_snntorch.onnx', kind: 'snn', size: 190000, ir_version: 8, opsets: [{ domain: '', version: 17 }], producer: 'pytorch', nodes: 730, parameters: 4810 },
  { uri: 'file:///w/ml/iris.onnx', path: 'ml/iris.onnx', kind: 'ml', size: 900, ir_version: 8, opsets: { '': 15, 'ai.onnx.ml': 1 }, producer: 'skl2onnx', nodes: 2, parameters: 15 },
  { uri: 'file:///w/dl/a_cnn.onnx', path: 'dl/a_cnn.onnx', kind: 'dl', size: 3 * 1024 * 1024, nodes: 8, parameters: 1234567 },
  { uri: 'file:///w/broken.onnx', path: 'broken.onnx', kind: 'weird', size: 3 },
];

test('groups in a fixed kind order, sorted by path, unknown kinds last', () => {
  const groups = groupByKind(models);
  assert.deepEqual(groups.map((g) => g.label), ['Spiking networks (1)', 'Deep learning (2)', 'Classic ML (1)', 'Unknown / broken (1)']);
  assert.deepEqual(groups[1].models.map((m) => m.path), ['dl/a_cnn.onnx', 'dl/digits_mlp.onnx']);
  assert.deepEqual(groupByKind([]), []);
});

test('model item: label, description, tooltip', () => {
  const item = modelItem(models[3]);
  assert.equal(item.label, 'a_cnn.onnx');
  assert.equal(item.description, 'dl · 8 nodes · 1.2M params · 3.0 MiB');
  assert.equal(modelItem({ ...models[2], nodes: 1, parameters: 0 }).description, 'ml · 1 node · 900 B');
  assert.equal(modelItem({ ...models[3], path: 'a_cnn.onnx', nodes: 1, parameters: 1 }).description, '1 node · 1 param · 3.0 MiB');
  assert.equal(item.uri, 'file:///w/dl/a_cnn.onnx');
  const iris = modelItem(models[2]);
  assert.equal(iris.tooltip, 'ml/iris.onnx\nkind: ml\nsize: 900 B\nIR version: 8\nopsets: ai.onnx 15, ai.onnx.ml 1\nproducer: skl2onnx\nnodes: 2\nparameters: 15');
  assert.equal(modelItem(models[4]).icon, 'question');
  assert.equal(modelItem({ ...models[0], path: 'w/x.npz' }).icon, 'database');
});

test('formatting helpers', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(-1), '?');
  assert.equal(formatCount(999), '999');
  assert.equal(formatCount(4810), '4.8k');
  assert.equal(formatCount(2.5e9), '2.5G');
  assert.equal(formatOpsets([{ domain: 'ai.onnx.ml', version: 3 }]), 'ai.onnx.ml 3');
  assert.equal(formatOpsets(null), '');
});
