import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright';
import { build, type PreviewServer, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, chromiumPath } from '../scripts/chromium-path.mjs';

// End to end: the built demo (npm run build:demo) served as a static site, in headless Chromium
// with WebGPU, then with WebGPU turned off.

const root = fileURLToPath(new URL('..', import.meta.url));
const demoConfig = {
  root: `${root}demo`,
  base: './',
  configFile: false as const,
  logLevel: 'error' as const,
  build: { outDir: `${root}dist-demo`, emptyOutDir: true },
};
let server: PreviewServer;
let url: string;

beforeAll(async () => {
  await build(demoConfig);
  server = await preview({ ...demoConfig, preview: { port: 0, host: 'localhost' } });
  url = `http://localhost:${(server.httpServer.address() as AddressInfo).port}/`;
  mkdirSync(`${root}test-results`, { recursive: true });
}, 120_000);

afterAll(async () => {
  await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
});

async function openDemo(withWebGpu: boolean): Promise<{ browser: Browser; page: Page }> {
  const args = withWebGpu ? CHROMIUM_ARGS : CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu');
  const browser = await chromium.launch({ executablePath: chromiumPath(), args });
  const page = await browser.newPage({ viewport: { width: 1280, height: 1800 } });
  if (!withWebGpu) {
    await page.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true });
    });
  }
  await page.goto(url);
  await page.waitForSelector('html[data-state]', { timeout: 90_000 });
  const error = await page.locator('#error').textContent();
  expect(await page.getAttribute('html', 'data-state'), error ?? '').toBe('ready');
  return { browser, page };
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

describe('the demo page', () => {
  it('draws a result that is not blank and not the content, and follows the strength slider', async () => {
    const { browser, page } = await openDemo(true);
    try {
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
      await page.screenshot({ path: `${root}test-results/demo.png`, fullPage: true });
    } finally {
      await browser.close();
    }
  });

  it('without WebGPU shows the banner and still reaches ready on the CPU fallback', async () => {
    const { browser, page } = await openDemo(false);
    try {
      expect(await page.locator('#banner').isVisible()).toBe(true);
      expect(await page.locator('#adapter').textContent()).toMatch(/CPU fallback/);
      const result = await pixels(page, 'result');
      expect(spread(result)).toBeGreaterThan(10);
      expect(meanDifference(result, await pixels(page, 'content'))).toBeGreaterThan(10);
      await page.screenshot({ path: `${root}test-results/demo-cpu.png`, fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
