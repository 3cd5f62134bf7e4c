import { describe, expect, it } from 'vitest';
import { instanceNormCpu, instanceStatsCpu } from '../src';
import { expectClose } from './helpers/compare';
import { randomNormal, randomUniform } from './helpers/random';
import { shapeOf, type TensorCase, toChannelsLast } from './helpers/shapes';

describe('instanceNormCpu against hand-computed values', () => {
  it('normalizes [1, 2, 3, 4] to ±3/√5 and ±1/√5 (mean 2.5, variance 1.25)', () => {
    const y = instanceNormCpu(new Float32Array([1, 2, 3, 4]), [1, 1, 4], { epsilon: 0 });
    const a = 3 / Math.sqrt(5);
    const b = 1 / Math.sqrt(5);
    expectClose(y, new Float32Array([-a, -b, b, a]), 1e-7);
  });

  it('applies epsilon inside the square root: [0, 2] with epsilon 3 gives ±1/2', () => {
    // mean 1, variance 1, 1 / sqrt(1 + 3) = 1/2
    expectClose(instanceNormCpu(new Float32Array([0, 2]), [1, 1, 2], { epsilon: 3 }), new Float32Array([-0.5, 0.5]), 1e-7);
  });

  it('applies scale and bias per channel', () => {
    // two channels, each [0, 2]: normalized ±1 (epsilon 0), then * scale[c] + bias[c]
    const y = instanceNormCpu(new Float32Array([0, 2, 10, 14]), [1, 2, 2], {
      epsilon: 0,
      scale: new Float32Array([2, -3]),
      bias: new Float32Array([1, 5]),
    });
    expectClose(y, new Float32Array([-1, 3, 8, 2]), 1e-6);
  });

  it('gives bias for a single element per instance (variance 0)', () => {
    const y = instanceNormCpu(new Float32Array([7, -3, 1e6]), [1, 3, 1], { bias: new Float32Array([0.5, -2, 9]) });
    expectClose(y, new Float32Array([0.5, -2, 9]), 0);
  });

  it('normalizes each (n, c) instance of a batch independently', () => {
    // instance 0: [1, 3] → ±1; instance 1: [10, 10] → 0; instance 2: [-4, 0] → ±1; instance 3: [5, 1] → ±1
    const y = instanceNormCpu(new Float32Array([1, 3, 10, 10, -4, 0, 5, 1]), [2, 2, 2], { epsilon: 0 });
    expectClose(y.slice(0, 2), new Float32Array([-1, 1]), 1e-7);
    // var + epsilon = 0: 1 / sqrt(0) is taken as 0, as PyTorch's InvStd does, so the output is the bias 0
    expect(Array.from(y.slice(2, 4))).toEqual([0, 0]);
    expectClose(y.slice(4), new Float32Array([-1, 1, 1, -1]), 1e-7);
  });
});

describe('instanceNormCpu invariants on seeded random data', () => {
  const cases: TensorCase[] = [
    { batch: 2, channels: 3, spatial: [17] },
    { batch: 1, channels: 4, spatial: [9, 11] },
    { batch: 2, channels: 2, spatial: [3, 4, 5] },
  ];

  it.each(cases)('output has mean 0 and variance var/(var+eps) per instance: %o', (t) => {
    const shape = shapeOf(t, 'nchw');
    const size = t.spatial.reduce((a, b) => a * b, 1);
    const x = randomNormal(t.batch * t.channels * size, 11, 3, 0.05);
    const epsilon = 1e-3;
    const y = instanceNormCpu(x, shape, { epsilon });
    for (let i = 0; i < t.batch * t.channels; i++) {
      const xi = Array.from(x.subarray(i * size, (i + 1) * size));
      const yi = Array.from(y.subarray(i * size, (i + 1) * size));
      const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
      const variance = (v: number[]) => mean(v.map((e) => (e - mean(v)) ** 2));
      const inputVariance = variance(xi);
      expect(Math.abs(mean(yi))).toBeLessThan(1e-6);
      expect(variance(yi)).toBeCloseTo(inputVariance / (inputVariance + epsilon), 5);
    }
  });

  // 2-3: a loop of their own; 4-7: blocks of four; 8 and up: blocks of eight, the last overlapping.
  const channelCounts = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 16].map((channels) => ({ batch: 2, channels, spatial: [5, 3] }));
  // Images of several 64K-value tiles (the nhwc passes with C >= 8 go over them tile by tile), the
  // last tile partial; C = 13 with an overlapping block, C = 6 in blocks of four.
  channelCounts.push(
    { batch: 2, channels: 6, spatial: [150, 151] },
    { batch: 2, channels: 13, spatial: [150, 151] },
    { batch: 2, channels: 64, spatial: [40, 41] },
  );

  it.each([...cases, ...channelCounts])('nchw and nhwc give the same result after a transpose: %o', (t) => {
    const x = randomNormal(t.batch * t.channels * t.spatial.reduce((a, b) => a * b, 1), 5, -1, 2);
    const scale = randomUniform(t.channels, 6, 0.5, 2);
    const bias = randomUniform(t.channels, 7, -1, 1);
    const nchw = instanceNormCpu(x, shapeOf(t, 'nchw'), { scale, bias });
    const nhwc = instanceNormCpu(toChannelsLast(x, t), shapeOf(t, 'nhwc'), { layout: 'nhwc', scale, bias });
    expectClose(nhwc, toChannelsLast(nchw, t), 1e-6);
  });

  it('scale and bias act as y = ŷ * scale[c] + bias[c] on the unscaled output', () => {
    const t = { batch: 2, channels: 3, spatial: [5, 6] };
    const x = randomNormal(2 * 3 * 30, 9);
    const scale = randomUniform(3, 1, -2, 2);
    const bias = randomUniform(3, 2, -1, 1);
    const plain = instanceNormCpu(x, shapeOf(t, 'nchw'));
    const affine = instanceNormCpu(x, shapeOf(t, 'nchw'), { scale, bias });
    const expected = plain.map((v, i) => v * scale[Math.floor(i / 30) % 3] + bias[Math.floor(i / 30) % 3]);
    expectClose(affine, expected, 1e-6);
  });

  it('stays exact when the mean is 1e4 standard deviations from zero', () => {
    const x = randomNormal(4096, 3, 1e4, 1);
    const y = instanceNormCpu(x, [1, 1, 4096]);
    const mean = y.reduce((a, b) => a + b, 0) / y.length;
    const variance = y.reduce((a, b) => a + (b - mean) ** 2, 0) / y.length;
    expect(Math.abs(mean)).toBeLessThan(1e-6);
    expect(variance).toBeCloseTo(1, 3);
  });
});

describe('instanceStatsCpu', () => {
  it('gives the mean and 1 / sqrt(var + epsilon) of each instance: [1, 2, 3, 4] → 2.5 and 1 / sqrt(1.25 + 0.75)', () => {
    const { mean, invStd } = instanceStatsCpu(new Float32Array([1, 2, 3, 4, 10, 10, 10, 10]), [1, 2, 4], { epsilon: 0.75 });
    expectClose(mean, new Float32Array([2.5, 10]), 1e-7);
    expectClose(invStd, new Float32Array([1 / Math.sqrt(2), 1 / Math.sqrt(0.75)]), 1e-7);
  });

  it('indexes n * C + c in either layout', () => {
    const t = { batch: 2, channels: 3, spatial: [4, 5] };
    const x = randomNormal(2 * 3 * 20, 8, 2, 3);
    const nchw = instanceStatsCpu(x, shapeOf(t, 'nchw'));
    const nhwc = instanceStatsCpu(toChannelsLast(x, t), shapeOf(t, 'nhwc'), { layout: 'nhwc' });
    expectClose(nhwc.mean, nchw.mean, 1e-6);
    expectClose(nhwc.invStd, nchw.invStd, 0, 1e-6);
  });
});
