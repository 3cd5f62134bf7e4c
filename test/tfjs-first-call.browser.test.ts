import '@tensorflow/tfjs-backend-cpu';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { instanceNormCpu } from '../src';
import { instanceNorm, instanceNormReady } from '../src/tfjs';
import { expectClose } from './helpers/compare';
import { randomNormal } from './helpers/random';
import { webGpuBackend } from './tfjs-shared';

// The calls on a WebGPU device the library has not made its instance for yet (no
// instanceNormReady() awaited): they run on the CPU implementation, reading the tensors back,
// and give the same numbers; once the instance exists, calls run on the GPU. A backend of its
// own on a fresh device, registered under TF.js's 'webgpu' name (this file runs alone in its page).
it('before instanceNormReady(), a call on a fresh WebGPU device gives the reference on the CPU path; after it, on the GPU', async () => {
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter');
  const device = await adapter.requestDevice();
  tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', async () => new WebGPUBackend(device));
  expect(await tf.setBackend('webgpu')).toBe(true);
  const backend = webGpuBackend();
  const onGpu = (t: tf.Tensor) => backend.tensorMap.get(t.dataId).resource instanceof GPUBuffer;
  const shape = [2, 5, 6, 4];
  const x = randomNormal(2 * 5 * 6 * 4, 11, 1, 2);
  const expected = instanceNormCpu(x, shape, { layout: 'nhwc', epsilon: 1e-3 });
  const input = tf.tensor(x, shape);
  const first = instanceNorm(input); // synchronously after setBackend: the instance is not ready yet
  expect(onGpu(first), 'the first output is values written from the CPU').toBe(false);
  expectClose((await first.data()) as Float32Array, expected, 1e-4);
  await instanceNormReady();
  const second = instanceNorm(input);
  expect(onGpu(second), 'the second output is a GPU buffer written by the library').toBe(true);
  expectClose((await second.data()) as Float32Array, expected, 1e-4);
  tf.dispose([input, first, second]);
});
