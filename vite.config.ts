import { fileURLToPath } from 'node:url';
import { playwright } from '@vitest/browser-playwright';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';
import { CHROMIUM_ARGS, CHROMIUM_COMPATIBILITY_ARGS, chromiumPath } from './scripts/chromium-path.mjs';
import {
  FIREFOX_CORE_TESTS,
  FIREFOX_PREFS,
  firefoxEnv,
  firefoxPlan,
  firefoxVulkanDriver,
  tolerateUnknownBidiCommands,
} from './scripts/firefox-path.mjs';

// The fuzz test: a fixed seed and a short run by default (CI), longer with `npm run fuzz`.
const fuzzRuns = Number(process.env.FUZZ_RUNS ?? 200);
const fuzzSeed = Number(process.env.FUZZ_SEED ?? (process.env.FUZZ_RUNS ? Date.now() % 2 ** 31 : 20261125));

const libraryEntry = fileURLToPath(new URL('src/index.ts', import.meta.url));

/**
 * In the build, the adapters' entries (webgpu-instancenorm/tfjs, webgpu-instancenorm/onnxruntime)
 * import the library by the package's name, so that dist/tfjs.js and dist/onnxruntime.js share the
 * app's one copy of dist/webgpu-instancenorm.js (and its classes) and that stays one module with
 * no imports, rather than all of them becoming wrappers of a shared chunk.
 */
const adaptersImportThePackage: Plugin = {
  name: 'adapter-entries-import-the-package',
  apply: 'build',
  enforce: 'pre',
  async resolveId(source, importer) {
    if (!importer || importer === libraryEntry) return null;
    const resolved = await this.resolve(source, importer, { skipSelf: true });
    return resolved?.id === libraryEntry ? { id: 'webgpu-instancenorm', external: true } : null;
  },
};

// The GPU suite on Firefox's WebGPU (wgpu) too, a second implementation beside Chromium's Dawn:
// `npm test` runs its core subset there (FIREFOX_CORE_TESTS, scripts/firefox-path.mjs) where a
// Firefox and a CPU Vulkan driver for it are found, `npm run test:firefox` the whole suite
// (VITEST_FIREFOX=1), VITEST_FIREFOX=0 nothing.
const firefoxRun = firefoxPlan();
const firefox = firefoxRun.mode === 'off' ? undefined : firefoxRun.firefox;
if (firefox) tolerateUnknownBidiCommands();
// The config is loaded again in each worker: say it once.
if (!process.env.INSTANCENORM_FIREFOX_NAMED) {
  process.env.INSTANCENORM_FIREFOX_NAMED = '1';
  if (firefoxRun.mode === 'off') {
    console.warn(`[firefox] not run: ${firefoxRun.reason}; the whole GPU suite runs on Chromium (project browser)`);
  } else if (firefoxRun.mode === 'full') {
    console.log(`[firefox] the whole GPU suite on ${firefox}, Vulkan driver: ${firefoxVulkanDriver()}`);
  } else {
    console.log(
      `[firefox] a core subset of the GPU suite on ${firefox}, Vulkan driver: ${firefoxVulkanDriver()}; ` +
        `the whole suite runs on Chromium (project browser), all of it on Firefox with \`npm run test:firefox\`. ` +
        `On Firefox: ${FIREFOX_CORE_TESTS.map((file) => file.replace(/^test\/|\.browser\.test\.ts$/g, '')).join(', ')}`,
    );
  }
}
const COMPATIBILITY_TEST = 'test/compatibility-mode.browser.test.ts';

// One config for the library build (`vite build`), the demo (`vite demo`) and the tests.
export default defineConfig({
  plugins: [adaptersImportThePackage],
  build: {
    // Three entry points: the library (no imports); webgpu-instancenorm/tfjs, which imports it and
    // TensorFlow.js (peer dependencies, left to the app); webgpu-instancenorm/onnxruntime, which
    // imports it and is handed the app's ONNX Runtime module (never imported at run time).
    lib: {
      entry: { 'webgpu-instancenorm': 'src/index.ts', tfjs: 'src/tfjs/index.ts', onnxruntime: 'src/onnxruntime/index.ts' },
      formats: ['es'],
      fileName: (_format, name) => `${name}.js`,
    },
    rollupOptions: { external: [/^@tensorflow\//, /^onnxruntime-/] },
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
          exclude: [COMPATIBILITY_TEST],
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
      {
        extends: true,
        // Chromium's compatibility mode: WebGPU on OpenGL ES (ANGLE on SwiftShader without a GPU).
        test: {
          name: 'compatibility',
          include: [COMPATIBILITY_TEST],
          testTimeout: 600_000,
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({
              launchOptions: { executablePath: chromiumPath(), args: [...CHROMIUM_ARGS, ...CHROMIUM_COMPATIBILITY_ARGS] },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
      ...(firefox
        ? [
            {
              extends: true as const,
              test: {
                name: 'firefox',
                include: firefoxRun.mode === 'full' ? ['test/**/*.browser.test.ts'] : [...FIREFOX_CORE_TESTS],
                exclude: [COMPATIBILITY_TEST],
                testTimeout: 600_000,
                provide: { fuzzRuns, fuzzSeed },
                browser: {
                  enabled: true,
                  headless: true,
                  fileParallelism: false,
                  provider: playwright({
                    launchOptions: {
                      channel: 'moz-firefox',
                      executablePath: firefox,
                      firefoxUserPrefs: FIREFOX_PREFS,
                      env: firefoxEnv(),
                    },
                  }),
                  instances: [{ browser: 'firefox' as const }],
                },
              },
            },
          ]
        : []),
    ],
  },
});
