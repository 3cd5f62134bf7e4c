import { describe, expect, it } from 'vitest';
import type { Layout } from '../src';
import { referenceInstanceNorm } from '../src/reference/float64-reference';
import { expectClose } from './helpers/compare';
import { normalizeOnGpu } from './helpers/gpu';
import { STRATEGY_CHOICES, useGpuInstances } from './helpers/gpu-instance';
import { SHAPES, VARIANTS, type Variant } from './helpers/grids';
import { randomNormal } from './helpers/random';
import { describeCase, elementCount, shapeOf, type TensorCase } from './helpers/shapes';

// The accuracy bar of the library: within 1e-4 absolute of the float64 reference.
const TOLERANCE = 1e-4;

const gpu = useGpuInstances();

async function expectGpuMatchesCpu(t: TensorCase, layout: Layout, variant: Variant, strategy = STRATEGY_CHOICES[0], seed = 1) {
  const shape = shapeOf(t, layout);
  const input = randomNormal(elementCount(t), seed, variant.mean, variant.std);
  const options = { ...variant.options(t.channels), layout };
  const expected = referenceInstanceNorm(input, shape, options);
  const actual = await normalizeOnGpu(gpu.norm(strategy), input, shape, options);
  expectClose(actual, expected, TOLERANCE);
}

describe.each(STRATEGY_CHOICES)('strategy %s matches the CPU reference', (strategy) => {
  describe.each(['nchw', 'nhwc'] as const)('layout %s', (layout) => {
    describe.each(SHAPES.map((t) => [describeCase(t), t] as const))('%s', (_name, t) => {
      it.each(VARIANTS.map((v) => [v.name, v] as const))('%s', async (_variant, variant) => {
        // epsilon 0 on a single-element instance is 0/0: NaN in PyTorch and here alike, not worth a case.
        if (variant.options(1).epsilon === 0 && elementCount(t) === t.batch * t.channels) return;
        await expectGpuMatchesCpu(t, layout, variant, strategy);
      });
    });
  });
});

describe('one instance of over a million elements', () => {
  const megapixel: TensorCase = { batch: 1, channels: 1, spatial: [1031, 1033] };
  const offset = VARIANTS[2];
  it.each(STRATEGY_CHOICES)('strategy %s, nchw, mean 1e4 σ from zero', async (strategy) => {
    await expectGpuMatchesCpu(megapixel, 'nchw', offset, strategy, 7);
  });
  it.each(STRATEGY_CHOICES)('strategy %s, nchw 1024×1024 (vec4 loads), scale and bias', async (strategy) => {
    await expectGpuMatchesCpu({ batch: 1, channels: 2, spatial: [1024, 1024] }, 'nchw', VARIANTS[1], strategy, 9);
  });
  it('strategy auto, nhwc with 3 channels of 1024×1024', async () => {
    await expectGpuMatchesCpu({ batch: 1, channels: 3, spatial: [1024, 1024] }, 'nhwc', VARIANTS[1], 'auto', 8);
  });
});

describe('plans', () => {
  it('the planner picks every strategy somewhere in the matrix above', () => {
    const chosen = new Set(SHAPES.map((t) => gpu.norm('auto').plan(shapeOf(t, 'nchw')).strategy));
    chosen.add(gpu.norm('auto').plan([1, 1, 1031, 1033]).strategy);
    expect([...chosen].sort()).toEqual(['fused-per-thread', 'fused-per-workgroup', 'split']);
  });
});
