// Tokenizes Neuro text with the real TextMate engine VS Code uses
// (vscode-textmate + the Oniguruma WebAssembly build) and checks scopes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as oniguruma from 'vscode-oniguruma';
import * as textmate from 'vscode-textmate';

const root = path.join(__dirname, '..', '..');

async function loadGrammar(): Promise<textmate.IGrammar> {
  const wasm = fs.readFileSync(path.join(root, 'node_modules', 'vscode-oniguruma', 'release', 'onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text: string) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async (scopeName: string) => {
      if (scopeName !== 'source.neuro') return null;
      const file = path.join(root, 'syntaxes', 'neuro.tmLanguage.json');
      return textmate.parseRawGrammar(fs.readFileSync(file, 'utf8'), file);
    },
  });
  const grammar = await registry.loadGrammar('source.neuro');
  assert.ok(grammar, 'grammar loads');
  return grammar;
}

/** Each token as `text => innermost scope`, whitespace dropped. */
function tokenize(grammar: textmate.IGrammar, source: string): string[] {
  let state = textmate.INITIAL;
  const out: string[] = [];
  for (const line of source.split('\n')) {
    const result = grammar.tokenizeLine(line, state);
    for (const token of result.tokens) {
      const text = line.slice(token.startIndex, token.endIndex);
      if (text.trim() === '') continue;
      out.push(`${text} => ${token.scopes[token.scopes.length - 1]}`);
    }
    state = result.ruleStack;
  }
  return out;
}

const grammarPromise = loadGrammar();

test('item headers, strings and calls', async () => {
  const grammar = await grammarPromise;
  assert.deepEqual(tokenize(grammar, 'model cnn = onnx("models/digits_cnn.onnx")'), [
    'model => storage.type.item.neuro',
    'cnn => entity.name.type.neuro',
    '= => keyword.operator.assignment.neuro',
    'onnx => entity.name.function.neuro',
    '( => punctuation.section.parens.neuro',
    '" => string.quoted.double.neuro',
    'models/digits_cnn.onnx => string.quoted.double.neuro',
    '" => string.quoted.double.neuro',
    ') => punctuation.section.parens.neuro',
  ]);
});

test('numbers with units, named arguments and tensor types', async () => {
  const grammar = await grammarPromise;
  assert.deepEqual(tokenize(grammar, '    neuron = lif(tau_rc: 20ms, tau_ref: 2ms)'), [
    'neuron => keyword.other.declaration.neuro',
    '= => keyword.operator.assignment.neuro',
    'lif => entity.name.function.neuro',
    '( => punctuation.section.parens.neuro',
    'tau_rc => variable.parameter.neuro',
    ': => punctuation.separator.colon.neuro',
    '20 => constant.numeric.neuro',
    'ms => keyword.other.unit.neuro',
    ', => punctuation.separator.comma.neuro',
    'tau_ref => variable.parameter.neuro',
    ': => punctuation.separator.colon.neuro',
    '2 => constant.numeric.neuro',
    'ms => keyword.other.unit.neuro',
    ') => punctuation.section.parens.neuro',
  ]);
  const types = tokenize(grammar, '    input x: f32[1, 8, 8]');
  assert.ok(types.includes('f32 => support.type.tensor.neuro'), types.join('\n'));
  assert.ok(types.includes('1e-3 => constant.numeric.neuro') === false);
  assert.deepEqual(tokenize(grammar, 'x = 1e-3'), [
    'x => variable.other.neuro',
    '= => keyword.operator.assignment.neuro',
    '1e-3 => constant.numeric.neuro',
  ]);
});

test('nested block comments span lines and end where they should', async () => {
  const grammar = await grammarPromise;
  const tokens = tokenize(grammar, '/* outer /* inner */ still\ncomment */ app door {');
  assert.deepEqual(tokens.slice(-3), [
    'app => storage.type.item.neuro',
    'door => entity.name.type.neuro',
    '{ => punctuation.section.braces.neuro',
  ]);
  assert.ok(tokens.slice(0, -3).every((t) => t.endsWith('comment.block.neuro')), tokens.join('\n'));
});

test('the DSL example tokenizes without unscoped words', async () => {
  const grammar = await grammarPromise;
  const source = fs.readFileSync(path.join(root, 'test', 'fixtures', 'example.neuro'), 'utf8');
  const tokens = tokenize(grammar, source);
  const bare = tokens.filter((t) => t.endsWith('=> source.neuro'));
  assert.deepEqual(bare, [], 'every non-space token gets a scope');
  assert.ok(tokens.includes('simulate => storage.type.item.neuro'));
  assert.ok(tokens.includes('-> => keyword.operator.arrow.neuro'));
  assert.ok(tokens.includes('=> => keyword.operator.arrow.neuro'));
  assert.ok(tokens.includes('1000 => constant.numeric.neuro'));
  assert.ok(tokens.includes('Hz => keyword.other.unit.neuro'));
  assert.ok(tokens.includes('// Spiking digit classifier, converted from a trained CNN. => comment.line.double-slash.neuro'));
});
