import fc from 'fast-check';
import { it } from 'vitest';
import { type Layout, instanceNormCpu } from '../src';
import { expectClose } from './helpers/compare';
import { STRATEGY_CHOICES, useGpuInstances } from './helpers/gpu-instance';
import { normalizeOnGpu } from './helpers/gpu';
import { randomNormal, randomUniform } from './helpers/random';
import { shapeOf } from './helpers/shapes';

const gpu = useGpuInstances();

// Fixed seed: CI sees the same cases on every run.
const SEED = 20261125;

const tensorCase = fc.record({
  batch: fc.integer({ min: 1, max: 3 }),
  channels: fc.integer({ min: 1, max: 9 }),
  spatial: fc.array(fc.integer({ min: 1, max: 23 }), { minLength: 1, maxLength: 3 }),
  layout: fc.constantFrom<Layout>('nchw', 'nhwc'),
  strategy: fc.constantFrom(...STRATEGY_CHOICES),
  epsilon: fc.constantFrom(1e-5, 1e-3, 0.1, 1),
  affine: fc.boolean(),
  mean: fc.constantFrom(0, 1, -50, 1e3, 2e4),
  std: fc.constantFrom(1e-2, 1, 10),
  seed: fc.integer({ min: 1, max: 1e6 }),
});

it('GPU matches the CPU reference on random shapes, layouts, options and data', async () => {
  await fc.assert(
    fc.asyncProperty(tensorCase, async (t) => {
      const shape = shapeOf(t, t.layout);
      const count = shape.reduce((a, b) => a * b, 1);
      const input = randomNormal(count, t.seed, t.mean, t.std);
      const options = {
        layout: t.layout,
        epsilon: t.epsilon,
        ...(t.affine ? { scale: randomUniform(t.channels, t.seed + 1, -2, 2), bias: randomUniform(t.channels, t.seed + 2, -1, 1) } : {}),
      };
      const actual = await normalizeOnGpu(gpu.norm(t.strategy), input, shape, options);
      expectClose(actual, instanceNormCpu(input, shape, options), 1e-4);
    }),
    { seed: SEED, numRuns: 150 },
  );
});
