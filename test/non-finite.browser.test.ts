import { describe, expect, it } from 'vitest';
import { referenceInstanceNorm } from '../src/reference/float64-reference';
import { expectClose } from './helpers/compare';
import { normalizeOnGpu } from './helpers/gpu';
import { STRATEGY_CHOICES, useGpuInstances } from './helpers/gpu-instance';
import { randomNormal, randomUniform } from './helpers/random';

const gpu = useGpuInstances();

// [N, C, H, W] = [2, 3, 17, 19]: 6 instances of 323 elements.
const t = { batch: 2, channels: 3, size: 17 * 19 };

/** Flat index of spatial position p of instance (n, c) in either layout. */
function at(layout: 'nchw' | 'nhwc', instance: number, p: number): number {
  const n = Math.floor(instance / t.channels);
  const c = instance % t.channels;
  return layout === 'nchw' ? instance * t.size + p : (n * t.size + p) * t.channels + c;
}

function instanceValues(y: Float32Array, layout: 'nchw' | 'nhwc', instance: number): number[] {
  return Array.from({ length: t.size }, (_, p) => y[at(layout, instance, p)]);
}

describe.each(STRATEGY_CHOICES)('strategy %s', (strategy) => {
  it.each(['nchw', 'nhwc'] as const)('NaN and ±Inf spoil only their own instance (%s)', async (layout) => {
    const shape = layout === 'nchw' ? [2, 3, 17, 19] : [2, 17, 19, 3];
    const x = randomNormal(2 * 3 * t.size, 31, 1, 2);
    x[at(layout, 1, 0)] = Number.POSITIVE_INFINITY; // at the pivot
    x[at(layout, 2, 100)] = Number.NEGATIVE_INFINITY;
    x[at(layout, 4, 322)] = Number.NaN; // the last element
    const y = await normalizeOnGpu(gpu.norm(strategy), x, shape, { layout });
    const expected = referenceInstanceNorm(x, shape, { layout });
    for (const spoiled of [1, 2, 4]) {
      expect(instanceValues(y, layout, spoiled).every(Number.isNaN), `instance ${spoiled} all NaN`).toBe(true);
    }
    for (const clean of [0, 3, 5]) {
      expectClose(
        Float32Array.from(instanceValues(y, layout, clean)),
        Float32Array.from(instanceValues(expected, layout, clean)),
        1e-4,
      );
    }
  });

  it('stays accurate on huge, tiny and subnormal magnitudes and on constant instances', async () => {
    const shape = [1, 5, 40, 41];
    const size = 40 * 41;
    const x = new Float32Array(5 * size);
    x.set(randomNormal(size, 1, 3e16, 1e15), 0); // deviations near 1e15: squares near 1e30
    x.set(randomNormal(size, 2, -2e-30, 1e-30), size); // tiny: the variance underflows, epsilon dominates
    x.set(randomNormal(size, 3, 0, 1e-39), 2 * size); // subnormal
    x.fill(123.456, 3 * size, 4 * size); // constant: variance 0, output = bias
    x.set(randomNormal(size, 4, 0, 1e18), 4 * size); // deviations near 1e18: squares near 1e36
    const options = { bias: new Float32Array([0, 0.5, -0.5, 2, 0]) };
    expectClose(await normalizeOnGpu(gpu.norm(strategy), x, shape, options), referenceInstanceNorm(x, shape, options), 1e-4);
  });

  it.each(['nchw', 'nhwc'] as const)(
    'epsilon 0: constant and subnormal instances give the bias, as on the CPU (%s)',
    async (layout) => {
      const shape = layout === 'nchw' ? [2, 3, 17, 19] : [2, 17, 19, 3];
      const x = randomNormal(2 * 3 * t.size, 32, 1, 2);
      const constant = randomUniform(1, 33, -500, 500)[0];
      const subnormal = randomNormal(t.size, 34, 0, 1e-39);
      for (let p = 0; p < t.size; p++) {
        x[at(layout, 1, p)] = constant;
        x[at(layout, 5, p)] = subnormal[p];
      }
      const options = { layout, epsilon: 0, scale: randomUniform(3, 35, -2, 2), bias: randomUniform(3, 36, -1, 1) };
      const y = await normalizeOnGpu(gpu.norm(strategy), x, shape, options);
      for (const degenerate of [1, 5]) {
        const bias = options.bias[degenerate % 3];
        expect(
          instanceValues(y, layout, degenerate).every((v) => v === bias),
          `instance ${degenerate}: the bias ${bias}`,
        ).toBe(true);
      }
      expectClose(y, referenceInstanceNorm(x, shape, options), 1e-4, 1e-4);
    },
  );

  it.each(['nchw', 'nhwc'] as const)(
    'deviations of ±1e19 from the mean stay finite and correct, ±2e19 give NaN (%s)',
    async (layout) => {
      const shape = layout === 'nchw' ? [2, 3, 17, 19] : [2, 17, 19, 3];
      const x = randomNormal(2 * 3 * t.size, 37, 1, 2);
      const signs = randomUniform(t.size, 38, -1, 1);
      for (let p = 0; p < t.size; p++) {
        x[at(layout, 0, p)] = 3e18 + Math.sign(signs[p]) * 1e19;
        x[at(layout, 4, p)] = -1e18 + Math.sign(signs[p]) * 2e19;
      }
      const y = await normalizeOnGpu(gpu.norm(strategy), x, shape, { layout });
      const expected = referenceInstanceNorm(x, shape, { layout });
      expect(instanceValues(expected, layout, 0).every(Number.isFinite)).toBe(true);
      expect(instanceValues(y, layout, 4).every(Number.isNaN)).toBe(true);
      expectClose(y, expected, 1e-4, 1e-4);
    },
  );

  it('gives NaN, not a wrong number, where the variance overflows float32', async () => {
    const shape = [1, 2, 300];
    const x = new Float32Array(600);
    x.set(randomNormal(300, 5, 0, 1e25), 0); // squares near 1e50: beyond float32
    x.set(randomNormal(300, 6, 0, 1), 300);
    const y = await normalizeOnGpu(gpu.norm(strategy), x, shape);
    expect(Array.from(y.subarray(0, 300)).every(Number.isNaN)).toBe(true);
    expectClose(y.subarray(300), referenceInstanceNorm(x, shape).subarray(300), 1e-4);
  });
});
