import { describe, expect, it } from 'vitest';
import { type InstanceNormOptions, instanceNormCpu, type Layout } from '../src';
import { expectClose } from './helpers/compare';
import { normalizeOnGpu } from './helpers/gpu';
import { STRATEGY_CHOICES, useGpuInstances } from './helpers/gpu-instance';
import { randomNormal, randomUniform } from './helpers/random';
import { describeCase, elementCount, shapeOf, type TensorCase } from './helpers/shapes';

// The accuracy bar of the library: within 1e-4 absolute of the float64 reference.
const TOLERANCE = 1e-4;

const gpu = useGpuInstances();

const SHAPES: TensorCase[] = [
  { batch: 1, channels: 1, spatial: [1] }, // a single element: variance 0, output = bias
  { batch: 3, channels: 5, spatial: [1, 1] }, // every instance a single element
  { batch: 1, channels: 3, spatial: [7] }, // 1-D, odd
  { batch: 2, channels: 3, spatial: [5, 7] }, // 2-D, odd
  { batch: 2, channels: 2, spatial: [3, 4, 5] }, // 3-D
  { batch: 4, channels: 64, spatial: [8, 8] }, // many small instances
  { batch: 1, channels: 3, spatial: [67, 71] }, // medium, odd
  { batch: 2, channels: 2, spatial: [5, 37, 41] }, // 3-D, larger than one workgroup chunk
  { batch: 1, channels: 2, spatial: [150, 151] }, // a few large instances
  { batch: 1, channels: 8, spatial: [150, 151] }, // large instances of vec4 channel groups: several chunks each
  { batch: 2, channels: 3, spatial: [6, 10] }, // nhwc: RGB quads (three vec4s per four positions)
  { batch: 1, channels: 3, spatial: [300, 304] }, // nhwc: RGB quads over several chunks
];

interface Variant {
  readonly name: string;
  readonly options: (channels: number) => InstanceNormOptions;
  readonly mean: number;
  readonly std: number;
}

const VARIANTS: Variant[] = [
  { name: 'no affine', options: () => ({}), mean: 0, std: 1 },
  {
    name: 'scale and bias, epsilon 1e-3',
    options: (c) => ({ scale: randomUniform(c, 21, -2, 2), bias: randomUniform(c, 22, -1, 1), epsilon: 1e-3 }),
    mean: 0.5,
    std: 3,
  },
  { name: 'mean 1e4 standard deviations from zero', options: (c) => ({ bias: randomUniform(c, 23, -1, 1) }), mean: 1e4, std: 1 },
  { name: 'negative offset, small spread, epsilon 0', options: () => ({ epsilon: 0 }), mean: -300, std: 0.03 },
];

async function expectGpuMatchesCpu(t: TensorCase, layout: Layout, variant: Variant, strategy = STRATEGY_CHOICES[0], seed = 1) {
  const shape = shapeOf(t, layout);
  const input = randomNormal(elementCount(t), seed, variant.mean, variant.std);
  const options = { ...variant.options(t.channels), layout };
  const expected = instanceNormCpu(input, shape, options);
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
