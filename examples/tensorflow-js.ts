/**
 * Normalizing a TensorFlow.js tensor on the GPU, without a round trip through the CPU: the
 * WebGPU backend's GPUDevice is shared with InstanceNorm, `dataToGPU()` hands over the
 * tensor's buffer, and `tf.tensor({ buffer })` wraps the result back into a tensor.
 */

import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import { InstanceNorm } from '../src';

export interface TfjsExampleResult {
  /** The intermediate TF.js tensor (Relu of the input), read back only to check the example. */
  readonly intermediate: Float32Array;
  /** InstanceNorm of it, computed on TF.js's device and read through a TF.js tensor. */
  readonly normalized: Float32Array;
}

export async function normalizeTfjsTensor(
  input: Float32Array,
  shape: readonly number[],
  scale: Float32Array,
  bias: Float32Array,
): Promise<TfjsExampleResult> {
  await tf.setBackend('webgpu');
  await tf.ready();
  const device = (tf.backend() as WebGPUBackend).device;
  const norm = await InstanceNorm.create({ device });

  const intermediate = tf.relu(tf.tensor(input, [...shape]));
  const gpuData = intermediate.dataToGPU(); // { buffer, tensorRef }: the tensor's own GPU buffer
  if (!gpuData.buffer) throw new Error('dataToGPU() gave no GPU buffer: is the backend webgpu?');
  const normalizedBuffer = device.createBuffer({
    label: 'example.normalized',
    size: input.byteLength,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder();
  norm.encode(encoder, gpuData.buffer, normalizedBuffer, shape, { scale, bias });
  device.queue.submit([encoder.finish()]);
  await norm.checkErrors();

  // Back into TF.js, still on the GPU: the next layer takes it as a tensor.
  const normalized = tf.tensor({ buffer: normalizedBuffer }, [...shape], 'float32');
  const result = {
    intermediate: (await intermediate.data()) as Float32Array,
    normalized: (await normalized.data()) as Float32Array,
  };
  gpuData.tensorRef.dispose();
  tf.dispose([intermediate, normalized]);
  norm.destroy();
  return result;
}
