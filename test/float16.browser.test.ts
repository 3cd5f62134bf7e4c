import { describe, expect, it } from 'vitest';
import { type InstanceNormOptions, type Layout, RunningStats } from '../src';
import { fromFloat16Bits, toFloat16Bits } from '../src/core/float16';
import { deviceProfile } from '../src/gpu/device-profile';
import { GpuBackend } from '../src/gpu/gpu-backend';
import { referenceAdain, referenceInstanceNorm, referenceStats } from '../src/reference/float64-reference';
import { validateCall } from '../src/validation/validation';
import { expectClose } from './helpers/compare';
import { expectWithinHalfUlps, halfBuffer, normalizeHalvesOnGpu, readHalves } from './helpers/float16';
import { STRATEGY_CHOICES, useGpuInstances } from './helpers/gpu-instance';
import { randomNormal, randomUniform } from './helpers/random';
import { describeCase, elementCount, shapeOf, type TensorCase } from './helpers/shapes';

// Half-precision storage on the GPU (halves packed in u32 words; this adapter has no
// shader-f16) against the float64 reference rounded once to half: within 2 half ulps.
const gpu = useGpuInstances();

const SHAPES: TensorCase[] = [
  { batch: 2, channels: 3, spatial: [5, 7] }, // odd: single halves, atomic stores (nchw and nhwc)
  { batch: 3, channels: 8, spatial: [4, 4] }, // four halves per load (nchw positions, nhwc channels)
  { batch: 1, channels: 5, spatial: [9] }, // 1-D, odd total
  { batch: 2, channels: 2, spatial: [3, 4, 5] }, // 3-D
  { batch: 1, channels: 4, spatial: [150, 151] }, // large instances: split chunks
];

const halves = (count: number, seed: number, mean: number, std: number) => toFloat16Bits(randomNormal(count, seed, mean, std));

describe.each(STRATEGY_CHOICES)('float16, strategy %s', (strategy) => {
  describe.each(['nchw', 'nhwc'] as const)('layout %s', (layout: Layout) => {
    it.each(SHAPES.map((t) => [describeCase(t), t] as const))('%s, mean 1000, scale, bias, residual, silu', async (_name, t) => {
      const shape = shapeOf(t, layout);
      const input = halves(elementCount(t), 71, 1000, 8);
      const residual = halves(elementCount(t), 72, 0, 3);
      const options: InstanceNormOptions = {
        layout,
        dataType: 'float16',
        scale: randomUniform(t.channels, 73, -3, 3),
        bias: randomUniform(t.channels, 74, -1, 1),
        activation: 'silu',
      };
      const expected = referenceInstanceNorm(input, shape, { ...options, dataType: 'float16', residual }) as Uint16Array;
      const actual = await normalizeHalvesOnGpu(gpu.norm(strategy), input, shape, { ...options, residualHalves: residual });
      expectWithinHalfUlps(actual, expected, 2, residual);
    });
  });
});

describe.each(STRATEGY_CHOICES)('float16 GroupNorm, strategy %s', (strategy) => {
  it.each([
    ['nchw', { batch: 2, channels: 40, spatial: [8, 8] }, 4], // groups of 10 instances, eight halves a step
    ['nchw', { batch: 1, channels: 12, spatial: [7, 9] }, 3], // odd sizes: single halves
    ['nhwc', { batch: 2, channels: 32, spatial: [6, 6] }, 4], // groups of two channel groups of four
    ['nhwc', { batch: 2, channels: 40, spatial: [5, 5] }, 4], // groups of 10 channels: split
  ] as const)('%s %j, groups = %i', async (layout, t, groups) => {
    const shape = shapeOf(t, layout);
    const input = halves(elementCount(t), 75, -300, 6);
    const residual = halves(elementCount(t), 76, 0, 2);
    const options: InstanceNormOptions = {
      layout,
      groups,
      dataType: 'float16',
      scale: randomUniform(t.channels, 77, -2, 2),
      bias: randomUniform(t.channels, 78, -1, 1),
      activation: 'silu',
    };
    const expected = referenceInstanceNorm(input, shape, { ...options, residual }) as Uint16Array;
    const actual = await normalizeHalvesOnGpu(gpu.norm(strategy), input, shape, { ...options, residualHalves: residual });
    expectWithinHalfUlps(actual, expected, 2, residual);
  });
});

describe('float16 extremes', () => {
  const shape = [1, 4, 40, 50];
  const count = 4 * 2000;

  it('values near ±65504, whose sum of squares overflows half many times over', async () => {
    const x = toFloat16Bits(randomUniform(count, 81, -65000, 65000));
    const expected = referenceInstanceNorm(x, shape, { dataType: 'float16' });
    expectWithinHalfUlps(await normalizeHalvesOnGpu(gpu.norm(), x, shape, {}), expected, 2);
  });

  it('subnormal halves, and outputs that overflow to infinity under a large scale', async () => {
    const x = toFloat16Bits(randomUniform(count, 82, -6e-5, 6e-5)); // mostly subnormal halves
    const options: InstanceNormOptions = { dataType: 'float16', epsilon: 1e-12, scale: new Float32Array([1, 1e5, -1e5, 1]) };
    const expected = referenceInstanceNorm(x, shape, options) as Uint16Array;
    expect(fromFloat16Bits(expected).some((v) => v === Number.POSITIVE_INFINITY)).toBe(true);
    expect(fromFloat16Bits(expected).some((v) => v === Number.NEGATIVE_INFINITY)).toBe(true);
    expectWithinHalfUlps(await normalizeHalvesOnGpu(gpu.norm(), x, shape, options), expected, 2);
  });

  it('a NaN or infinite half makes its instance NaN, and only its instance', async () => {
    const x = toFloat16Bits(randomNormal(count, 83));
    x[5] = 0x7e00; // NaN in channel 0
    x[2000 + 7] = 0xfc00; // -Infinity in channel 1
    const y = fromFloat16Bits(await normalizeHalvesOnGpu(gpu.norm(), x, shape, {}));
    expect(y.slice(0, 4000).every(Number.isNaN)).toBe(true);
    expect(y.slice(4000).some(Number.isNaN)).toBe(false);
  });
});

describe('float16 through the other paths', () => {
  const t: TensorCase = { batch: 2, channels: 6, spatial: [7, 5] };
  const x = halves(elementCount(t), 91, -20, 4);

  it('run() takes and returns Uint16Array', async () => {
    const shape = shapeOf(t, 'nhwc');
    const options = { layout: 'nhwc', dataType: 'float16', activation: 'gelu' } as const;
    expectWithinHalfUlps(await gpu.norm().run(x, shape, options), referenceInstanceNorm(x, shape, options), 2);
  });

  it('GroupNorm, running statistics and stats()', async () => {
    const shape = shapeOf(t, 'nchw');
    const grouped = { dataType: 'float16', groups: 3 } as const;
    expectWithinHalfUlps(await normalizeHalvesOnGpu(gpu.norm(), x, shape, grouped), referenceInstanceNorm(x, shape, grouped), 2);
    const onGpu = gpu.norm().createRunningStats(6);
    const onCpu = new RunningStats(6);
    await normalizeHalvesOnGpu(gpu.norm(), x, shape, { runningStats: onGpu });
    referenceInstanceNorm(x, shape, { dataType: 'float16', runningStats: onCpu });
    const [a, b] = [await onGpu.read(), await onCpu.read()];
    expectClose(a.mean, b.mean, 1e-4, 1e-5);
    expectClose(a.variance, b.variance, 1e-4, 1e-4);
    onGpu.destroy();
    const stats = await gpu.norm().stats(x, shape, { dataType: 'float16' });
    const expected = referenceStats(x, shape, { dataType: 'float16' });
    expectClose(stats.mean, expected.mean, 1e-4);
    expectClose(stats.invStd, expected.invStd, 0, 1e-5);
  });

  it('adain() of halves', async () => {
    const contentShape = shapeOf(t, 'nchw');
    const style = halves(2 * 6 * 30, 92, 5, 2);
    const styleShape = [2, 6, 6, 5];
    const options = { dataType: 'float16' } as const;
    const expected = referenceAdain(x, contentShape, style, styleShape, options);
    expectWithinHalfUlps(await gpu.norm().adain(x, contentShape, style, styleShape, options), expected, 2);
  });

  it('windows of a tensor larger than one storage binding, odd sizes', async () => {
    const device = gpu.device();
    for (const [s, layout] of [
      [[3, 5, 7, 11], 'nchw'],
      [[6, 9, 10, 3], 'nhwc'],
    ] as const) {
      const backend = new GpuBackend(device, undefined, { ...deviceProfile(device), maxStorageBufferBindingSize: 1024 });
      const data = halves(
        s.reduce((a: number, b: number) => a * b, 1),
        93,
        40,
        2,
      );
      const input = halfBuffer(device, data);
      const output = halfBuffer(device, new Uint16Array(data.length).fill(0x7e00));
      const call = validateCall(s, { layout, dataType: 'float16' });
      expect(backend.plan(call.geometry).windows.length).toBeGreaterThan(2);
      device.pushErrorScope('validation');
      const encoder = device.createCommandEncoder();
      backend.encode(encoder, { ...call, input, output });
      device.queue.submit([encoder.finish()]);
      expect(await device.popErrorScope()).toBeNull();
      const expected = referenceInstanceNorm(data, s, { layout, dataType: 'float16' });
      expectWithinHalfUlps(await readHalves(device, output, data.length), expected, 2);
      for (const b of [input, output]) b.destroy();
      backend.destroy();
    }
  });

  it('rejects a Float32Array for float16 and a Uint16Array for float32', async () => {
    await expect(gpu.norm().run(new Float32Array(210), [2, 3, 35], { dataType: 'float16' } as never)).rejects.toThrow(
      /input must be a Uint16Array \(half bits, for dataType 'float16'\), got Float32Array\(210\)/,
    );
    await expect(gpu.norm().run(new Uint16Array(210) as never, [2, 3, 35])).rejects.toThrow(
      /input must be a Float32Array \(a Uint16Array needs dataType 'float16'\)/,
    );
  });
});
