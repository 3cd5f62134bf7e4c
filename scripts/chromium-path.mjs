// Where the browser tests find Chromium: $CHROMIUM_PATH, else Debian's /usr/bin/chromium,
// else undefined, meaning Playwright's own download (if `npx playwright install chromium` ran).
import { existsSync } from 'node:fs';

export const DEBIAN_CHROMIUM = '/usr/bin/chromium';

export function chromiumPath() {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  if (existsSync(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;
  return undefined;
}

// Flags that give WebGPU in headless Chromium (through SwiftShader where there is no GPU) and
// keep it from reaching for the network, which this kind of machine does not have.
export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

// Chromium's WebGPU compatibility mode: requestAdapter({ featureLevel: 'compatibility' }) then gives
// an OpenGL ES adapter (through ANGLE, on SwiftShader where there is no GPU). For the
// compatibility project only: these flags change the adapter of every request.
export const CHROMIUM_COMPATIBILITY_ARGS = [
  '--enable-features=WebGPUCompatibilityMode',
  '--use-webgpu-adapter=opengles',
  '--use-gl=angle',
  '--use-angle=swiftshader',
];
