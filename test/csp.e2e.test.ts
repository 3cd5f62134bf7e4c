import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, chromiumPath } from '../scripts/chromium-path.mjs';

// The CPU fallback under a content security policy that forbids compiling WebAssembly: it must
// fall back to its JavaScript loops, not throw. The library built as one module, served by a
// page whose policy is `script-src 'self'` (no 'wasm-unsafe-eval'), and by one without a policy.

const root = fileURLToPath(new URL('..', import.meta.url));
let library = '';
let server: Server;
let origin: string;

// The page's module: WebAssembly allowed or not, and instanceNormCpu against plain float64 loops
// on seeded data, nchw and nhwc.
const PAGE_MODULE = `
import { instanceNormCpu } from './library.js';
window.addEventListener('error', (event) => { document.body.dataset.error = event.message; });
let wasmCompiles = true;
try { new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])); } catch { wasmCompiles = false; }
let state = 7;
const random = () => ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32) * 4 - 1;
const N = 2, C = 12, S = 37;
const x = Float32Array.from({ length: N * C * S }, random);
const worst = { nchw: 0, nhwc: 0 };
for (const layout of ['nchw', 'nhwc']) {
  const shape = layout === 'nchw' ? [N, C, S] : [N, S, C];
  const y = instanceNormCpu(x, shape, { layout, epsilon: 1e-5 });
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
    const at = (s) => layout === 'nchw' ? (n * C + c) * S + s : (n * S + s) * C + c;
    let sum = 0, squares = 0;
    for (let s = 0; s < S; s++) sum += x[at(s)];
    const mean = sum / S;
    for (let s = 0; s < S; s++) squares += (x[at(s)] - mean) ** 2;
    const invStd = 1 / Math.sqrt(squares / S + 1e-5);
    for (let s = 0; s < S; s++) worst[layout] = Math.max(worst[layout], Math.abs(y[at(s)] - (x[at(s)] - mean) * invStd));
  }
}
window.result = { wasmCompiles, worst };
`;

beforeAll(async () => {
  const output = await build({
    root,
    configFile: false,
    logLevel: 'error',
    build: { lib: { entry: `${root}src/index.ts`, formats: ['es'], fileName: 'library' }, write: false, minify: false },
  });
  const chunks = (Array.isArray(output) ? output : [output]).flatMap((o) => ('output' in o ? o.output : []));
  library = chunks.map((chunk) => ('code' in chunk ? chunk.code : '')).join('\n');
  server = createServer((request, response) => {
    const [path, query] = (request.url ?? '/').split('?');
    const headers: Record<string, string> = query === 'csp' ? { 'content-security-policy': "script-src 'self'" } : {};
    if (path === '/') {
      response.writeHead(200, { ...headers, 'content-type': 'text/html' });
      response.end('<!doctype html><script type="module" src="/page.js"></script>');
    } else if (path === '/page.js' || path === '/library.js') {
      response.writeHead(200, { ...headers, 'content-type': 'text/javascript' });
      response.end(path === '/page.js' ? PAGE_MODULE : library);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  origin = `http://localhost:${(server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function runPage(query: string) {
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${origin}/${query}`);
    await page.waitForFunction(() => 'result' in window || document.body.dataset.error, null, { timeout: 30_000 });
    expect(errors).toEqual([]);
    return await page.evaluate(
      () => (window as unknown as { result: { wasmCompiles: boolean; worst: Record<string, number> } }).result,
    );
  } finally {
    await browser.close();
  }
}

describe('the CPU fallback and content security policies', () => {
  it("falls back to its JavaScript loops where the policy forbids WebAssembly (no 'wasm-unsafe-eval')", async () => {
    const { wasmCompiles, worst } = await runPage('?csp');
    expect(wasmCompiles).toBe(false);
    expect(worst.nchw).toBeLessThan(1e-6);
    expect(worst.nhwc).toBeLessThan(1e-6);
  });

  it('runs the WebAssembly loops where there is no policy, with the same results', async () => {
    const { wasmCompiles, worst } = await runPage('');
    expect(wasmCompiles).toBe(true);
    expect(worst.nchw).toBeLessThan(1e-6);
    expect(worst.nhwc).toBeLessThan(1e-6);
  });
});
