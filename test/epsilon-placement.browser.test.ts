import { describe, expect, it } from 'vitest';
import { type InstanceNormOptions, type Layout, RunningStats, toFloat16Bits } from '../src';
import { referenceAdain, referenceInstanceNorm, referenceStats } from '../src/reference/float64-reference';
import { BACKWARD_VARIANTS, type BackwardVariant, backwardOnGpu } from './helpers/backward';
import { expectClose } from './helpers/compare';
import { expectWithinHalfUlps, normalizeHalvesOnGpu } from './helpers/float16';
import { normalizeOnGpu } from './helpers/gpu';
import { STRATEGY_CHOICES, type StrategyChoice, useGpuInstances } from './helpers/gpu-instance';
import { randomNormal, randomUniform } from './helpers/random';
import { describeCase, elementCount, shapeOf, type TensorCase } from './helpers/shapes';

// epsilonPlacement 'std' (keras-contrib's (x − mean) / (sqrt(var) + ε)) on the GPU, through every
// strategy and element kind, forward, GroupNorm, float16, statistics, AdaIN, eval mode and the
// backward, against the float64 reference (whose formula test/epsilon-placement.node.test.ts
// checks against keras-contrib's, written out). Outputs are poisoned with NaN. The data has a
// small spread (σ of 2e-3 against ε = 1e-3) far from zero, where the placements differ most.

const gpu = useGpuInstances();
const EPSILON = 1e-3;

const SHAPES: TensorCase[] = [
  { batch: 2, channels: 3, spatial: [5, 7] }, // scalar elements / masked channel groups
  { batch: 3, channels: 8, spatial: [4, 4] }, // vec4 positions / vec4 channel groups
  { batch: 1, channels: 5, spatial: [9] }, // 1-D
  { batch: 2, channels: 2, spatial: [3, 4, 5] }, // 3-D
  { batch: 2, channels: 3, spatial: [6, 10] }, // nhwc RGB quads
  { batch: 1, channels: 2, spatial: [150, 151] }, // several chunks an instance
];

const data = (count: number, seed: number) => randomNormal(count, seed, 50, 2e-3);

describe.each(STRATEGY_CHOICES)('strategy %s', (strategy) => {
  describe.each(['nchw', 'nhwc'] as const)('%s', (layout) => {
    it.each(SHAPES.map((t) => [describeCase(t), t] as const))('%s: scale, bias and SiLU', async (_, t) => {
      const shape = shapeOf(t, layout);
      const x = data(elementCount(t), 1);
      const options: InstanceNormOptions = {
        layout,
        epsilon: EPSILON,
        epsilonPlacement: 'std',
        scale: randomUniform(t.channels, 2, -2, 2),
        bias: randomUniform(t.channels, 3, -1, 1),
        activation: 'silu',
      };
      const expected = referenceInstanceNorm(x, shape, options);
      expectClose(await normalizeOnGpu(gpu.norm(strategy), x, shape, options), expected, 1e-4, 1e-4);
      // The placement reaches the kernels: the other one is far off here.
      const other = referenceInstanceNorm(x, shape, { ...options, epsilonPlacement: 'variance' });
      expect(Math.max(...other.map((v, i) => Math.abs(v - expected[i])))).toBeGreaterThan(1e-2);
    });
  });

  it.each([
    [{ batch: 2, channels: 8, spatial: [6, 5] }, 'nchw', 2],
    [{ batch: 2, channels: 8, spatial: [5, 6] }, 'nhwc', 2], // groups of whole channel groups of four
    [{ batch: 2, channels: 6, spatial: [5, 7] }, 'nhwc', 3], // groups across channel groups: split
    [{ batch: 1, channels: 4, spatial: [120, 130] }, 'nchw', 1], // one group of everything, in chunks
  ] as const)('GroupNorm %o %s, groups %i', async (t, layout: Layout, groups) => {
    const shape = shapeOf(t, layout);
    const x = data(elementCount(t), 4);
    const options = {
      layout,
      groups,
      epsilon: EPSILON,
      epsilonPlacement: 'std',
      bias: randomUniform(t.channels, 5, -1, 1),
    } as const;
    expectClose(
      await normalizeOnGpu(gpu.norm(strategy), x, shape, options),
      referenceInstanceNorm(x, shape, options),
      1e-4,
      1e-4,
    );
  });

  it.each([
    [[2, 3, 5, 7], 'nchw'],
    [[2, 6, 5, 8], 'nhwc'],
    [[2, 5, 7, 3], 'nhwc'],
  ] as const)('float16 %o %s, within 2 half ulps', async (shape, layout: Layout) => {
    const x = toFloat16Bits(randomNormal(shape[0] * shape[1] * shape[2] * shape[3], 6, 2, 0.01));
    const options = { layout, epsilon: EPSILON, epsilonPlacement: 'std', dataType: 'float16' } as const;
    const expected = referenceInstanceNorm(x, shape, options);
    expectWithinHalfUlps(await normalizeHalvesOnGpu(gpu.norm(strategy), x, shape, options), expected, 2);
  });
});

describe('statistics, AdaIN and eval mode', () => {
  it.each([
    [[2, 3, 5, 7], 'nchw'],
    [[2, 9, 11, 3], 'nhwc'],
    [[2, 6, 6, 8], 'nhwc'],
    [[1, 2, 700, 700], 'nchw'],
  ] as const)('stats() of %o %s: invStd = 1 / (σ + ε)', async (shape, layout: Layout) => {
    const x = data(
      (shape as readonly number[]).reduce((a, b) => a * b, 1),
      7,
    );
    const options = { layout, epsilon: EPSILON, epsilonPlacement: 'std' } as const;
    const actual = await gpu.norm().stats(x, shape, options);
    const expected = referenceStats(x, shape, options);
    expectClose(actual.mean, expected.mean, 1e-4);
    expectClose(actual.invStd, expected.invStd, 0, 1e-4);
  });

  it("adain(): the style's σ + ε and mean", async () => {
    const content = data(2 * 3 * 4 * 5, 8);
    const style = randomNormal(2 * 3 * 6 * 2, 9, -1, 0.01);
    const options = { epsilon: EPSILON, epsilonPlacement: 'std' } as const;
    const expected = referenceAdain(content, [2, 3, 4, 5], style, [2, 3, 6, 2], options);
    expectClose(await gpu.norm().adain(content, [2, 3, 4, 5], style, [2, 3, 6, 2], options), expected, 1e-4, 1e-4);
  });

  it.each(STRATEGY_CHOICES)('eval mode, strategy %s: (x − running mean) / (sqrt(running var) + ε)', async (strategy) => {
    const norm = gpu.norm(strategy);
    const mean = new Float32Array([1, -2, 0.5, 3]);
    const variance = new Float32Array([4, 0.25, 0, 1e-6]);
    const running = norm.createRunningStats(4);
    running.set({ mean, variance });
    const onCpu = new RunningStats(4);
    onCpu.set({ mean, variance });
    const x = randomNormal(2 * 4 * 15, 10);
    const options = { epsilon: 0.5, epsilonPlacement: 'std', training: false } as const;
    const actual = await normalizeOnGpu(norm, x, [2, 4, 15], { ...options, runningStats: running });
    expectClose(actual, referenceInstanceNorm(x, [2, 4, 15], { ...options, runningStats: onCpu }), 1e-5, 1e-5);
    running.destroy();
  });
});

async function expectBackwardMatches(t: TensorCase, layout: Layout, variant: BackwardVariant, strategy: StrategyChoice) {
  const count = elementCount(t);
  // Near zero: a saved float32 mean far from zero would be off by a part in 1e3 of σ = 0.01.
  const x = randomNormal(count, 11, 2, 0.01);
  const dy = randomNormal(count, 12, 0.5, 2);
  const affineLength = variant === 'per-instance scale' ? t.batch * t.channels : t.channels;
  const options = {
    layout,
    epsilon: EPSILON,
    epsilonPlacement: 'std',
    scale: randomUniform(affineLength, 13, -2, 2),
    bias: randomUniform(affineLength, 14, -1, 1),
  } as const;
  const running = { mean: randomUniform(t.channels, 15, 1.9, 2.1), variance: randomUniform(t.channels, 16, 0, 1e-4) };
  const actual = await backwardOnGpu(gpu.norm(strategy), t, layout, { x, dy }, options, variant, running);
  const { expected } = actual;
  // dx is of order γ dy / (σ + ε), up to about 1e3 here.
  const scale = Math.max(...expected.gradInput.map(Math.abs));
  expectClose(actual.gradInput, expected.gradInput, 1e-4 * scale, 1e-4);
  const sumTolerance = 1e-4 * Math.sqrt(count) * 4;
  expectClose(actual.gradScale, expected.gradScale as Float32Array, sumTolerance, 1e-4);
  expectClose(actual.gradBias, expected.gradBias as Float32Array, sumTolerance, 1e-4);
}

describe.each(STRATEGY_CHOICES)('the backward, strategy %s', (strategy) => {
  const cases: [TensorCase, Layout][] = [
    [{ batch: 2, channels: 3, spatial: [5, 7] }, 'nchw'],
    [{ batch: 3, channels: 8, spatial: [4, 4] }, 'nhwc'],
    [{ batch: 1, channels: 4, spatial: [150, 151] }, 'nchw'],
  ];
  describe.each(cases.map(([t, layout]) => [`${describeCase(t)} ${layout}`, t, layout] as const))('%s', (_, t, layout) => {
    it.each(BACKWARD_VARIANTS)('%s', async (variant) => {
      await expectBackwardMatches(t, layout, variant, strategy);
    });
  });
});
