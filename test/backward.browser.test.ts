import { describe, expect, it } from 'vitest';
import type { Layout } from '../src';
import { tensorGeometry } from '../src/core/tensor-geometry';
import { type DeviceProfile, deviceProfile } from '../src/gpu/device-profile';
import { GpuBackend } from '../src/gpu/gpu-backend';
import { planBackward } from '../src/gpu/planner';
import { referenceBackward, referenceInstanceNorm, referenceStats } from '../src/reference/float64-reference';
import { validateCall } from '../src/validation/validation';
import { BACKWARD_VARIANTS, type BackwardVariant, backwardOnGpu } from './helpers/backward';
import { expectClose } from './helpers/compare';
import { readBuffer, storageBuffer } from './helpers/gpu';
import { STRATEGY_CHOICES, type StrategyChoice, useGpuInstances } from './helpers/gpu-instance';
import { randomNormal, randomUniform } from './helpers/random';
import { describeCase, elementCount, type TensorCase } from './helpers/shapes';

// The GPU backward against the CPU backward (float64), with every output poisoned with NaN.
const gpu = useGpuInstances();

const SHAPES: TensorCase[] = [
  { batch: 2, channels: 3, spatial: [5, 7] }, // scalar / masked channel groups
  { batch: 3, channels: 8, spatial: [4, 4] }, // vec4 positions / vec4 channel groups
  { batch: 1, channels: 5, spatial: [9] }, // 1-D
  { batch: 2, channels: 2, spatial: [3, 4, 5] }, // 3-D
  { batch: 1, channels: 4, spatial: [150, 151] }, // several chunks per instance
  { batch: 2, channels: 3, spatial: [6, 10] }, // nhwc: the forward's RGB quads, the backward per position
];

async function expectBackwardMatches(t: TensorCase, layout: Layout, variant: BackwardVariant, strategy: StrategyChoice) {
  const count = elementCount(t);
  const x = randomNormal(count, 111, 200, 3); // mean far from zero
  const dy = randomNormal(count, 112, 0.5, 2);
  const affineLength = variant === 'per-instance scale' ? t.batch * t.channels : t.channels;
  const scale = randomUniform(affineLength, 113, -2, 2);
  const bias = randomUniform(affineLength, 114, -1, 1);
  const running = { mean: randomUniform(t.channels, 115, 190, 210), variance: randomUniform(t.channels, 116, 4, 16) };
  const actual = await backwardOnGpu(gpu.norm(strategy), t, layout, { x, dy }, { layout, scale, bias }, variant, running);
  expectClose(actual.gradInput, actual.expected.gradInput, 1e-4, 1e-4);
  // Sums over up to 22650 values of order 2: f32 rounding of order 1e-3 relative to their spread.
  const sumTolerance = 1e-4 * Math.sqrt(count) * 4;
  expectClose(actual.gradScale, actual.expected.gradScale as Float32Array, sumTolerance, 1e-4);
  expectClose(actual.gradBias, actual.expected.gradBias as Float32Array, sumTolerance, 1e-4);
}

// 'split' takes the chunked backward, 'fused-per-thread' one invocation per instance.
describe.each(['split', 'fused-per-thread'] as const)('GPU backward, strategy %s', (strategy) => {
  describe.each(['nchw', 'nhwc'] as const)('layout %s, matches the CPU backward', (layout) => {
    describe.each(SHAPES.map((t) => [describeCase(t), t] as const))('%s', (_name, t) => {
      it.each(BACKWARD_VARIANTS)('%s', async (variant) => {
        await expectBackwardMatches(t, layout, variant, strategy);
      });
    });
  });
});

describe('the forward saves its statistics with every strategy', () => {
  it.each(STRATEGY_CHOICES)('strategy %s', async (strategy) => {
    const device = gpu.device();
    for (const [shape, layout] of [
      [[2, 5, 7, 9], 'nchw'],
      [[2, 6, 5, 7], 'nhwc'],
      [[3, 4, 4, 8], 'nhwc'],
    ] as const) {
      const count = shape.reduce((a: number, b: number) => a * b, 1);
      const instances = shape[0] * (layout === 'nchw' ? shape[1] : shape[3]);
      const x = randomNormal(count, 141, 50, 3);
      const input = storageBuffer(device, x);
      const output = storageBuffer(device, new Float32Array(count).fill(Number.NaN));
      const saved = storageBuffer(device, new Float32Array(2 * instances).fill(Number.NaN));
      const encoder = device.createCommandEncoder();
      gpu.norm(strategy).encode(encoder, input, output, shape, { layout, saveStats: saved });
      device.queue.submit([encoder.finish()]);
      const stats = await readBuffer(device, saved, 2 * instances);
      await gpu.norm(strategy).checkErrors();
      const expected = referenceStats(x, shape, { layout });
      expectClose(stats.slice(0, instances), expected.mean, 1e-3);
      expectClose(stats.slice(instances), expected.invStd, 0, 1e-5);
      expectClose(await readBuffer(device, output, count), referenceInstanceNorm(x, shape, { layout }), 1e-4);
      for (const b of [input, output, saved]) b.destroy();
    }
  });
});

describe('backward details on the GPU', () => {
  const shape = [2, 6, 9, 7];
  const x = randomNormal(2 * 6 * 63, 121, -4, 2);
  const dy = randomNormal(2 * 6 * 63, 122);

  it('backward() on typed arrays, with stats() as the saved statistics, and without affine', async () => {
    const norm = gpu.norm();
    const scale = randomUniform(6, 123, 0.5, 2);
    const savedStats = await norm.stats(x, shape);
    const actual = await norm.backward(dy, x, shape, { scale, savedStats });
    const expected = referenceBackward(dy, x, shape, { scale, savedStats });
    expectClose(actual.gradInput, expected.gradInput, 1e-4, 1e-4);
    expectClose(actual.gradScale as Float32Array, expected.gradScale as Float32Array, 1e-3, 1e-4);
    expectClose(actual.gradBias as Float32Array, expected.gradBias as Float32Array, 1e-3, 1e-4);
    const plain = await norm.backward(dy, x, shape);
    expect(plain.gradScale).toBeUndefined();
    expectClose(plain.gradInput, referenceBackward(dy, x, shape).gradInput, 1e-4, 1e-4);
  });

  /** The backward of a backend with another device profile against the CPU, statistics recomputed and saved. */
  async function expectBackendBackwardMatches(profile: Partial<DeviceProfile>, s: readonly number[], layout: Layout) {
    const device = gpu.device();
    const backend = new GpuBackend(device, undefined, { ...deviceProfile(device), ...profile });
    const n = s.reduce((a: number, b: number) => a * b, 1);
    const data = randomNormal(n, 124, 9, 2);
    const grad = randomNormal(n, 125);
    const channels = layout === 'nchw' ? s[1] : s[s.length - 1];
    const scale = randomUniform(channels, 126, 0.5, 2);
    const call = validateCall(s, { layout });
    const input = storageBuffer(device, data);
    const gradOutput = storageBuffer(device, grad);
    const gradInput = storageBuffer(device, new Float32Array(n).fill(Number.NaN));
    const gradAffine = storageBuffer(device, new Float32Array(2 * channels).fill(Number.NaN));
    const expected = referenceBackward(grad, data, s, { layout, scale });
    // Statistics recomputed, then saved by a forward with the same profile.
    const savedStats = storageBuffer(device, new Float32Array(2 * call.geometry.instanceCount));
    const output = storageBuffer(device, new Float32Array(n));
    for (const saved of [undefined, savedStats]) {
      device.queue.writeBuffer(gradInput, 0, new Float32Array(n).fill(Number.NaN));
      device.queue.writeBuffer(gradAffine, 0, new Float32Array(2 * channels).fill(Number.NaN));
      device.pushErrorScope('validation');
      const encoder = device.createCommandEncoder();
      if (saved) backend.encode(encoder, { ...call, input, output, scale, saveStats: saved });
      backend.encodeBackward(encoder, { ...call, input, gradOutput, gradInput, gradAffine, scale, savedStats: saved });
      device.queue.submit([encoder.finish()]);
      expect(await device.popErrorScope()).toBeNull();
      expectClose(await readBuffer(device, gradInput, n), expected.gradInput, 1e-4, 1e-4);
      const affine = await readBuffer(device, gradAffine, 2 * channels);
      expectClose(affine.slice(0, channels), expected.gradScale as Float32Array, 1e-3, 1e-4);
      expectClose(affine.slice(channels), expected.gradBias as Float32Array, 1e-3, 1e-4);
    }
    for (const b of [input, gradOutput, gradInput, gradAffine, savedStats, output]) b.destroy();
    const plan = backend.plan(call.geometry);
    backend.destroy();
    return plan;
  }

  it('windows of a tensor larger than one storage binding: each channel summed once', async () => {
    for (const [s, layout] of [
      [[5, 3, 7, 11], 'nchw'],
      [[6, 9, 10, 3], 'nhwc'],
      [[16, 4, 6, 3], 'nhwc'], // the forward saving statistics in RGB quads
    ] as const) {
      const plan = await expectBackendBackwardMatches({ maxStorageBufferBindingSize: 2048 }, s, layout);
      expect(plan.windows.length).toBeGreaterThan(2);
    }
  });

  it('as planned for a real GPU: many chunks an instance, their sums merged by a workgroup per instance', async () => {
    const device = gpu.device();
    for (const [s, layout] of [
      [[1, 2, 512, 512], 'nchw'], // 32 chunks of 2048 vec4s
      [[1, 300, 300, 3], 'nhwc'], // 44 chunks of masked channel groups: two for some of the 32 invocations
    ] as const) {
      await expectBackendBackwardMatches({ isCpuAdapter: false }, s, layout);
      const profile = { ...deviceProfile(device), isCpuAdapter: false };
      const kernels = planBackward(tensorGeometry(s, layout), profile, 'saved').windows[0].dispatches.map((d) => d.kernel);
      expect(kernels).toContain('backward-combine-per-workgroup');
    }
  });

  it('rejects a gradAffine buffer too small, and the forward epilogue options', () => {
    const device = gpu.device();
    const b = (bytes: number) => device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE });
    const buffers = { gradOutput: b(96), input: b(96), gradInput: b(96), gradAffine: b(20) };
    expect(() =>
      gpu.norm().encodeBackward(device.createCommandEncoder(), buffers, [2, 3, 4], { scale: new Float32Array(3) }),
    ).toThrow(
      /gradAffine buffer has 20 bytes, expected at least 24 \(6 float32 values: the scale gradient, then the bias gradient\)/,
    );
    expect(() =>
      gpu.norm().encodeBackward(device.createCommandEncoder(), buffers, [2, 3, 4], { activation: 'silu' } as object),
    ).toThrow(/takes no activation option/);
  });
});

describe('training on the GPU', () => {
  it('fits scale and bias of one InstanceNorm by gradient descent: the loss falls', async () => {
    const norm = gpu.norm();
    const device = gpu.device();
    const shape = [4, 8, 12, 12];
    const count = 4 * 8 * 144;
    const x = randomNormal(count, 131, 3, 2);
    // The target: the same layer with scale and bias that training must find.
    const targetScale = randomUniform(8, 132, -2, 2);
    const targetBias = randomUniform(8, 133, -1, 1);
    const target = referenceInstanceNorm(x, shape, { scale: targetScale, bias: targetBias });
    const scale = new Float32Array(8).fill(1);
    const bias = new Float32Array(8);
    const input = storageBuffer(device, x);
    const output = storageBuffer(device, new Float32Array(count));
    const savedStats = storageBuffer(device, new Float32Array(2 * 32));
    const gradOutput = storageBuffer(device, new Float32Array(count));
    const gradInput = storageBuffer(device, new Float32Array(count));
    const gradAffine = storageBuffer(device, new Float32Array(16));
    const losses: number[] = [];
    for (let step = 0; step < 40; step++) {
      let encoder = device.createCommandEncoder();
      norm.encode(encoder, input, output, shape, { scale, bias, saveStats: savedStats });
      device.queue.submit([encoder.finish()]);
      const y = await readBuffer(device, output, count);
      // L = mean((y - t)²), dL/dy = 2 (y - t) / count
      const dy = y.map((v, i) => (2 * (v - target[i])) / count);
      losses.push(y.reduce((sum, v, i) => sum + (v - target[i]) ** 2, 0) / count);
      device.queue.writeBuffer(gradOutput, 0, dy);
      encoder = device.createCommandEncoder();
      norm.encodeBackward(encoder, { gradOutput, input, gradInput, gradAffine }, shape, { scale, bias, savedStats });
      device.queue.submit([encoder.finish()]);
      const grads = await readBuffer(device, gradAffine, 16);
      for (let c = 0; c < 8; c++) {
        scale[c] -= 0.5 * grads[c];
        bias[c] -= 0.5 * grads[8 + c];
      }
    }
    await norm.checkErrors();
    console.log(
      `training loss: ${losses[0].toFixed(4)} → ${losses[losses.length - 1].toExponential(2)} in ${losses.length} steps`,
    );
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 1e-3);
    for (let i = 1; i < losses.length; i++) expect(losses[i]).toBeLessThanOrEqual(losses[i - 1] * 1.0001);
    expectClose(scale, targetScale, 1e-2);
    expectClose(bias, targetBias, 1e-2);
    for (const b of [input, output, savedStats, gradOutput, gradInput, gradAffine]) b.destroy();
  });
});
