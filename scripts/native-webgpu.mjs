// WebGPU for Node: Dawn through the `webgpu` package, which is not a dependency of this project
// (130 MB of native builds for every platform): `npm install --no-save webgpu` where it is wanted.
// Installs navigator.gpu and the WebGPU globals (GPUBufferUsage, ...) as a browser has them.

export async function installNativeWebGpu() {
  const webgpu = await import('webgpu').catch(() => {
    throw new Error("the native WebGPU runs need the 'webgpu' package: npm install --no-save webgpu");
  });
  Object.assign(globalThis, webgpu.globals);
  const gpu = webgpu.create([]);
  // On the prototype, as in a browser: a test that shadows navigator.gpu and deletes its own
  // property gets the real one back.
  const navigator = Object.create({ gpu, userAgent: `Node.js ${process.version}` });
  Object.defineProperty(globalThis, 'navigator', { value: navigator, configurable: true, writable: true });
}
