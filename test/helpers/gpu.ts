import { expect } from 'vitest';
import type { InstanceNorm, InstanceNormOptions } from '../../src';

/** A storage buffer holding `data`, for encode(). */
export function storageBuffer(device: GPUDevice, data: Float32Array, extraUsage = 0): GPUBuffer {
  const buffer = device.createBuffer({
    label: 'test.storage',
    size: Math.max(16, data.byteLength),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | extraUsage,
    mappedAtCreation: true,
  });
  new Float32Array(buffer.getMappedRange(), 0, data.length).set(data);
  buffer.unmap();
  return buffer;
}

export async function readBuffer(device: GPUDevice, buffer: GPUBuffer, length: number): Promise<Float32Array> {
  const readback = device.createBuffer({ size: length * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, 0, readback, 0, length * 4);
  device.queue.submit([encoder.finish()]);
  await readback.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(readback.getMappedRange().slice(0));
  readback.destroy();
  return out;
}

/**
 * Normalizes on the GPU through encode() into an output buffer poisoned with NaN, so an
 * element the kernels never write fails the comparison. Asserts no WebGPU error was raised.
 */
export async function normalizeOnGpu(
  norm: InstanceNorm,
  input: Float32Array,
  shape: readonly number[],
  options?: InstanceNormOptions,
): Promise<Float32Array> {
  const device = norm.device!;
  device.pushErrorScope('validation');
  const inputBuffer = storageBuffer(device, input);
  const outputBuffer = storageBuffer(device, new Float32Array(input.length).fill(Number.NaN));
  const encoder = device.createCommandEncoder();
  norm.encode(encoder, inputBuffer, outputBuffer, shape, options);
  device.queue.submit([encoder.finish()]);
  const output = await readBuffer(device, outputBuffer, input.length);
  await norm.checkErrors();
  expect((await device.popErrorScope())?.message).toBeUndefined();
  inputBuffer.destroy();
  outputBuffer.destroy();
  return output;
}
