// Helpers of the TF.js tests (test/tfjs-*.test.ts).
import * as tf from '@tensorflow/tfjs-core';
import { instanceNormReady } from '../src/tfjs';
import { libraryBuffer, watchBuffers } from './helpers/live-buffers';

/** TF.js's WebGPU backend, as far as these tests look into it. */
export interface WebGpuBackendView {
  device: GPUDevice;
  makeTensorInfo(shape: number[], dtype: 'float32', values?: Float32Array): tf.TensorInfo;
  uploadToGPU(dataId: tf.TensorInfo['dataId']): void;
  disposeData(dataId: tf.TensorInfo['dataId']): boolean;
  tensorMap: { get(dataId: tf.TensorInfo['dataId']): { resource?: unknown } };
}

/** Switches TF.js to `name` ('webgpu' or 'cpu') and waits until the library is ready there. */
export async function useBackend(name: string): Promise<void> {
  if (tf.getBackend() !== name) {
    if (!(await tf.setBackend(name))) throw new Error(`TF.js could not start its ${name} backend`);
  }
  await tf.ready();
  await instanceNormReady();
}

export function webGpuBackend(): WebGpuBackendView {
  return tf.backend() as unknown as WebGpuBackendView;
}

/**
 * Leaves `count` GPU buffers of a float32 tensor of `shape`, filled with NaN, in the free pool of
 * TF.js's WebGPU buffer manager: the next tensors of that size (inputs uploaded, then outputs)
 * get them, so an output element a kernel fails to write reads NaN.
 */
export async function poisonPool(shape: readonly number[], count = 4): Promise<void> {
  const backend = webGpuBackend();
  const size = shape.reduce((a, b) => a * b, 1);
  const infos = Array.from({ length: count }, () => {
    const info = backend.makeTensorInfo([...shape], 'float32', new Float32Array(size).fill(Number.NaN));
    backend.uploadToGPU(info.dataId);
    return info;
  });
  await backend.device.queue.onSubmittedWorkDone();
  for (const info of infos) backend.disposeData(info.dataId);
}

/**
 * Counts the GPU buffers the library creates on `device` (labelled InstanceNorm.*) and those of
 * them not destroyed yet; `copies` counts copyBufferToBuffer calls and `maps` mapAsync calls
 * on the device's buffers, while `watch` is on.
 */
export function watchDevice(device: GPUDevice) {
  const buffers = watchBuffers(device, libraryBuffer);
  const counts = {
    get created() {
      return buffers.created();
    },
    copies: 0,
    maps: 0,
  };
  const copy = GPUCommandEncoder.prototype.copyBufferToBuffer;
  const map = GPUBuffer.prototype.mapAsync;
  GPUCommandEncoder.prototype.copyBufferToBuffer = function (this: GPUCommandEncoder, ...args: unknown[]) {
    counts.copies++;
    return (copy as (...a: unknown[]) => void).apply(this, args);
  } as typeof copy;
  GPUBuffer.prototype.mapAsync = function (this: GPUBuffer, ...args: unknown[]) {
    counts.maps++;
    return (map as (...a: unknown[]) => Promise<undefined>).apply(this, args);
  } as typeof map;
  return {
    live: buffers.live,
    counts,
    /** Restores createBuffer, copyBufferToBuffer and mapAsync. */
    stop() {
      buffers.stop();
      GPUCommandEncoder.prototype.copyBufferToBuffer = copy;
      GPUBuffer.prototype.mapAsync = map;
    },
  };
}

/** The largest |a - b| over the largest |b|: the relative difference the gradient tests bound. */
export function relativeDifference(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    worst = Math.max(worst, Number.isNaN(a[i]) ? Infinity : Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? worst : worst / scale;
}
