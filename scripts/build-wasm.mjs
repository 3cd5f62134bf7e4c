// `npm run build:wasm`: assembles wasm/cpu-kernels.wat into src/cpu-kernels-wasm.ts, the module's
// bytes as base64, so the library, the tests, the bench and the demo load it with no build step
// of their own. test/cpu-simd.node.test.ts fails when the committed bytes are not the .wat's.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabt from 'wabt';

/** The .wat's module, assembled: a Uint8Array. */
export async function assembleCpuKernels() {
  const source = readFileSync(fileURLToPath(new URL('../wasm/cpu-kernels.wat', import.meta.url)), 'utf8');
  const module = (await wabt()).parseWat('cpu-kernels.wat', source, { simd: true });
  try {
    return module.toBinary({}).buffer;
  } finally {
    module.destroy();
  }
}

/** The text of src/cpu-kernels-wasm.ts for these bytes. */
export function cpuKernelsModuleText(bytes) {
  return `// Generated from wasm/cpu-kernels.wat by \`npm run build:wasm\`: do not edit.
/** The WebAssembly module of wasm/cpu-kernels.wat, base64. */
export const CPU_KERNELS_WASM_BASE64 =
  '${Buffer.from(bytes).toString('base64')}';
`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const bytes = await assembleCpuKernels();
  writeFileSync(new URL('../src/cpu/cpu-kernels-wasm.ts', import.meta.url), cpuKernelsModuleText(bytes));
  console.log(`src/cpu-kernels-wasm.ts: ${bytes.length} bytes of WebAssembly`);
}
