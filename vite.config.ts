import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import { CHROMIUM_ARGS, chromiumPath } from './scripts/chromium-path.mjs';

// The fuzz test: a fixed seed and a short run by default (CI), longer with `npm run fuzz`.
const fuzzRuns = Number(process.env.FUZZ_RUNS ?? 200);
const fuzzSeed = Number(process.env.FUZZ_SEED ?? (process.env.FUZZ_RUNS ? Date.now() % 2 ** 31 : 20261125));

// One config for the library build (`vite build`), the demo (`vite demo`) and the tests.
export default defineConfig({
  build: {
    lib: { entry: 'src/index.ts', formats: ['es'], fileName: 'webgpu-instancenorm' },
    outDir: 'dist',
    sourcemap: true,
    minify: false,
    target: 'es2022',
  },
  test: {
    projects: [
      {
        extends: true,
        test: { name: 'node', include: ['test/**/*.node.test.ts'], environment: 'node' },
      },
      {
        extends: true,
        // The built demo in Chromium, driven by Playwright from Node.
        test: { name: 'e2e', include: ['test/**/*.e2e.test.ts'], environment: 'node', testTimeout: 180_000 },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['test/**/*.browser.test.ts'],
          testTimeout: 600_000,
          provide: { fuzzRuns, fuzzSeed },
          browser: {
            enabled: true,
            headless: true,
            // SwiftShader runs on the CPU: two test files at once only slow each other down.
            fileParallelism: false,
            provider: playwright({
              launchOptions: { executablePath: chromiumPath(), args: CHROMIUM_ARGS },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
