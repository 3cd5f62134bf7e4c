import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InstanceNorm, instanceStatsCpu, type Layout } from '../src';
import { tensorGeometry } from '../src/core/tensor-geometry';
import { deviceProfile } from '../src/gpu/device-profile';
import { GpuBackend } from '../src/gpu/gpu-backend';
import { referenceStats } from '../src/reference/float64-reference';
import { expectClose } from './helpers/compare';
import { readBuffer, storageBuffer } from './helpers/gpu';
import { randomNormal } from './helpers/random';

let norm: InstanceNorm;
beforeAll(async () => {
  norm = await InstanceNorm.create({ fallback: 'error' });
});
afterAll(() => norm.destroy());

/** Means within 1e-5 of their magnitude (1e-4 at least), invStd within 1e-5 relative. */
function expectStatsClose(actual: { mean: Float32Array; invStd: Float32Array }, expected: typeof actual) {
  const scale = Math.max(1, ...Array.from(expected.mean, Math.abs));
  expectClose(actual.mean, expected.mean, 1e-4 + 1e-6 * scale);
  expectClose(actual.invStd, expected.invStd, 0, 1e-5);
}

describe('stats() matches instanceStatsCpu', () => {
  it.each([
    [[2, 3, 5, 7], 'nchw'], // scalar elements
    [[2, 3, 16, 16], 'nchw'], // vec4 positions
    [[2, 9, 11, 3], 'nhwc'], // masked channel groups
    [[2, 6, 10, 3], 'nhwc'], // RGB quads
    [[1, 13, 7, 5], 'nhwc'], // two groups, the second of one channel
    [[2, 6, 6, 8], 'nhwc'], // vec4 channel groups
    [[1, 2, 1030, 1030], 'nchw'], // a million elements per instance, split over many workgroups
  ] as const)('shape %o %s, mean 1e4 from zero', async (shape, layout: Layout) => {
    const x = randomNormal(
      (shape as readonly number[]).reduce((a, b) => a * b, 1),
      3,
      1e4,
      2,
    );
    expectStatsClose(await norm.stats(x, shape, { layout, epsilon: 1e-3 }), referenceStats(x, shape, { layout, epsilon: 1e-3 }));
  });

  it('with windows, on a tensor larger than one storage binding', async () => {
    const device = norm.device!;
    for (const [shape, layout] of [
      [[3, 5, 7, 11], 'nchw'],
      [[6, 9, 10, 3], 'nhwc'],
    ] as const) {
      const backend = new GpuBackend(device, undefined, { ...deviceProfile(device), maxStorageBufferBindingSize: 2048 });
      const geometry = tensorGeometry(shape, layout);
      const x = randomNormal(geometry.elementCount, 9, -5, 0.5);
      const input = storageBuffer(device, x);
      const count = geometry.instanceCount;
      const target = storageBuffer(device, new Float32Array(2 * count).fill(Number.NaN));
      const encoder = device.createCommandEncoder();
      const statsPlan = backend.encodeStats(encoder, { geometry, epsilon: 1e-5, epsilonPlacement: 'variance', input }, target);
      device.queue.submit([encoder.finish()]);
      expect(statsPlan.windows.length).toBeGreaterThan(1);
      const exported = await readBuffer(device, target, 2 * count);
      const stats = { mean: exported.slice(0, count), invStd: exported.slice(count) };
      expectStatsClose(stats, referenceStats(x, shape, { layout }));
      backend.destroy();
    }
  });

  it('on the CPU backend too', async () => {
    Object.defineProperty(navigator, 'gpu', { value: undefined, configurable: true });
    const cpu = await InstanceNorm.create();
    delete (navigator as { gpu?: unknown }).gpu;
    const x = randomNormal(60, 5);
    expect(await cpu.stats(x, [2, 3, 10])).toEqual(instanceStatsCpu(x, [2, 3, 10]));
  });
});
