// The registry page: a client of the registry API (/api) and of the Open
// Inference Protocol (/v2) like any other. Server data is put on the page
// with textContent only, never as HTML.
'use strict';

const $ = (id) => document.getElementById(id);
let selected = null;
let metadata = null;

function token() {
  return $('token').value.trim();
}

function authorized(headers = {}) {
  const t = token();
  return t ? { ...headers, Authorization: `Bearer ${t}` } : headers;
}

async function json(response) {
  const body = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) {
    const error = new Error(body.error || `HTTP ${response.status}`);
    error.body = body;
    throw error;
  }
  return body;
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1 << 20) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}

async function loadModels() {
  const models = await json(await fetch('/api/models'));
  const body = $('models').tBodies[0];
  body.replaceChildren();
  $('empty').hidden = models.length > 0;
  for (const model of models) {
    const row = element('tr');
    row.dataset.name = model.name;
    if (model.name === selected) row.classList.add('selected');
    const name = element('td', undefined, 'name');
    const open = element('button', model.name);
    open.type = 'button';
    open.addEventListener('click', () => select(model.name));
    name.append(open);
    const kind = element('td');
    kind.append(element('span', model.kind, `kind ${model.kind}`));
    const problems = element('td');
    if (model.errors) problems.append(element('span', `${model.errors} error(s) `, 'error'));
    if (model.warnings) problems.append(element('span', `${model.warnings} warning(s)`, 'warning'));
    if (!model.errors && !model.warnings) problems.append(element('span', 'valid', 'ok'));
    const actions = element('td');
    const download = element('a', 'download');
    download.href = `/api/models/${encodeURIComponent(model.name)}/download`;
    const remove = element('button', 'delete');
    remove.type = 'button';
    remove.addEventListener('click', () => deleteModel(model.name));
    actions.append(download, ' ', remove);
    row.append(name, kind, element('td', size(model.size)), problems,
      element('td', model.versions.join(', ')), actions);
    body.append(row);
  }
  if (selected && !models.some((m) => m.name === selected)) {
    selected = null;
    $('detail').hidden = true;
  }
}

async function deleteModel(name) {
  if (!confirm(`Delete ${name}? Its file is kept as a version.`)) return;
  try {
    await json(await fetch(`/api/models/${encodeURIComponent(name)}`, {
      method: 'DELETE', headers: authorized(),
    }));
  } catch (error) {
    alert(error.message);
  }
  await loadModels();
}

async function select(name) {
  selected = name;
  for (const row of $('models').tBodies[0].rows) {
    row.classList.toggle('selected', row.dataset.name === name);
  }
  const path = `/api/models/${encodeURIComponent(name)}`;
  const model = await json(await fetch(path));
  $('detail').hidden = false;
  $('detail-name').textContent = name;
  const facts = model.summary;
  $('detail-summary').textContent =
    `${model.kind} model · ${model.path} · ${size(model.size)} · ${facts.nodes} nodes · ` +
    `${facts.parameters} parameters · ${facts.producer || 'unknown producer'}`;
  $('detail-download').href = `${path}/download`;
  $('detail-text').href = `${path}/text`;
  $('detail-graph-link').href = `${path}/graph.svg`;
  $('detail-graph').src = `${path}/graph.svg?v=${model.versions.at(-1)}`;
  const list = $('diagnostics');
  list.replaceChildren();
  if (model.diagnostics.length === 0) list.append(element('li', 'none', 'ok'));
  for (const d of model.diagnostics) {
    list.append(element('li', `${d.severity}: ${d.message} (${d.code})`, d.severity));
  }
  $('prediction').replaceChildren();
  await loadPredictForm(name);
}

// One textarea per input, holding the data as JSON (flat or nested), and
// its shape, from the model's metadata (free dimensions as 1).
async function loadPredictForm(name) {
  const inputs = $('predict-inputs');
  inputs.replaceChildren();
  metadata = null;
  try {
    metadata = await json(await fetch(`/v2/models/${encodeURIComponent(name)}`));
  } catch (error) {
    inputs.append(element('p', `This model cannot run: ${error.message}`, 'error'));
    $('predict').querySelector('button').disabled = true;
    return;
  }
  $('predict').querySelector('button').disabled = false;
  $('steps-row').hidden = metadata.parameters.engine !== 'simulator';
  for (const input of metadata.inputs) {
    const shape = input.shape.map((d) => (d < 0 ? 1 : d));
    const count = shape.reduce((a, b) => a * b, 1);
    const label = element('label', `${input.name} (${input.datatype} [${input.shape.join(', ')}])`);
    const shapeField = element('input');
    shapeField.name = `shape:${input.name}`;
    shapeField.value = JSON.stringify(shape);
    shapeField.title = 'shape';
    const data = element('textarea');
    data.name = `data:${input.name}`;
    data.value = JSON.stringify(new Array(Math.min(count, 4096)).fill(0));
    label.append(' shape ', shapeField);
    inputs.append(label, data);
  }
}

function argmaxRows(output) {
  if (!['FP32', 'FP64'].includes(output.datatype) || output.shape.length !== 2) return null;
  const [rows, columns] = output.shape;
  const best = [];
  for (let r = 0; r < rows; r++) {
    let top = 0;
    for (let c = 1; c < columns; c++) {
      if (output.data[r * columns + c] > output.data[r * columns + top]) top = c;
    }
    best.push(top);
  }
  return best;
}

async function predict(event) {
  event.preventDefault();
  const result = $('prediction');
  result.replaceChildren();
  try {
    const inputs = metadata.inputs.map((input) => ({
      name: input.name,
      datatype: input.datatype,
      shape: JSON.parse($('predict').elements[`shape:${input.name}`].value),
      data: JSON.parse($('predict').elements[`data:${input.name}`].value),
    }));
    const request = { inputs };
    if (metadata.parameters.engine === 'simulator') {
      request.parameters = { steps: Number($('steps').value) };
    }
    const response = await json(await fetch(`/v2/models/${encodeURIComponent(selected)}/infer`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(request),
    }));
    for (const output of response.outputs) {
      const classes = output.datatype === 'INT64' && output.shape.length === 1
        ? output.data : argmaxRows(output);
      if (classes) {
        result.append(element('p', `${output.name}: class ${classes.join(', ')}`, 'class'));
      }
      const detail = element('pre',
        `${output.name} ${output.datatype} [${output.shape.join(', ')}]\n${JSON.stringify(output.data)}`);
      result.append(detail);
    }
  } catch (error) {
    result.append(element('p', error.message, 'error'));
  }
}

async function upload(event) {
  event.preventDefault();
  const result = $('upload-result');
  result.replaceChildren(element('p', 'checking…', 'muted'));
  const form = new FormData($('upload'));
  if (!form.get('name')) form.delete('name');
  try {
    const model = await json(await fetch('/api/models', {
      method: 'POST', headers: authorized(), body: form,
    }));
    result.replaceChildren(element('p', `${model.name} uploaded: ${model.kind} model, version ${model.versions.at(-1)}`, 'ok'));
    $('upload').reset();
    await loadModels();
  } catch (error) {
    result.replaceChildren(element('p', error.message, 'error'));
    const list = element('ul');
    for (const d of (error.body && error.body.diagnostics) || []) {
      list.append(element('li', `${d.severity}: ${d.message} (${d.code})`, d.severity));
    }
    result.append(list);
  }
}

function showEvent(event) {
  const item = element('li', `${event.time} ${event.kind} ${event.path}: ${event.detail}`, event.kind);
  $('events').prepend(item);
}

function listen() {
  const source = new EventSource('/api/events');
  source.addEventListener('open', () => { $('live').textContent = '(live)'; });
  source.addEventListener('error', () => { $('live').textContent = '(reconnecting)'; });
  source.addEventListener('registry', (message) => {
    showEvent(JSON.parse(message.data));
    loadModels().catch(() => {});
  });
  source.addEventListener('lagged', () => {
    $('events').replaceChildren();
    source.close();
    listen();
  });
}

$('token').value = sessionStorage.getItem('neuride-token') || '';
$('token').addEventListener('change', () => sessionStorage.setItem('neuride-token', token()));
$('upload').addEventListener('submit', upload);
$('predict').addEventListener('submit', predict);
loadModels().catch((error) => $('empty').replaceChildren(error.message));
listen();
