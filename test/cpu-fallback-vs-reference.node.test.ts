import { describe, expect, it } from 'vitest';
import {
  adainCpu,
  fromFloat16Bits,
  type InstanceNormOptions,
  instanceNormBackwardCpu,
  instanceNormCpu,
  instanceStatsCpu,
  type Layout,
  RunningStats,
  toFloat16Bits,
} from '../src';
import { referenceAdain, referenceBackward, referenceInstanceNorm, referenceStats } from '../src/reference/float64-reference';
import { expectClose } from './helpers/compare';
import { SHAPES, VARIANTS } from './helpers/grids';
import { randomNormal, randomUniform } from './helpers/random';
import { describeCase, elementCount, shapeOf, type TensorCase } from './helpers/shapes';

// The CPU fallback (JavaScript loops and WebAssembly SIMD) against the float64 reference, on
// the grid the GPU is tested on and on every feature. Both compute in float64; they differ in
// the order of additions only, so the bar is far below the GPU's 1e-4.
const TOLERANCE = 1e-5;

const layouts: readonly Layout[] = ['nchw', 'nhwc'];

describe.each(layouts)('instanceNormCpu, %s, matches the reference on the GPU grid', (layout) => {
  describe.each(SHAPES.map((t) => [describeCase(t), t] as const))('%s', (_name, t) => {
    it.each(VARIANTS.map((v) => [v.name, v] as const))('%s', (_variant, variant) => {
      const shape = shapeOf(t, layout);
      const x = randomNormal(elementCount(t), 3, variant.mean, variant.std);
      const options = { ...variant.options(t.channels), layout };
      expectClose(instanceNormCpu(x, shape, options), referenceInstanceNorm(x, shape, options), TOLERANCE);
    });
  });
});

const FEATURE_SHAPES: TensorCase[] = [
  { batch: 2, channels: 4, spatial: [5, 7] },
  { batch: 2, channels: 6, spatial: [9] },
  { batch: 1, channels: 8, spatial: [16, 16] },
  { batch: 3, channels: 3, spatial: [2, 3, 4] },
];

describe.each(layouts)('every feature on the CPU, %s, against the reference', (layout) => {
  describe.each(FEATURE_SHAPES.map((t) => [describeCase(t), t] as const))('%s', (_name, t) => {
    const shape = shapeOf(t, layout);
    const count = elementCount(t);
    const C = t.channels;
    const x = randomNormal(count, 11, 2, 3);
    const residual = randomNormal(count, 12);
    const cases: [string, InstanceNormOptions][] = [
      [
        'per-instance scale and bias',
        { scale: randomUniform(t.batch * C, 13, -2, 2), bias: randomUniform(t.batch * C, 14, -1, 1) },
      ],
      ['GroupNorm, one group', { groups: 1, scale: randomUniform(C, 15, 0.5, 2) }],
      [
        'GroupNorm, groups of two channels (of one where C is odd)',
        { groups: C % 2 === 0 ? C / 2 : C, bias: randomUniform(C, 16, -1, 1) },
      ],
      ['relu', { activation: 'relu' }],
      ['leakyRelu 0.2 with residual after', { activation: 'leakyRelu', activationAlpha: 0.2, residual }],
      ['silu with residual before', { activation: 'silu', residual, residualPosition: 'before-activation' }],
      // Alone, SiLU runs in the WebAssembly kernels: scales that take |v| past exp's range.
      ['silu, scale up to ±400', { activation: 'silu', scale: randomUniform(C, 19, -400, 400) }],
      ['gelu', { activation: 'gelu', scale: randomUniform(C, 17, -2, 2) }],
      ['epsilon 0.5', { epsilon: 0.5 }],
    ];
    it.each(cases)('%s', (_case, options) => {
      const withLayout = { ...options, layout };
      expectClose(instanceNormCpu(x, shape, withLayout), referenceInstanceNorm(x, shape, withLayout), TOLERANCE);
    });

    it('statistics, with and without groups', () => {
      for (const options of [{ layout }, { layout, groups: 1 }]) {
        const fast = instanceStatsCpu(x, shape, options);
        const reference = referenceStats(x, shape, options);
        expectClose(fast.mean, reference.mean, TOLERANCE, TOLERANCE);
        expectClose(fast.invStd, reference.invStd, TOLERANCE, TOLERANCE);
      }
    });

    it('running statistics: two training updates (momentum 0.1, then null), then eval', () => {
      const fast = new RunningStats(C);
      const reference = new RunningStats(C);
      for (const momentum of [0.1, null]) {
        const options = { layout, runningStats: fast, momentum };
        expectClose(
          instanceNormCpu(x, shape, options),
          referenceInstanceNorm(x, shape, { ...options, runningStats: reference }),
          TOLERANCE,
        );
      }
      expect(fast.batchesTracked).toBe(2);
      expect(reference.batchesTracked).toBe(2);
      expectClose(fast.cpuValues(), reference.cpuValues(), TOLERANCE, TOLERANCE);
      const evalMode = { layout, training: false };
      expectClose(
        instanceNormCpu(residual, shape, { ...evalMode, runningStats: fast }),
        referenceInstanceNorm(residual, shape, { ...evalMode, runningStats: reference }),
        TOLERANCE,
      );
    });

    it('float16 storage: the same halves, or neighbours where the float64 results straddle a rounding tie', () => {
      const halves = toFloat16Bits(x);
      const options = { layout, dataType: 'float16' as const, scale: randomUniform(C, 18, -2, 2) };
      const fast = fromFloat16Bits(instanceNormCpu(halves, shape, options));
      const reference = fromFloat16Bits(referenceInstanceNorm(halves, shape, options));
      expectClose(fast, reference, 1e-3, 1e-3);
    });

    it('AdaIN, a style per image and one style for all', () => {
      const style = randomNormal(count, 19, -1, 0.5);
      const one = randomNormal(count / t.batch, 20, 4, 2);
      const oneShape = shapeOf({ ...t, batch: 1 }, layout);
      expectClose(adainCpu(x, shape, style, shape, { layout }), referenceAdain(x, shape, style, shape, { layout }), TOLERANCE);
      expectClose(
        adainCpu(x, shape, one, oneShape, { layout, activation: 'relu' }),
        referenceAdain(x, shape, one, oneShape, { layout, activation: 'relu' }),
        TOLERANCE,
      );
    });

    it('the backward: recomputed, saved, per-instance scale, eval mode', () => {
      const dy = randomNormal(count, 21);
      const scale = randomUniform(C, 22, -2, 2);
      const running = new RunningStats(C);
      running.set({ mean: randomUniform(C, 23, -1, 1), variance: randomUniform(C, 24, 0.5, 2) });
      const variants: BackwardCase[] = [
        { layout, scale },
        { layout, affine: true, savedStats: instanceStatsCpu(x, shape, { layout }) },
        { layout, scale: randomUniform(t.batch * C, 25, -2, 2), bias: new Float32Array(t.batch * C) },
        { layout, scale, runningStats: running, training: false },
      ];
      for (const options of variants) {
        const fast = instanceNormBackwardCpu(dy, x, shape, options);
        const reference = referenceBackward(dy, x, shape, options);
        expectClose(fast.gradInput, reference.gradInput, TOLERANCE, TOLERANCE);
        expectClose(fast.gradScale!, reference.gradScale!, 1e-4, 1e-5);
        expectClose(fast.gradBias!, reference.gradBias!, 1e-4, 1e-5);
      }
    });
  });
});

type BackwardCase = Parameters<typeof instanceNormBackwardCpu>[3];
