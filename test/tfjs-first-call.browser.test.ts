import '@tensorflow/tfjs-backend-cpu';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { instanceNormCpu } from '../src';
import { instanceNorm } from '../src/tfjs';
import { expectClose } from './helpers/compare';
import { randomNormal } from './helpers/random';
import { webGpuBackend } from './tfjs-shared';

// The first call on a WebGPU device the library has not seen (no instanceNormReady() awaited)
// runs on the GPU: the library makes its instance for the device synchronously. A backend of its
// own on a fresh device, registered under TF.js's 'webgpu' name (this file runs alone in its page).
it('the first call on a fresh WebGPU device, synchronously after setBackend, runs on the GPU and gives the reference', async () => {
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
  const first = instanceNorm(input);
  expect(onGpu(first), 'the first output is a GPU buffer written by the library').toBe(true);
  expectClose((await first.data()) as Float32Array, expected, 1e-4);
  const negated = tf.neg(input);
  const second = instanceNorm(negated);
  expect(onGpu(second)).toBe(true);
  expectClose(
    (await second.data()) as Float32Array,
    expected.map((v) => -v),
    1e-4,
  );
  tf.dispose([input, negated, first, second]);
});
