// Serves a built app (a folder of static files) from http://localhost and opens it in headless
// Chromium with WebGPU (SwiftShader where there is no GPU), driven by Playwright with the system
// Chromium. Returns what the page put in document.body.dataset.result (JSON) or dataset.error.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { chromium } from 'playwright';
import { CHROMIUM_ARGS, chromiumPath } from '../chromium-path.mjs';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
};

/** A static file server for `folder` on localhost, on a free port. */
async function serve(folder) {
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    const file = normalize(join(folder, path === '/' ? 'index.html' : path));
    if (!file.startsWith(folder + sep)) return response.writeHead(403).end();
    try {
      const body = await readFile(file);
      response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, 'localhost', resolve));
  return { server, origin: `http://localhost:${server.address().port}` };
}

/**
 * Serves `folder`, opens `path` in it and waits for the page's report.
 * @returns {Promise<{ result?: unknown, error?: string, logs: string[] }>}
 */
export async function runInChromium(folder, path = '/', { timeout = 90_000 } = {}) {
  const { server, origin } = await serve(normalize(folder));
  const executablePath = chromiumPath();
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  const logs = [];
  try {
    const page = await browser.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') logs.push(`console.${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => logs.push(`page error: ${error.message}`));
    page.on('requestfailed', (request) => logs.push(`request failed: ${request.url()}`));
    await page.goto(`${origin}${path}`);
    try {
      await page.waitForFunction(() => document.body?.dataset.result ?? document.body?.dataset.error, undefined, { timeout });
    } catch (error) {
      return { error: `no report from ${path} within ${timeout / 1000} s (${error.message.split('\n')[0]})`, logs };
    }
    const { result, error } = await page.evaluate(() => ({ ...document.body.dataset }));
    return { result: result === undefined ? undefined : JSON.parse(result), error, logs };
  } finally {
    await browser.close();
    await new Promise((resolve) => server.close(resolve));
  }
}
