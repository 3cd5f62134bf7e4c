import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { adaIn, groupNorm, instanceNorm } from '../src/tfjs';
import { randomNormal } from './helpers/random';
import { useBackend, watchDevice, webGpuBackend } from './tfjs-shared';

// What a call costs in memory, and that nothing stays: on TF.js's WebGPU backend a call works on
// the tensors' own buffers and an output TF.js allocates (no buffer of the library's, no copy,
// no readback), and 1,000 calls of inference and of training leave tf.memory() and the
// library's live GPU buffers as they were after the first few.

const tensorBytes = (shape: number[]) => 4 * shape.reduce((a, b) => a * b, 1);

interface Memory {
  numTensors: number;
  numBytesInGPU?: number;
}

it("on WebGPU a call makes no buffer of the library's, copies and reads back nothing, and adds one TF.js-owned output", async () => {
  await useBackend('webgpu');
  const backend = webGpuBackend();
  const shape = [2, 16, 16, 8];
  const x = tf.tensor(randomNormal(2 * 16 * 16 * 8, 1), shape);
  const style = tf.tensor(randomNormal(2 * 8 * 8 * 8, 2), [2, 8, 8, 8]);
  const gamma = tf.tensor(randomNormal(8, 3, 1, 0.2));
  const beta = tf.tensor(randomNormal(8, 4));
  const calls: [string, () => tf.Tensor][] = [
    ['instanceNorm', () => instanceNorm(x, { gamma, beta, activation: 'relu', residual: x })],
    ['groupNorm', () => groupNorm(x, 2, { gamma, beta })],
    ['adaIn', () => adaIn(x, style)],
  ];
  for (const [name, call] of calls) {
    tf.dispose(call()); // warm-up: uploads, pipelines, cached parameters
    await backend.device.queue.onSubmittedWorkDone();
    const watch = watchDevice(backend.device);
    const before = tf.memory() as Memory;
    const y = call();
    await backend.device.queue.onSubmittedWorkDone();
    watch.stop();
    const after = tf.memory() as Memory;
    expect(watch.counts, name).toEqual({ created: 0, copies: 0, maps: 0 });
    expect(after.numTensors - before.numTensors, name).toBe(1);
    expect((after.numBytesInGPU ?? 0) - (before.numBytesInGPU ?? 0), name).toBe(tensorBytes(shape));
    // The output is a buffer of TF.js's buffer manager, not one of the library's.
    const resource = backend.tensorMap.get(y.dataId).resource as GPUBuffer;
    expect(resource).toBeInstanceOf(GPUBuffer);
    expect(resource.label.startsWith('InstanceNorm')).toBe(false);
    y.dispose();
  }
  // The backward: the library's buffers are cached too, nothing is read back.
  const grad = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => instanceNorm(a, { gamma: g, beta: b }));
  tf.dispose(grad([x, gamma, beta]));
  await backend.device.queue.onSubmittedWorkDone();
  const watch = watchDevice(backend.device);
  const grads = grad([x, gamma, beta]);
  await backend.device.queue.onSubmittedWorkDone();
  watch.stop();
  expect(watch.counts.created).toBe(0);
  expect(watch.counts.maps).toBe(0);
  tf.dispose([...grads, x, style, gamma, beta]);
});

describe.each(['webgpu', 'cpu'])("1,000 calls on TF.js's %s backend leave no tensor and no GPU buffer behind", (backendName) => {
  it('inference: instanceNorm, groupNorm, adaIn in tf.tidy', async () => {
    await useBackend(backendName);
    const device = backendName === 'webgpu' ? webGpuBackend().device : undefined;
    const watch = device && watchDevice(device);
    const x = tf.tensor(randomNormal(1 * 8 * 8 * 4, 5), [1, 8, 8, 4]);
    const gamma = tf.ones([4]);
    const readings: { memory: Memory; live: number }[] = [];
    try {
      for (let call = 1; call <= 1000; call++) {
        const y = tf.tidy(() => adaIn(groupNorm(instanceNorm(x, { gamma, activation: 'silu' }), 2), x));
        if (call % 100 === 0) await y.data();
        y.dispose();
        if (call === 100 || call === 1000) {
          await device?.queue.onSubmittedWorkDone();
          readings.push({ memory: tf.memory() as Memory, live: watch?.live.size ?? 0 });
        }
      }
    } finally {
      watch?.stop();
    }
    expect(readings[1].memory.numTensors).toBe(readings[0].memory.numTensors);
    expect(readings[1].memory.numBytesInGPU).toBe(readings[0].memory.numBytesInGPU);
    expect(readings[1].live).toBe(readings[0].live);
    tf.dispose([x, gamma]);
  });

  it('training: optimizer.minimize through instanceNorm and groupNorm', async () => {
    await useBackend(backendName);
    const device = backendName === 'webgpu' ? webGpuBackend().device : undefined;
    const watch = device && watchDevice(device);
    const x = tf.tensor(randomNormal(1 * 6 * 6 * 4, 6), [1, 6, 6, 4]);
    const target = tf.tensor(randomNormal(1 * 6 * 6 * 4, 7), [1, 6, 6, 4]);
    const gamma = tf.variable(tf.ones([4]));
    const beta = tf.variable(tf.zeros([4]));
    const optimizer = tf.train.sgd(0.01);
    const loss = () =>
      tf.tidy(
        () =>
          tf.losses.meanSquaredError(
            target,
            groupNorm(instanceNorm(x, { gamma, beta, activation: 'relu' }), 2, { gamma }),
          ) as tf.Scalar,
      );
    const readings: { memory: Memory; live: number }[] = [];
    try {
      for (let step = 1; step <= 1000; step++) {
        optimizer.minimize(loss);
        if (step === 100 || step === 1000) {
          await gamma.data();
          await device?.queue.onSubmittedWorkDone();
          readings.push({ memory: tf.memory() as Memory, live: watch?.live.size ?? 0 });
        }
      }
    } finally {
      watch?.stop();
    }
    expect(readings[1].memory.numTensors).toBe(readings[0].memory.numTensors);
    expect(readings[1].memory.numBytesInGPU).toBe(readings[0].memory.numBytesInGPU);
    expect(readings[1].live).toBe(readings[0].live);
    tf.dispose([x, target, gamma, beta]);
    optimizer.dispose();
  });
});
