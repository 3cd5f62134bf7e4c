import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright';
import { build, type PreviewServer, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, chromiumPath } from '../scripts/chromium-path.mjs';

// End to end: the built demo (npm run build:demo) served as a static site, in headless Chromium
// with WebGPU, then with WebGPU turned off. `?quick` makes the page's benchmark and comparison
// short (small shapes, few calls). Screenshots of the page and of each section go to test-results/.

const root = fileURLToPath(new URL('..', import.meta.url));
const results = `${root}test-results`;
const demoConfig = {
  root: `${root}demo`,
  base: './',
  configFile: `${root}demo/vite.config.ts`,
  logLevel: 'error' as const,
  build: { outDir: `${root}dist-demo`, emptyOutDir: true },
};
const BENCHMARK_SIDES = 4; // the page's benchmark sizes with ?quick
let server: PreviewServer;
let url: string;

beforeAll(async () => {
  await build(demoConfig);
  server = await preview({ ...demoConfig, preview: { port: 0, host: 'localhost' } });
  url = `http://localhost:${(server.httpServer.address() as AddressInfo).port}/?quick`;
  mkdirSync(results, { recursive: true });
}, 120_000);

afterAll(async () => {
  await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
});

interface OpenOptions {
  /** Hold navigator.gpu.requestAdapter() until `window.releaseDevice()` is called. */
  readonly holdDevice?: boolean;
  /** Wait for data-state (the first result); otherwise return as soon as the page has loaded. */
  readonly waitReady?: boolean;
}

async function launch(withWebGpu: boolean): Promise<Browser> {
  const args = withWebGpu ? CHROMIUM_ARGS : CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu');
  return chromium.launch({ executablePath: chromiumPath(), args });
}

async function openPage(browser: Browser, withWebGpu: boolean, options: OpenOptions = {}): Promise<Page> {
  const page = await openPageOnce(browser, withWebGpu, options);
  if (!withWebGpu || options.waitReady === false || (await onWebGpu(page))) return page;
  // Chromium under the full suite's load now and then hands a fresh page no adapter (requestAdapter()
  // gives null, so the page falls back to the CPU): one retry on a new context, said in the output.
  const first = await fallbackReason(page);
  console.warn(`demo e2e: the page got no WebGPU device (${first}); opening it again`);
  await page.context().close();
  const again = await openPageOnce(browser, withWebGpu, options);
  expect(await onWebGpu(again), `the page got no WebGPU device twice: ${first}; then ${await fallbackReason(again)}`).toBe(true);
  return again;
}

async function openPageOnce(browser: Browser, withWebGpu: boolean, options: OpenOptions): Promise<Page> {
  // Camera permission granted, so that a missing camera is what getUserMedia reports.
  const context = await browser.newContext({ viewport: { width: 1280, height: 1800 }, permissions: ['camera'] });
  const page = await context.newPage();
  const messages: string[] = [];
  page.on('console', (message) => messages.push(message.text()));
  pageMessages.set(page, messages);
  if (!withWebGpu) {
    await page.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true });
    });
  }
  if (options.holdDevice) {
    await page.addInitScript(() => {
      const gpu = navigator.gpu;
      let release = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      (window as unknown as { releaseDevice: () => void }).releaseDevice = release;
      if (gpu) {
        const requestAdapter = gpu.requestAdapter.bind(gpu);
        gpu.requestAdapter = (o) => held.then(() => requestAdapter(o));
      }
    });
  }
  await page.goto(url);
  if (options.waitReady !== false) await waitReady(page);
  return page;
}

/** Each page's console messages, for a failure's message. */
const pageMessages = new WeakMap<Page, string[]>();

/** Whether the page computes on WebGPU: the banner shows where it fell back to the CPU. */
async function onWebGpu(page: Page): Promise<boolean> {
  return !(await page.locator('#banner').isVisible());
}

/** What the page says of its device, and what its console said. */
async function fallbackReason(page: Page): Promise<string> {
  const adapter = await text(page, '#bench-adapter');
  const messages = pageMessages.get(page) ?? [];
  return `${adapter}${messages.length ? ` console: ${messages.join(' | ')}` : ''}`;
}

async function waitReady(page: Page): Promise<void> {
  await page.waitForSelector('html[data-state]', { timeout: 90_000 });
  const error = await page.locator('#error').textContent();
  expect(await page.getAttribute('html', 'data-state'), error ?? '').toBe('ready');
}

async function openDemo(withWebGpu: boolean): Promise<{ browser: Browser; page: Page }> {
  const browser = await launch(withWebGpu);
  return { browser, page: await openPage(browser, withWebGpu) };
}

/** A canvas's RGBA pixels. */
function pixels(page: Page, id: string): Promise<number[]> {
  return page.evaluate((canvasId) => {
    const canvas = document.getElementById(canvasId) as HTMLCanvasElement;
    const context = canvas.getContext('2d');
    return context ? Array.from(context.getImageData(0, 0, canvas.width, canvas.height).data) : [];
  }, id);
}

function spread(values: number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
}

function meanDifference(a: number[], b: number[]): number {
  return a.reduce((sum, v, i) => sum + Math.abs(v - b[i]), 0) / a.length;
}

/** One channel (0 red, 1 green, 2 blue) of RGBA pixels, in [0, 1]. */
function channel(rgba: number[], c: number): number[] {
  return rgba.filter((_, i) => i % 4 === c).map((v) => v / 255);
}

const text = async (page: Page, selector: string) => (await page.locator(selector).textContent()) ?? '';

/** Waits until the transfer's check line has been written for the current result, and returns it. */
async function transferCheck(page: Page): Promise<string> {
  await expect
    .poll(() => text(page, '#transfer-check'), { timeout: 30_000 })
    .toMatch(/max \|shown − CPU reference\| = .* \(ε = /);
  return text(page, '#transfer-check');
}

/** The seeded TransformerNet of the browser suite (scripts/make-onnx-fixtures.py): widths 4 and 8, H and W free. */
const TEST_MODEL = `${root}test/fixtures/onnx/transformer-net.onnx`;
/** The ONNX section's input side here: ORT's WebGPU EP takes seconds a run on SwiftShader already at 32². */
const ONNX_SIDE = '16';

/** Opens section 5 and waits until ONNX Runtime Web is loaded; nothing of it (or of a model) is fetched before. */
async function openOnnxSection(page: Page): Promise<void> {
  const requested: string[] = [];
  page.on('request', (request) => requested.push(request.url()));
  await page.waitForTimeout(200);
  expect(requested.filter((u) => /onnx-section|ort\.webgpu|\.onnx$/.test(u))).toEqual([]);
  await page.locator('#onnx > summary').click();
  await page.waitForSelector('html[data-onnx="ready"]', { timeout: 60_000 });
  expect(requested.some((u) => /onnx-section/.test(u))).toBe(true);
  expect(requested.filter((u) => /\.onnx$/.test(u))).toEqual([]);
}

/** Runs the loaded model on the bundled image 'Marble' at ONNX_SIDE² and returns the section's check line. */
async function runOnnxSection(page: Page): Promise<string> {
  await page.locator('#onnx-image').selectOption({ label: 'Marble' });
  await page.locator('#onnx-size').selectOption(ONNX_SIDE);
  await page.locator('#onnx-run').click();
  await page.waitForSelector('html[data-onnx="done"], html[data-onnx="failed"]', { timeout: 150_000 });
  const error = await text(page, '#error');
  expect(await page.getAttribute('html', 'data-onnx'), error).toBe('done');
  expect(await page.getAttribute('html', 'data-state'), error).toBe('ready');
  return text(page, '#onnx-check');
}

/** The two outputs drawn, not blank, and alike; max |difference| within 1e-4 of the output's scale. */
async function expectOnnxOutputsAgree(page: Page): Promise<void> {
  const maxAbs = Number(await page.getAttribute('#onnx-check', 'data-max-abs'));
  const scale = Number(await page.getAttribute('#onnx-check', 'data-scale'));
  expect(scale).toBeGreaterThan(0);
  expect(maxAbs).toBeLessThanOrEqual(1e-4 * scale);
  const theirs = await pixels(page, 'onnx-ort');
  const ours = await pixels(page, 'onnx-library');
  expect(theirs).toHaveLength(4 * Number(ONNX_SIDE) ** 2);
  expect(spread(theirs)).toBeGreaterThan(10);
  expect(meanDifference(theirs, ours)).toBeLessThan(1);
  expect(spread(await pixels(page, 'onnx-input'))).toBeGreaterThan(10);
  expect(await text(page, '#onnx-ort-time')).toMatch(/first run [\d.]+ m?s, then [\d.]+ m?s a run/);
  expect(await text(page, '#onnx-library-time')).toMatch(/first run [\d.]+ m?s, then [\d.]+ m?s a run/);
  expect(await text(page, '#onnx-code')).toMatch(/createSession\(ort, model, options\)/);
}

async function screenshotSections(page: Page, suffix: string): Promise<void> {
  for (const section of ['transfer', 'inside', 'bench', 'compare']) {
    await page.locator(`#${section}-section`).screenshot({ path: `${results}/demo-${section}${suffix}.png` });
  }
}

describe('the demo page on WebGPU', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launch(true);
  });
  afterAll(async () => {
    await browser.close();
  });

  it('draws a result that is not blank and not the content, and follows the strength slider', async () => {
    const page = await openPage(browser, true);
    expect(await page.locator('#banner').isVisible()).toBe(false);
    expect(await page.locator('#adapter').textContent()).toMatch(/WebGPU/);
    const content = await pixels(page, 'content');
    const result = await pixels(page, 'result');
    expect(spread(result)).toBeGreaterThan(10); // not one flat colour
    expect(meanDifference(result, content)).toBeGreaterThan(10); // the style's statistics took effect
    await page.locator('#strength').fill('0.2');
    await page.waitForFunction(() => document.getElementById('strength-value')?.textContent === '0.20');
    await expect.poll(async () => meanDifference(await pixels(page, 'result'), result), { timeout: 30_000 }).toBeGreaterThan(5);
    // Weaker strength: closer to the content.
    expect(meanDifference(await pixels(page, 'result'), content)).toBeLessThan(meanDifference(result, content));
    await expect
      .poll(() => page.locator('#transfer-check').textContent(), { timeout: 30_000 })
      .toMatch(/max \|shown − CPU reference\| = /);
    await page.screenshot({ path: `${results}/demo.png`, fullPage: true });
    // The shown code is the library's adain() call, with the settings of the moment.
    expect(await text(page, '#transfer-code')).toMatch(/norm\.adain\(/);
    expect(await text(page, '#transfer-code')).toMatch(/strength 0\.20/);
    // The strength mixes adain()'s output with the content: 0 gives the content back.
    await page.locator('#strength').fill('0');
    await expect.poll(async () => meanDifference(await pixels(page, 'result'), content), { timeout: 30_000 }).toBeLessThan(1);
    await page.context().close();
  });

  it('draws the sample images and fills the drop-downs before the device is ready, with a progress line', async () => {
    const page = await openPage(browser, true, { holdDevice: true, waitReady: false });
    await page.waitForSelector('html[data-progress="device"]');
    expect(spread(await pixels(page, 'content'))).toBeGreaterThan(10);
    expect(spread(await pixels(page, 'style'))).toBeGreaterThan(10);
    expect(spread(await pixels(page, 'result'))).toBe(0); // nothing computed yet
    expect(await page.locator('#content-sample option').count()).toBe(5);
    expect(await page.locator('#style-sample option').count()).toBe(5);
    expect(await page.locator('#space option').count()).toBe(3);
    expect(await page.locator('#load-progress').isVisible()).toBe(true);
    expect(await text(page, '#load-step')).toMatch(/Requesting a WebGPU device/);
    expect(await text(page, '#transfer-code')).toMatch(/norm\.adain\(/);
    expect(await page.getAttribute('html', 'data-state')).toBeNull();
    await page.screenshot({ path: `${results}/demo-loading.png` });
    await page.evaluate(() => (window as unknown as { releaseDevice: () => void }).releaseDevice());
    await waitReady(page);
    expect(await page.locator('#load-progress').count()).toBe(0);
    expect(spread(await pixels(page, 'result'))).toBeGreaterThan(10);
    await page.context().close();
  });

  it('the ε slider changes section 1’s result and accuracy line and section 2’s views; captions give the true std', async () => {
    const page = await openPage(browser, true);
    // In RGB the channels' variances are small (about 0.01), so ε = 1 changes the result a lot.
    await page.locator('#space').selectOption('rgb');
    await expect.poll(() => text(page, '#transfer-code'), { timeout: 30_000 }).toMatch(/images in RGB/);
    const checkBefore = await transferCheck(page);
    await page.waitForTimeout(300); // the result of the colour-space change is drawn
    const resultBefore = await pixels(page, 'result');
    const afterRed = await pixels(page, 'after-red');
    const contentRed = channel(await pixels(page, 'content'), 0);

    // ε = 1e-5: the captions' std is the channel's own, sqrt(var), as measured on the canvas.
    const redCaption = await text(page, '#before figure:first-child figcaption');
    const std = Number(/std √var (\d+\.\d+)/.exec(redCaption)?.[1]);
    expect(std).toBeCloseTo(spread(contentRed), 2);

    await page.locator('#epsilon').fill('0'); // ε = 10^0 = 1
    await expect.poll(() => text(page, '#epsilon-value')).toBe('1.0e+0');
    await expect.poll(() => text(page, '#transfer-epsilon')).toBe('1.0e+0');
    await expect
      .poll(async () => meanDifference(await pixels(page, 'result'), resultBefore), { timeout: 30_000 })
      .toBeGreaterThan(5);
    const checkAfter = await transferCheck(page);
    expect(checkAfter).toMatch(/\(ε = 1\.0e\+0\)/);
    expect(checkAfter).not.toBe(checkBefore);
    expect(Number(/= (\S+) \(/.exec(checkAfter)?.[1])).toBeLessThan(1e-3);
    await expect
      .poll(async () => meanDifference(await pixels(page, 'after-red'), afterRed), { timeout: 30_000 })
      .toBeGreaterThan(5);
    await expect.poll(() => text(page, '#inside-check')).toMatch(/\(ε = 1\.0e\+0\)/);
    expect(await text(page, '#transfer-code')).toMatch(/epsilon: 1\.0e\+0/);

    // At ε = 1: std still sqrt(var); sqrt(var + ε) labelled as such; after it, the std is the expected sqrt(var / (var + ε)).
    const before = await text(page, '#before figure:first-child figcaption');
    expect(Number(/std √var (\d+\.\d+)/.exec(before)?.[1])).toBeCloseTo(std, 3);
    expect(Number(/√\(var \+ ε\) (\d+\.\d+)/.exec(before)?.[1])).toBeCloseTo(Math.sqrt(std ** 2 + 1), 3);
    const after = await text(page, '#after figure:first-child figcaption');
    const shownStd = Number(/std (\d+\.\d+)/.exec(after)?.[1]);
    expect(shownStd).toBeCloseTo(std / Math.sqrt(std ** 2 + 1), 2);
    expect(Number(/expected √\(var \/ \(var \+ ε\)\) (\d+\.\d+)/.exec(after)?.[1])).toBeCloseTo(shownStd, 2);

    // The channel views come with a colour legend.
    expect(spread(await pixels(page, 'legend-before'))).toBeGreaterThan(10);
    expect(spread(await pixels(page, 'legend-after'))).toBeGreaterThan(10);
    await page.context().close();
  });

  it('an undecodable file and a missing webcam show a clear message that a later success clears; the drop-down names an uploaded file', async () => {
    const page = await openPage(browser, true);
    const png = await page.locator('#result').screenshot(); // a real PNG to upload

    await page
      .locator('#content-file')
      .setInputFiles({ name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not an image') });
    await page.waitForSelector('html[data-state="error"]');
    expect(await text(page, '#error')).toMatch(/“notes\.png” could not be read as an image/);
    expect(await page.locator('#error').isVisible()).toBe(true);
    await page.screenshot({ path: `${results}/demo-error-file.png` });
    await page.locator('#content-sample').selectOption({ label: 'Lagoon' });
    await page.waitForSelector('html[data-state="ready"]');
    expect(await page.locator('#error').isVisible()).toBe(false);

    await page.locator('#webcam').click();
    await page.waitForSelector('html[data-state="error"]');
    const message = await text(page, '#error');
    expect(message).toMatch(/No webcam found/);
    expect(message).not.toMatch(/Requested device not found/);
    await page.screenshot({ path: `${results}/demo-error-webcam.png` });

    const styleBefore = await pixels(page, 'style');
    await page.locator('#style-file').setInputFiles({ name: 'my-style.png', mimeType: 'image/png', buffer: png });
    await page.waitForSelector('html[data-state="ready"]');
    expect(await page.locator('#error').isVisible()).toBe(false);
    expect(await page.locator('#style-sample option:checked').textContent()).toBe('Your file: my-style.png');
    expect(meanDifference(await pixels(page, 'style'), styleBefore)).toBeGreaterThan(10); // the file is drawn
    await page.context().close();
  });

  it('the benchmark draws points while it runs, with a CPU time above zero at every size', async () => {
    const page = await openPage(browser, true);
    // The chart as it is at the first poll that finds points while the benchmark runs, taken in
    // that same synchronous step: a later evaluate() may come after the run has finished.
    const snapshot = await page.waitForFunction(
      () => {
        const chart = document.getElementById('chart') as HTMLCanvasElement | null;
        const running = document.documentElement.dataset.bench;
        const points = Number(chart?.dataset.points);
        return chart && running === 'running' && points > 0 ? { points, running, png: chart.toDataURL() } : undefined;
      },
      null,
      { timeout: 60_000 },
    );
    const partial = (await snapshot.jsonValue()) as { points: number; running: string; png: string };
    writeFileSync(`${results}/demo-bench-running.png`, Buffer.from(partial.png.split(',')[1], 'base64'));
    expect(partial.running).toBe('running');
    expect(partial.points).toBeGreaterThan(0);
    expect(partial.points).toBeLessThan(2 * BENCHMARK_SIDES);
    await page.waitForSelector('html[data-bench="done"]', { timeout: 120_000 });
    expect(Number(await page.getAttribute('#chart', 'data-points'))).toBe(2 * BENCHMARK_SIDES);
    const points = JSON.parse((await page.getAttribute('#chart', 'data-results')) ?? '[]') as { cpuMs: number; gpuMs: number }[];
    expect(points).toHaveLength(BENCHMARK_SIDES);
    for (const p of points) {
      expect(p.cpuMs).toBeGreaterThan(0);
      expect(p.gpuMs).toBeGreaterThan(0);
    }
    expect(await text(page, '#bench-what')).toMatch(/WebGPU path .* against its CPU fallback/);
    // A fixed y range, the same after another run, and every size label inside the canvas.
    const range = await page.getAttribute('#chart', 'data-range');
    expect(range).toMatch(/^[\d.e-]+-[\d.e-]+ ms$/);
    expect(await page.getAttribute('#chart', 'data-labels-fit')).toBe('true');
    await page.locator('#rerun').click();
    await page.waitForSelector('html[data-bench="running"]');
    await page.waitForSelector('html[data-bench="done"]', { timeout: 120_000 });
    expect(await page.getAttribute('#chart', 'data-range')).toBe(range);
    await page.context().close();
  });

  it('the comparison loads its peers only when opened and produces a row per side, with the accuracy probe', async () => {
    const page = await openPage(browser, true);
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    await page.waitForSelector('html[data-bench="done"]', { timeout: 120_000 });
    expect(requested.filter((u) => /compare-section|\.wasm/.test(u))).toEqual([]);
    await page.locator('#compare > summary').click();
    await expect.poll(() => page.locator('#compare-run').isEnabled(), { timeout: 60_000 }).toBe(true);
    expect(requested.some((u) => /compare-section/.test(u))).toBe(true);
    // One shape of each kind, to keep it short.
    const boxes = page.locator('#compare-cases input');
    for (let i = 0; i < (await boxes.count()); i++) await boxes.nth(i).setChecked(false);
    await boxes.first().setChecked(true);
    await boxes.nth(3).setChecked(true);
    await page.locator('#compare-run').click();
    await page.waitForSelector('html[data-compare="running"]');
    await expect.poll(() => page.locator('#compare-progress').isVisible()).toBe(true);
    await page.waitForSelector('html[data-compare="done"]', { timeout: 150_000 });
    expect(await page.getAttribute('html', 'data-state')).toBe('ready');
    expect(await page.locator('#compare-table tbody tr').count()).toBe(4);
    for (const side of ['ours', 'ort', 'tfjs', 'tfjs-library']) {
      const cells = await page.locator(`#compare-table tr[data-side="${side}"] td`).allTextContents();
      const all = `${side}: ${cells.join(' | ')}`;
      // Name, two shapes' ms per call, then per kind the errors on ordinary input and on a far mean.
      expect(cells, all).toHaveLength(1 + 2 + 4);
      for (const ms of cells.slice(1, 3)) expect(Number(ms), all).toBeGreaterThan(0);
      for (const error of cells.slice(3)) expect(error, all).toMatch(/^(NaN|\d(\.\d)?e[+-]\d+|0)$/);
      // Every side computes the same thing on ordinary input (so a NaN on the far mean is the side's, not the page's).
      expect(Number(cells[3]), all).toBeLessThan(1e-3);
      expect(Number(cells[5]), all).toBeLessThan(1e-3);
    }
    // This library's own error on the far mean is within its documented 1e-4.
    const ours = await page.locator('#compare-table tr[data-side="ours"] td').allTextContents();
    for (const error of ours.slice(3)) expect(Number(error)).toBeLessThan(1e-4);
    expect(Number(await page.getAttribute('#compare-chart', 'data-bars'))).toBe(8);
    expect(requested.some((u) => /\.wasm/.test(u))).toBe(true);
    await screenshotSections(page, '');
    await page.context().close();
  });
});

describe('section 5, an ONNX model through ONNX Runtime alone and through createSession', () => {
  it('on WebGPU: the seeded TransformerNet (the page’s test model) spliced at its 15 norms, the outputs as ORT alone’s and its wasm EP’s, the plan shown', async () => {
    const browser = await launch(true);
    try {
      const page = await openPage(browser, true);
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await openOnnxSection(page);
      expect(await page.locator('#onnx-reference-label').isVisible(), await fallbackReason(page)).toBe(true);
      expect(await text(page, '#onnx-what')).toMatch(/on its WebGPU EP, alone and with this library/);

      // A file that is no model: a message naming it, cleared by the next success.
      await page
        .locator('#onnx-model-file')
        .setInputFiles({ name: 'notes.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from('not a model') });
      await page.waitForSelector('html[data-onnx="model"]');
      await page.locator('#onnx-run').click();
      await page.waitForSelector('html[data-state="error"]', { timeout: 60_000 });
      expect(await text(page, '#error')).toMatch(/“notes\.onnx” could not be loaded by ONNX Runtime Web/);

      await page.locator('#onnx-test-model').click(); // the fixture, built into the page's files
      await page.waitForSelector('html[data-onnx="model"]');
      expect(await text(page, '#onnx-model-name')).toMatch(/transformer-net\.onnx .*, 88 KB/);
      await page.locator('#onnx-reference').check();
      const check = await runOnnxSection(page);
      expect(await page.locator('#error').isVisible()).toBe(false);
      expect(check).toMatch(/max \|with this library − ONNX Runtime alone\| = \S+ over 768 values \[1, 3, 16, 16\]/);
      await expectOnnxOutputsAgree(page);
      // Both against ORT's wasm EP (CPU), within 1e-4 of the output's scale.
      const scale = Number(await page.getAttribute('#onnx-check', 'data-scale'));
      for (const side of ['data-reference-ort', 'data-reference-library']) {
        expect(Number(await page.getAttribute('#onnx-check', side)), side).toBeLessThanOrEqual(1e-4 * scale);
      }
      expect(check).toMatch(/Against ORT's wasm EP \(CPU\): ONNX Runtime alone \S+, with this library \S+\./);

      // The plan: 16 ORT stretches around 15 library steps, with their epilogues and the shapes they ran on.
      expect(await page.getAttribute('#onnx-plan', 'data-mode')).toBe('spliced');
      expect(await text(page, '#onnx-plan-summary')).toBe(
        'Spliced: 15 normalizations run by this library (10 × InstanceNormalization + Relu; 5 × InstanceNormalization + residual Add), 16 stretches of the graph run by ONNX Runtime as sessions of their own.',
      );
      expect(await page.locator('#onnx-plan-steps tbody tr[data-runs="library"]').count()).toBe(15);
      expect(await page.locator('#onnx-plan-steps tbody tr[data-runs="ort"]').count()).toBe(16);
      const first = await page.locator('#onnx-plan-steps tbody tr').nth(1).locator('td').allTextContents();
      expect(first.join(' | ')).toMatch(
        /^2 \| this library \| InstanceNormalization \+ Reluε = 0\.00001, nchw.* \| \[1, 4, 16, 16\]$/,
      );
      expect(pageErrors).toEqual([]);
      await page.locator('#onnx-section').screenshot({ path: `${results}/demo-onnx.png` });
    } finally {
      await browser.close();
    }
  });

  it('without WebGPU: ORT’s wasm EP runs the model on both sides, and the plan says why nothing was taken over', async () => {
    const browser = await launch(false);
    try {
      const page = await openPage(browser, false);
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await openOnnxSection(page);
      expect(await page.locator('#onnx-reference-label').isVisible()).toBe(false);
      expect(await text(page, '#onnx-what')).toMatch(
        /WebGPU is unavailable here: both sides run on ONNX Runtime Web .*'s wasm EP/,
      );
      // The model as a visitor gives it: the fixture's file through the file input.
      await page.locator('#onnx-model-file').setInputFiles(TEST_MODEL);
      await page.waitForSelector('html[data-onnx="model"]');
      await page.locator('#onnx-range').selectOption('1');
      await page.locator('#onnx-display').selectOption('stretch');
      await runOnnxSection(page);
      await expectOnnxOutputsAgree(page);
      expect(await page.getAttribute('#onnx-plan', 'data-mode')).toBe('ort');
      expect(await text(page, '#onnx-plan-summary')).toBe(
        'ONNX Runtime ran the whole model as one session of its own: WebGPU is missing in this context (navigator.gpu).',
      );
      expect(await page.locator('#onnx-plan-steps').count()).toBe(0);
      expect(pageErrors).toEqual([]);
      await page.locator('#onnx-section').screenshot({ path: `${results}/demo-onnx-cpu.png` });
    } finally {
      await browser.close();
    }
  });
});

describe('the demo page without WebGPU', () => {
  it('without WebGPU shows the banner and still reaches ready on the CPU fallback', async () => {
    const { browser, page } = await openDemo(false);
    try {
      expect(await page.locator('#banner').isVisible()).toBe(true);
      expect(await page.locator('#adapter').textContent()).toMatch(/CPU fallback/);
      const result = await pixels(page, 'result');
      expect(spread(result)).toBeGreaterThan(10);
      expect(meanDifference(result, await pixels(page, 'content'))).toBeGreaterThan(10);
      await page.screenshot({ path: `${results}/demo-cpu.png`, fullPage: true });
    } finally {
      await browser.close();
    }
  });

  it('says only true things: no speed claim, the benchmark named as what it measures, no self-comparison, a CPU comparison', async () => {
    const { browser, page } = await openDemo(false);
    try {
      const banner = await text(page, '#banner');
      expect(banner).not.toMatch(/slower|faster/i);
      expect(banner).toMatch(/CPU fallback/);
      for (const id of ['#transfer-check', '#inside-check']) {
        const line = await text(page, id);
        expect(line).not.toMatch(/shown − CPU reference/);
        expect(line).toMatch(/CPU fallback, the library’s float64 reference itself/);
      }
      expect(await text(page, '#footer')).toMatch(/no second computation/);
      await page.waitForSelector('html[data-bench="done"]', { timeout: 120_000 });
      const what = await text(page, '#bench-what');
      expect(what).not.toMatch(/GPU path against|against the CPU/);
      expect(what).toMatch(/CPU fallback .* There is no GPU line/);
      expect(Number(await page.getAttribute('#chart', 'data-points'))).toBe(BENCHMARK_SIDES);
      expect(await page.locator('#bench-swiftshader').isVisible()).toBe(false);

      await page.locator('#compare > summary').click();
      await expect.poll(() => page.locator('#compare-run').isEnabled(), { timeout: 60_000 }).toBe(true);
      expect(await text(page, '#compare-what')).toMatch(/WebGPU is unavailable here, so this compares CPU implementations/);
      const boxes = page.locator('#compare-cases input');
      for (let i = 1; i < (await boxes.count()); i++) await boxes.nth(i).setChecked(false);
      await page.locator('#compare-run').click();
      await page.waitForSelector('html[data-compare="done"]', { timeout: 150_000 });
      expect(await page.locator('#compare-table tbody tr').count()).toBe(4);
      expect(await text(page, '#compare-table tr[data-side="ours"]')).toMatch(/CPU fallback/);
      expect(await text(page, '#compare-table tr[data-side="ort"]')).toMatch(/wasm EP, CPU/);
      expect(await text(page, '#compare-table tr[data-side="tfjs"]')).toMatch(/not run: its WebGPU backend needs WebGPU/);
      expect(await text(page, '#compare-table tr[data-side="tfjs-library"]')).toMatch(/not run/);
      for (const side of ['ours', 'ort']) {
        const cells = await page.locator(`#compare-table tr[data-side="${side}"] td`).allTextContents();
        expect(Number(cells[1]), cells.join(' | ')).toBeGreaterThan(0);
      }
      // The CPU fallback is the reference: no error of it against itself is shown.
      const ours = await page.locator('#compare-table tr[data-side="ours"] td').allTextContents();
      expect(ours.slice(2)).toEqual(['is the reference itself', 'is the reference itself']);
      const ort = await page.locator('#compare-table tr[data-side="ort"] td').allTextContents();
      expect(Number(ort[2]), ort.join(' | ')).toBeLessThan(1e-3);
      await screenshotSections(page, '-cpu');
    } finally {
      await browser.close();
    }
  });
});
