import { describe, expect, it } from 'vitest';
import { type InstanceNormOptions, type Layout, RunningStats } from '../src';
import { tensorGeometry } from '../src/core/tensor-geometry';
import { deviceProfile } from '../src/gpu/device-profile';
import { GpuBackend } from '../src/gpu/gpu-backend';
import { referenceInstanceNorm } from '../src/reference/float64-reference';
import { validateCall } from '../src/validation/validation';
import { expectClose } from './helpers/compare';
import { normalizeOnGpu, readBuffer, storageBuffer } from './helpers/gpu';
import { useGpuInstances } from './helpers/gpu-instance';
import { randomNormal, randomUniform } from './helpers/random';
import { shapeOf, type TensorCase } from './helpers/shapes';

// Running statistics on the GPU against the CPU reference following the same batches.
const gpu = useGpuInstances();

const CASES: TensorCase[] = [
  { batch: 3, channels: 5, spatial: [7, 3] }, // scalar / masked channel groups (C = 5: a group of one)
  { batch: 2, channels: 8, spatial: [4, 4] }, // vec4 positions / vec4 channel groups
  { batch: 4, channels: 3, spatial: [2] }, // two values per instance: unbiased factor 2
  { batch: 1, channels: 2, spatial: [150, 151] }, // large instances
  { batch: 2, channels: 3, spatial: [6, 10] }, // nhwc: RGB quads
];

async function expectRunningClose(gpuStats: RunningStats, cpuStats: RunningStats) {
  const [a, b] = [await gpuStats.read(), await cpuStats.read()];
  expectClose(a.mean, b.mean, 1e-4, 1e-5);
  expectClose(a.variance, b.variance, 1e-4, 1e-4);
}

describe.each(['nchw', 'nhwc'] as const)('layout %s', (layout: Layout) => {
  it.each(CASES.map((t) => [`N=${t.batch} C=${t.channels} spatial=${t.spatial}`, t] as const))(
    '%s: three training updates, then eval, match the CPU',
    async (_name, t) => {
      const shape = shapeOf(t, layout);
      const count = shape.reduce((a, b) => a * b, 1);
      const norm = gpu.norm();
      const onGpu = norm.createRunningStats(t.channels);
      const onCpu = new RunningStats(t.channels);
      const affine = { scale: randomUniform(t.channels, 3, 0.5, 2), bias: randomUniform(t.channels, 4, -1, 1) };
      for (let step = 0; step < 3; step++) {
        // Batches of different means, so that the running mean moves.
        const x = randomNormal(count, 10 + step, 20 * step - 5, 1 + step);
        const options: InstanceNormOptions = { layout, ...affine, momentum: 0.3 };
        const y = await normalizeOnGpu(norm, x, shape, { ...options, runningStats: onGpu });
        // Training normalizes with the batch's statistics.
        expectClose(y, referenceInstanceNorm(x, shape, { ...options, runningStats: onCpu }), 1e-4);
      }
      expect(onGpu.batchesTracked).toBe(3);
      await expectRunningClose(onGpu, onCpu);
      const x = randomNormal(count, 20, 10, 3);
      const evalOptions: InstanceNormOptions = { layout, ...affine, training: false, activation: 'relu' };
      const y = await normalizeOnGpu(norm, x, shape, { ...evalOptions, runningStats: onGpu });
      expectClose(y, referenceInstanceNorm(x, shape, { ...evalOptions, runningStats: onCpu }), 1e-4, 1e-5);
      onGpu.destroy();
    },
  );
});

describe('running statistics details on the GPU', () => {
  const shape = [2, 4, 6, 5];
  const x = randomNormal(2 * 4 * 30, 30, -3, 2);

  it('momentum null averages the batches', async () => {
    const norm = gpu.norm();
    const onGpu = norm.createRunningStats(4);
    const onCpu = new RunningStats(4);
    for (let step = 0; step < 3; step++) {
      const batch = x.map((v) => v * (step + 1) + step);
      await normalizeOnGpu(norm, batch, shape, { runningStats: onGpu, momentum: null });
      referenceInstanceNorm(batch, shape, { runningStats: onCpu, momentum: null });
    }
    await expectRunningClose(onGpu, onCpu);
    onGpu.destroy();
  });

  it('set() from arrays, as loaded from PyTorch, then eval through run()', async () => {
    const norm = gpu.norm();
    const mean = new Float32Array([1, -1, 0.5, 100]);
    const variance = new Float32Array([4, 0.25, 1, 9]);
    const onGpu = norm.createRunningStats(4);
    onGpu.set({ mean, variance });
    const onCpu = new RunningStats(4);
    onCpu.set({ mean, variance });
    const options: InstanceNormOptions = { training: false };
    expectClose(
      await norm.run(x, shape, { ...options, runningStats: onGpu }),
      referenceInstanceNorm(x, shape, { ...options, runningStats: onCpu }),
      1e-4,
      1e-5,
    );
    expect(await onGpu.read()).toEqual({ mean, variance });
    onGpu.destroy();
  });

  it('loadStateDict gives options whose eval results match the CPU', async () => {
    const norm = gpu.norm();
    const state = {
      weight: randomUniform(4, 31, 0.5, 2),
      bias: randomUniform(4, 32, -1, 1),
      running_mean: randomUniform(4, 33, -5, 5),
      running_var: randomUniform(4, 34, 0.5, 3),
    };
    const layer = norm.loadStateDict(state, { eps: 1e-3 });
    const explicit = new RunningStats(4);
    explicit.set({ mean: state.running_mean, variance: state.running_var });
    const expected = referenceInstanceNorm(x, shape, {
      epsilon: 1e-3,
      scale: state.weight,
      bias: state.bias,
      runningStats: explicit,
      training: false,
    });
    expectClose(await normalizeOnGpu(norm, x, shape, { ...layer, training: false }), expected, 1e-4, 1e-5);
  });

  it('a tensor in several storage windows updates each channel once', async () => {
    const device = gpu.device();
    for (const [s, layout] of [
      [[6, 5, 7, 11], 'nchw'],
      [[6, 9, 10, 3], 'nhwc'],
    ] as const) {
      const backend = new GpuBackend(device, undefined, { ...deviceProfile(device), maxStorageBufferBindingSize: 2048 });
      const data = randomNormal(
        s.reduce((a: number, b: number) => a * b, 1),
        40,
        7,
        2,
      );
      const channels = layout === 'nchw' ? s[1] : s[3];
      const onGpu = new RunningStats(channels, device);
      const onCpu = new RunningStats(channels);
      const input = storageBuffer(device, data);
      const output = storageBuffer(device, new Float32Array(data.length).fill(Number.NaN));
      const call = validateCall(s, { layout, runningStats: onGpu, momentum: 0.5 });
      expect(backend.plan(tensorGeometry(s, layout), 'update').windows.length).toBeGreaterThan(2);
      device.pushErrorScope('validation');
      const encoder = device.createCommandEncoder();
      backend.encode(encoder, { ...call, input, output });
      device.queue.submit([encoder.finish()]);
      expect(await device.popErrorScope()).toBeNull();
      const y = await readBuffer(device, output, data.length);
      expectClose(y, referenceInstanceNorm(data, s, { layout, runningStats: onCpu, momentum: 0.5 }), 1e-4);
      await expectRunningClose(onGpu, onCpu);
      for (const b of [input, output]) b.destroy();
      onGpu.destroy();
      backend.destroy();
    }
  });

  // Within the documented range (deviations up to 1.8e19, so variances up to f32's largest), the
  // update averages N batch values whose sum overflows: each is weighted before adding.
  it('means and variances near float32 limits, whose sum over N overflows, average without overflow', async () => {
    const [n, c, spatial] = [8, 3, 16];
    const big = new Float32Array(n * c * spatial);
    const means = randomUniform(n, 51, 1e38, 3e38);
    const deviations = randomNormal(n * spatial, 52, 0, 1e19);
    const ordinary = randomNormal(n * spatial, 53, 4, 2);
    for (let image = 0; image < n; image++) {
      for (let p = 0; p < spatial; p++) {
        const at = (channel: number) => (image * c + channel) * spatial + p;
        big[at(0)] = means[image]; // each image's instance constant, near 2e38: variance 0
        big[at(1)] = deviations[image * spatial + p]; // variance about 1e38
        big[at(2)] = ordinary[image * spatial + p];
      }
    }
    for (const layout of ['nchw', 'nhwc'] as const) {
      const shape = layout === 'nchw' ? [n, c, spatial] : [n, spatial, c];
      const data = layout === 'nchw' ? big : toNhwc(big, n, c, spatial);
      const norm = gpu.norm();
      const onGpu = norm.createRunningStats(c);
      const onCpu = new RunningStats(c);
      await normalizeOnGpu(norm, data, shape, { layout, runningStats: onGpu, momentum: 0.5 });
      referenceInstanceNorm(data, shape, { layout, runningStats: onCpu, momentum: 0.5 });
      const expected = await onCpu.read();
      expect(expected.mean[0]).toBeGreaterThan(4e37);
      expect(expected.variance[1]).toBeGreaterThan(2e37);
      expect([...expected.mean, ...expected.variance].every(Number.isFinite)).toBe(true);
      await expectRunningClose(onGpu, onCpu);
      onGpu.destroy();
    }
  });

  it('refuses running statistics of another backend with a clear error', async () => {
    await expect(gpu.norm().run(x, shape, { runningStats: new RunningStats(4) })).rejects.toThrow(
      /runningStats live on the CPU; the WebGPU backend needs ones made with norm.createRunningStats/,
    );
  });
});

/** [N, C, S] values as [N, S, C]. */
function toNhwc(x: Float32Array, n: number, c: number, spatial: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let image = 0; image < n; image++) {
    for (let channel = 0; channel < c; channel++) {
      for (let p = 0; p < spatial; p++) out[(image * spatial + p) * c + channel] = x[(image * c + channel) * spatial + p];
    }
  }
  return out;
}
