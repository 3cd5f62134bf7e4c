// What kind of value an argument is, by its brand rather than instanceof, so that typed arrays
// and WebGPU objects from another realm (a same-origin iframe) are recognised: instanceof
// compares with this realm's constructors only. Object.prototype.toString reads a typed
// array's internal type name, and the class string WebIDL gives every WebGPU interface.

const brand = (value: unknown): string => Object.prototype.toString.call(value);

export function isFloat32Array(value: unknown): value is Float32Array {
  return ArrayBuffer.isView(value) && brand(value) === '[object Float32Array]';
}

export function isUint16Array(value: unknown): value is Uint16Array {
  return ArrayBuffer.isView(value) && brand(value) === '[object Uint16Array]';
}

export function isGpuBuffer(value: unknown): value is GPUBuffer {
  return typeof value === 'object' && value !== null && brand(value) === '[object GPUBuffer]';
}

export function isGpuDevice(value: unknown): value is GPUDevice {
  return typeof value === 'object' && value !== null && brand(value) === '[object GPUDevice]';
}

export function isGpuCommandEncoder(value: unknown): value is GPUCommandEncoder {
  return typeof value === 'object' && value !== null && brand(value) === '[object GPUCommandEncoder]';
}
