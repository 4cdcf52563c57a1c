// Computes the client capabilities vscode-languageclient 9 sends, with a stub
// `vscode` module (only constructors and enums are touched at this stage).
const Module = require('module');
const path = require('path');
const base = '/work/main/editor-extension/node_modules';
const handler = {
  get(target, prop) {
    if (prop === '__esModule') return false;
    if (prop === 'version') return '1.95.0';
    if (!(prop in target)) {
      const f = function () { return new Proxy(function(){}, handler); };
      target[prop] = new Proxy(f, handler);
    }
    return target[prop];
  },
  construct() { return new Proxy(function(){}, handler); },
  apply() { return new Proxy(function(){}, handler); },
};
const vscode = new Proxy({}, handler);
const origLoad = Module._load;
Module._load = function (request, parent, isMain) {
  if (request === 'vscode') return vscode;
  return origLoad.apply(this, arguments);
};
const { LanguageClient } = require(path.join(base, 'vscode-languageclient/node'));
const client = new LanguageClient('neuride', 'neuride', { command: 'neuride', args: ['lsp'] }, { documentSelector: [{ scheme: 'file', language: 'neuro' }] });
const caps = client.computeClientCapabilities();
process.stdout.write(JSON.stringify(caps, null, 2));
