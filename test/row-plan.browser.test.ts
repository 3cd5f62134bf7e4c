import { describe, expect, it } from 'vitest';
import { type InstanceNormOptions, RunningStats, toFloat16Bits } from '../src';
import { deviceProfile } from '../src/gpu/device-profile';
import { GpuBackend } from '../src/gpu/gpu-backend';
import { referenceBackward, referenceInstanceNorm, referenceStats } from '../src/reference/float64-reference';
import { validateCall } from '../src/validation/validation';
import { expectClose } from './helpers/compare';
import { expectWithinHalfUlps, normalizeHalvesOnGpu } from './helpers/float16';
import { normalizeOnGpu, readBuffer, storageBuffer } from './helpers/gpu';
import { useGpuInstances } from './helpers/gpu-instance';
import { randomNormal, randomUniform } from './helpers/random';

// The split plan by rows (planner.ts, byRows): on this CPU adapter, nhwc tensors of C a multiple
// of 4 from 16 read in chunks of 1024 positions by workgroups of 4 adjacent channel groups (forced
// 'split', and by default where the planner takes it: the results are checked either way). Every
// plan built on it (GroupNorm, statistics, saved and running statistics, windows) against the
// float64 reference, outputs poisoned with NaN: chunks and slices cut short, data far from zero.
const gpu = useGpuInstances();

const rowKernels = (strategy: 'auto' | 'split', shape: number[], options: InstanceNormOptions) =>
  gpu
    .norm(strategy)
    .plan(shape, options)
    .windows.flatMap((w) => w.dispatches.map((d) => d.kernel));

describe.each(['auto', 'split'] as const)('read by rows, strategy %s', (strategy) => {
  it.each([
    [[1, 150, 151, 16], 'a last chunk of 118 positions'],
    [[2, 37, 41, 20], 'a last slice of one channel group'],
    [[1, 64, 70, 48], 'three slices, five chunks'],
    [[3, 33, 35, 64], 'three images'],
    [[1, 8, 1031, 24], '1-D rows of 8248 positions: 9 chunks'],
  ] as const)('%j (%s): scale, bias, SiLU and a residual', async (shape, _) => {
    const s: number[] = [...shape];
    const c = s[s.length - 1];
    const count = s.reduce((a, b) => a * b, 1);
    const options = {
      layout: 'nhwc',
      scale: randomUniform(c, 2, -2, 2),
      bias: randomUniform(c, 3, -1, 1),
      activation: 'silu',
      epsilon: 1e-3,
    } as const;
    if (strategy === 'split') expect(rowKernels(strategy, s, options)).toContain('partial-moments-rows');
    const x = randomNormal(count, 1, 500, 3);
    const residual = randomNormal(count, 4);
    const device = gpu.device();
    const residualBuffer = storageBuffer(device, residual);
    const actual = await normalizeOnGpu(gpu.norm(strategy), x, s, { ...options, residual: residualBuffer });
    residualBuffer.destroy();
    expectClose(actual, referenceInstanceNorm(x, s, { ...options, residual }), 1e-4, 1e-5);
  });

  it('per-instance scale and bias, residual before the activation, epsilonPlacement std', async () => {
    const shape = [2, 45, 47, 32];
    const count = shape.reduce((a, b) => a * b, 1);
    const x = randomNormal(count, 5, -40, 0.5);
    const options = {
      layout: 'nhwc',
      scale: randomUniform(64, 6, 0.5, 2),
      bias: randomUniform(64, 7, -1, 1),
      activation: 'relu',
      epsilonPlacement: 'std',
      epsilon: 0.1,
    } as const;
    expectClose(
      await normalizeOnGpu(gpu.norm(strategy), x, shape, options),
      referenceInstanceNorm(x, shape, options),
      1e-4,
      1e-5,
    );
  });

  it('float16 (half4 channel groups), within 2 half ulps', async () => {
    const shape = [1, 130, 131, 16];
    const x = toFloat16Bits(
      randomNormal(
        shape.reduce((a, b) => a * b, 1),
        8,
        3,
        2,
      ),
    );
    const options = { layout: 'nhwc', dataType: 'float16', bias: randomUniform(16, 9, -1, 1) } as const;
    if (strategy === 'split') expect(rowKernels(strategy, shape, options)).toContain('normalize-rows');
    const expected = referenceInstanceNorm(x, shape, options);
    expectWithinHalfUlps(await normalizeHalvesOnGpu(gpu.norm(strategy), x, shape, options), expected, 2);
  });

  it.each([
    [[2, 40, 36, 320], 32], // Stable Diffusion's groups of 10 channels
    [[1, 33, 31, 960], 32], // of 30
    [[2, 35, 37, 64], 4], // of 16: whole channel groups
    [[1, 70, 20, 24], 1], // one group of everything
  ] as const)('GroupNorm %j, groups = %i', async (shape, groups) => {
    const s: number[] = [...shape];
    const c = s[s.length - 1];
    const x = randomNormal(
      s.reduce((a, b) => a * b, 1),
      10,
      200,
      4,
    );
    const options = {
      layout: 'nhwc',
      groups,
      scale: randomUniform(c, 11, 0.5, 2),
      bias: randomUniform(c, 12, -1, 1),
      activation: 'silu',
    } as const;
    // By default only groups across channel groups of four read by rows; whole ones stay fused.
    if (strategy === 'split' || (c / groups) % 4 !== 0) {
      expect(rowKernels(strategy, s, options)).toEqual(['partial-moments-rows', 'combine-group-moments', 'normalize-rows']);
    }
    expectClose(await normalizeOnGpu(gpu.norm(strategy), x, s, options), referenceInstanceNorm(x, s, options), 1e-4, 1e-5);
  });
});

describe('nhwc GroupNorm across channel groups of four, by default by rows', () => {
  it.each([
    [[2, 9, 11, 20], 4], // groups of 5 channels
    [[1, 13, 7, 16], 8], // of 2: two groups in a channel group
    [[2, 17, 5, 24], 4], // of 6
    [[1, 6, 40, 56], 4], // of 14
    [[2, 33, 31, 960], 32], // of 30
  ] as const)('%j, groups = %i: per-instance affine, SiLU, a residual before it, float16', async (shape, groups) => {
    const s: number[] = [...shape];
    const [n, , , c] = s;
    const count = s.reduce((a, b) => a * b, 1);
    const options = {
      layout: 'nhwc',
      groups,
      scale: randomUniform(n * c, 20, -2, 2),
      bias: randomUniform(n * c, 21, -1, 1),
      activation: 'silu',
      residualPosition: 'before-activation',
    } as const;
    expect(rowKernels('auto', s, options)).toEqual(['partial-moments-rows', 'combine-group-moments', 'normalize-rows']);
    const x = randomNormal(count, 22, -700, 5);
    const residual = randomNormal(count, 23);
    const device = gpu.device();
    const residualBuffer = storageBuffer(device, residual);
    const actual = await normalizeOnGpu(gpu.norm(), x, s, { ...options, residual: residualBuffer });
    residualBuffer.destroy();
    expectClose(actual, referenceInstanceNorm(x, s, { ...options, residual }), 1e-4, 1e-5);
    const halves = toFloat16Bits(randomNormal(count, 24, 2, 3));
    const halfOptions = { layout: 'nhwc', groups, dataType: 'float16', epsilonPlacement: 'std' } as const;
    const expected = referenceInstanceNorm(halves, s, halfOptions);
    expectWithinHalfUlps(await normalizeHalvesOnGpu(gpu.norm(), halves, s, halfOptions), expected, 2);
  });

  it('windows of whole images', async () => {
    const device = gpu.device();
    const shape = [3, 20, 21, 40];
    const count = shape.reduce((a, b) => a * b, 1);
    const x = randomNormal(count, 25, 60, 2);
    const backend = new GpuBackend(device, undefined, { ...deviceProfile(device), maxStorageBufferBindingSize: 70_000 });
    const call = validateCall(shape, { layout: 'nhwc', groups: 4 });
    const plan = backend.plan(call.geometry, undefined, call.groupChannels);
    expect(plan.windows.length).toBe(3);
    expect(plan.windows[0].dispatches[0].kernel).toBe('partial-moments-rows');
    const input = storageBuffer(device, x);
    const output = storageBuffer(device, new Float32Array(count).fill(Number.NaN));
    const encoder = device.createCommandEncoder();
    backend.encode(encoder, { ...call, input, output });
    device.queue.submit([encoder.finish()]);
    expectClose(
      await readBuffer(device, output, count),
      referenceInstanceNorm(x, shape, { layout: 'nhwc', groups: 4 }),
      1e-4,
      1e-5,
    );
    for (const b of [input, output]) b.destroy();
    backend.destroy();
  });
});

describe('the plans built on the split plan, by rows', () => {
  const shape = [2, 60, 50, 24];
  const count = shape.reduce((a, b) => a * b, 1);
  const x = randomNormal(count, 13, 1e4, 2);

  it('stats(), GroupNorm stats()', async () => {
    for (const options of [{ layout: 'nhwc' }, { layout: 'nhwc', groups: 4 }] as const) {
      const actual = await gpu.norm().stats(x, shape, options);
      const expected = referenceStats(x, shape, options);
      expectClose(actual.mean, expected.mean, 1e-4 * 1e4);
      expectClose(actual.invStd, expected.invStd, 0, 1e-5);
    }
  });

  it('the forward saving its statistics, and the backward using them', async () => {
    const device = gpu.device();
    const norm = gpu.norm('split');
    const options = { layout: 'nhwc', scale: randomUniform(24, 14, 0.5, 2) } as const;
    const saved = storageBuffer(device, new Float32Array(96).fill(Number.NaN));
    expect(rowKernels('split', shape, { ...options, saveStats: saved })).toContain('partial-moments-rows');
    const smallX = randomNormal(count, 15, 2, 1);
    const dy = randomNormal(count, 16);
    const input = storageBuffer(device, smallX);
    const output = storageBuffer(device, new Float32Array(count).fill(Number.NaN));
    const gradOutput = storageBuffer(device, dy);
    const gradInput = storageBuffer(device, new Float32Array(count).fill(Number.NaN));
    const encoder = device.createCommandEncoder();
    norm.encode(encoder, input, output, shape, { ...options, saveStats: saved });
    norm.encodeBackward(encoder, { gradOutput, input, gradInput }, shape, { ...options, savedStats: saved });
    device.queue.submit([encoder.finish()]);
    expectClose(await readBuffer(device, output, count), referenceInstanceNorm(smallX, shape, options), 1e-4, 1e-5);
    const stats = await readBuffer(device, saved, 96);
    const expectedStats = referenceStats(smallX, shape, options);
    expectClose(stats.subarray(0, 48), expectedStats.mean, 1e-5);
    expectClose(stats.subarray(48), expectedStats.invStd, 0, 1e-5);
    expectClose(await readBuffer(device, gradInput, count), referenceBackward(dy, smallX, shape, options).gradInput, 1e-4, 1e-4);
    await norm.checkErrors();
    for (const b of [input, output, saved, gradOutput, gradInput]) b.destroy();
  });

  it('running statistics: the update in training, then eval mode', async () => {
    const norm = gpu.norm();
    const running = norm.createRunningStats(24);
    const onCpu = new RunningStats(24);
    for (const training of [true, false]) {
      const options = { layout: 'nhwc', training, momentum: 0.3 } as const;
      if (training) expect(rowKernels('auto', shape, { ...options, runningStats: running })).toContain('partial-moments-rows');
      const actual = await normalizeOnGpu(norm, x, shape, { ...options, runningStats: running });
      expectClose(actual, referenceInstanceNorm(x, shape, { ...options, runningStats: onCpu }), 1e-3, 1e-5);
    }
    const [gpuValues, cpuValues] = [await running.read(), await onCpu.read()];
    expectClose(gpuValues.mean, cpuValues.mean, 1e-4 * 1e4, 1e-6);
    expectClose(gpuValues.variance, cpuValues.variance, 1e-4, 1e-4);
    running.destroy();
  });

  it('windows of whole images where the tensor exceeds a storage binding', async () => {
    const device = gpu.device();
    for (const groups of [undefined, 6]) {
      const backend = new GpuBackend(device, 'split', {
        ...deviceProfile(device),
        maxStorageBufferBindingSize: 300_000, // an image of 288000 bytes a window
      });
      const call = validateCall(shape, { layout: 'nhwc', ...(groups ? { groups } : {}) });
      const plan = backend.plan(call.geometry, undefined, call.groupChannels);
      expect(plan.windows.length).toBeGreaterThan(1);
      expect(plan.windows[0].dispatches[0].kernel).toBe('partial-moments-rows');
      const input = storageBuffer(device, x);
      const output = storageBuffer(device, new Float32Array(count).fill(Number.NaN));
      device.pushErrorScope('validation');
      const encoder = device.createCommandEncoder();
      backend.encode(encoder, { ...call, input, output });
      device.queue.submit([encoder.finish()]);
      expect(await device.popErrorScope()).toBeNull();
      const expected = referenceInstanceNorm(x, shape, { layout: 'nhwc', ...(groups ? { groups } : {}) });
      expectClose(await readBuffer(device, output, count), expected, 1e-4, 1e-5);
      for (const b of [input, output]) b.destroy();
      backend.destroy();
    }
  });
});
