// The registry page of `neuride serve` in headless Chromium, driven by
// playwright-core as a person would use it: the model list renders with
// kinds, a model uploaded through the form appears, a prediction through
// the form shows the right class, and the live event log updates.
//
// Usage: node browser.js PLAYWRIGHT_DIR URL UPLOAD_MODEL SCREENSHOT_DIR
'use strict';
const path = require('path');
const [playwrightDir, url, uploadModel, screenshots] = process.argv.slice(2);
const { chromium } = require(path.join(playwrightDir, 'node_modules', 'playwright-core'));

function check(condition, message) {
  if (!condition) throw new Error(message);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
      '--disable-background-networking', '--disable-extensions', '--no-first-run'],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // The refused upload's 422 is logged by Chromium itself; the page's
    // own errors are what count.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      problems.push(`console: ${message.text()}`);
    }
  });
  try {
    // Every request the page makes stays on the server (no CDN).
    const foreign = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(url)) foreign.push(request.url());
    });
    await page.goto(url);
    await page.waitForSelector('#models tbody tr[data-name="iris_logreg_nozipmap"]');
    await page.waitForSelector('#live:text("(live)")');
    const kinds = await page.$$eval('#models tbody tr', (rows) =>
      Object.fromEntries(rows.map((r) => [r.dataset.name, r.querySelector('.kind').textContent])));
    check(kinds.iris_logreg_nozipmap === 'ml', `iris kind: ${JSON.stringify(kinds)}`);
    check(kinds.digits_cnn === 'dl', `digits kind: ${JSON.stringify(kinds)}`);
    await page.screenshot({ path: path.join(screenshots, 'serve-list.png') });

    // Upload through the form: the model appears in the list and the log.
    await page.setInputFiles('#upload-file', uploadModel);
    await page.fill('#upload-name', 'uploaded_mlp');
    await page.click('#upload button[type=submit]');
    await page.waitForSelector('#upload-result .ok');
    await page.waitForSelector('#models tbody tr[data-name="uploaded_mlp"]');
    const kind = await page.textContent('#models tbody tr[data-name="uploaded_mlp"] .kind');
    check(kind === 'dl', `uploaded kind: ${kind}`);
    await page.waitForSelector('#events li:has-text("uploaded_mlp.onnx")');

    // A broken upload is refused with its diagnostics shown.
    await page.setInputFiles('#upload-file', {
      name: 'broken.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from('not a model'),
    });
    await page.fill('#upload-name', '');
    await page.click('#upload button[type=submit]');
    await page.waitForSelector('#upload-result .error');
    const refused = await page.textContent('#upload-result');
    check(refused.includes('refused'), `refused upload: ${refused}`);

    // Predict through the form: an iris virginica flower.
    await page.click('#models tbody tr[data-name="iris_logreg_nozipmap"] td.name button');
    await page.waitForSelector('#predict-inputs textarea');
    await page.fill('#predict-inputs textarea', '[[6.7, 3.0, 5.2, 2.3]]');
    await page.click('#predict button[type=submit]');
    await page.waitForSelector('#prediction .class');
    const prediction = await page.textContent('#prediction .class');
    check(prediction === 'label: class 2', `prediction: ${prediction}`);
    await page.waitForSelector('#diagnostics li');
    await page.waitForFunction(() => {
      const graph = document.getElementById('detail-graph');
      return graph.complete && graph.naturalWidth > 0;
    });
    await page.screenshot({ path: path.join(screenshots, 'serve-predict.png'), fullPage: true });

    // The digits CNN: a test image of a known digit through the form.
    await page.click('#models tbody tr[data-name="digits_cnn"] td.name button');
    await page.waitForFunction(() => document.querySelector('#predict-inputs label')?.textContent.startsWith('x '));
    await page.fill('#predict-inputs textarea', process.env.DIGIT_PIXELS);
    await page.click('#predict button[type=submit]');
    await page.waitForSelector('#prediction .class');
    const digit = await page.textContent('#prediction .class');
    check(digit === `logits: class ${process.env.DIGIT_LABEL}`, `digit: ${digit}`);

    check(foreign.length === 0, `requests off the server: ${foreign}`);
    check(problems.length === 0, problems.join('\n'));
    console.log(JSON.stringify({ kinds, prediction, digit }));
  } finally {
    await browser.close();
  }
})().catch((error) => {
  console.error(error.stack || String(error));
  process.exit(1);
});
