import { defineConfig } from 'vitest/config';

// `npm run test:native`: the GPU suite on a native WebGPU (Dawn in Node) instead of Chromium,
// for a machine with a real GPU and no browser: `npm install --no-save webgpu` first. The
// examples file is left out: it runs ONNX Runtime Web and TensorFlow.js, which need a browser.
export default defineConfig({
  test: {
    include: ['test/**/*.browser.test.ts'],
    exclude: ['test/examples.browser.test.ts'],
    environment: 'node',
    setupFiles: ['test/native-webgpu.setup.ts'],
    testTimeout: 600_000,
    fileParallelism: false,
    provide: { fuzzRuns: Number(process.env.FUZZ_RUNS ?? 200), fuzzSeed: Number(process.env.FUZZ_SEED ?? 20261125) },
  },
});
