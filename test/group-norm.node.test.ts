import { describe, expect, it } from 'vitest';
import { instanceNormCpu, instanceStatsCpu } from '../src';
import { referenceInstanceNorm } from '../src/reference/float64-reference';
import { expectClose } from './helpers/compare';
import { randomNormal, randomUniform } from './helpers/random';
import { shapeOf, type TensorCase, toChannelsLast } from './helpers/shapes';

const t: TensorCase = { batch: 2, channels: 6, spatial: [5, 3] };
const x = randomNormal(2 * 6 * 15, 51, 4, 3);
const scale = randomUniform(6, 52, 0.5, 2);
const bias = randomUniform(6, 53, -1, 1);

/** Layer norm over (C, spatial) of each image, written out directly: float64, two passes. */
function layerNorm(input: Float32Array, batch: number, perImage: number, channelOf: (i: number) => number): Float32Array {
  const out = new Float32Array(input.length);
  for (let n = 0; n < batch; n++) {
    const start = n * perImage;
    let sum = 0;
    for (let i = start; i < start + perImage; i++) sum += input[i];
    const mean = sum / perImage;
    let squares = 0;
    for (let i = start; i < start + perImage; i++) squares += (input[i] - mean) ** 2;
    const invStd = 1 / Math.sqrt(squares / perImage + 1e-5);
    for (let i = start; i < start + perImage; i++) out[i] = (input[i] - mean) * invStd * scale[channelOf(i)] + bias[channelOf(i)];
  }
  return out;
}

describe('GroupNorm on the CPU', () => {
  it('groups = C is instance norm', () => {
    expect(instanceNormCpu(x, shapeOf(t, 'nchw'), { groups: 6, scale, bias })).toEqual(
      instanceNormCpu(x, shapeOf(t, 'nchw'), { scale, bias }),
    );
  });

  it('groups = 1 is a layer norm over (C, spatial), in both layouts', () => {
    const nchw = instanceNormCpu(x, shapeOf(t, 'nchw'), { groups: 1, scale, bias });
    expectClose(
      nchw,
      layerNorm(x, 2, 90, (i) => Math.floor(i / 15) % 6),
      1e-6,
    );
    const channelsLast = toChannelsLast(x, t);
    const nhwc = instanceNormCpu(channelsLast, shapeOf(t, 'nhwc'), { groups: 1, scale, bias, layout: 'nhwc' });
    expectClose(
      nhwc,
      layerNorm(channelsLast, 2, 90, (i) => i % 6),
      1e-6,
    );
  });

  it('groups = 3 normalizes pairs of channels together: by hand on [1, 4, 2] with 2 groups', () => {
    // group 0: channels [0, 2] and [4, 6] → values 0, 2, 4, 6: mean 3, variance 5
    // group 1: channels [1, 1] and [1, 5] → mean 2, variance 3
    const y = instanceNormCpu(new Float32Array([0, 2, 4, 6, 1, 1, 1, 5]), [1, 4, 2], { groups: 2, epsilon: 0 });
    const a = 1 / Math.sqrt(5);
    const b = 1 / Math.sqrt(3);
    expectClose(y, new Float32Array([-3 * a, -a, a, 3 * a, -b, -b, -b, 3 * b]), 1e-6);
  });

  it('nhwc matches nchw with groups = 3, and stats give each channel its group statistics', () => {
    const nchw = instanceNormCpu(x, shapeOf(t, 'nchw'), { groups: 3, scale, bias });
    const nhwc = instanceNormCpu(toChannelsLast(x, t), shapeOf(t, 'nhwc'), { groups: 3, scale, bias, layout: 'nhwc' });
    expectClose(nhwc, toChannelsLast(nchw, t), 1e-6);
    const { mean } = instanceStatsCpu(x, shapeOf(t, 'nchw'), { groups: 3 });
    expect(mean[0]).toBe(mean[1]);
    expect(mean[2]).not.toBe(mean[1]);
  });

  it('rejects groups that do not divide C, and groups with running statistics', () => {
    expect(() => instanceNormCpu(x, shapeOf(t, 'nchw'), { groups: 4 })).toThrow(
      /groups must be a positive integer dividing C = 6, got 4/,
    );
    expect(() => instanceNormCpu(x, shapeOf(t, 'nchw'), { groups: 0 })).toThrow(/groups must be a positive integer/);
  });
});

// The CPU's GroupNorm loops (statistics by image in nhwc, output by instance) on U-Net-like widths,
// odd sizes and a group of two million values, against the float64 reference.
describe('GroupNorm on the CPU against the float64 reference', () => {
  const cases: [string, TensorCase, number, (c: TensorCase) => Record<string, unknown>][] = [
    [
      '40 channels in 8 groups, SiLU and a residual',
      { batch: 2, channels: 40, spatial: [7, 9] },
      8,
      (c) => ({
        scale: randomUniform(c.channels, 61, -2, 2),
        bias: randomUniform(c.channels, 62, -1, 1),
        activation: 'silu',
        residual: randomNormal(elements(c), 63),
      }),
    ],
    [
      '24 channels in 6 groups, one odd spatial dimension, per-instance scale',
      { batch: 3, channels: 24, spatial: [33] },
      6,
      (c) => ({
        scale: randomUniform(c.batch * c.channels, 64, 0.5, 2),
      }),
    ],
    [
      '32 channels in 8 groups, SiLU alone (the WebAssembly kernels), scale up to ±400',
      { batch: 2, channels: 32, spatial: [5, 13] },
      8,
      (c) => ({
        scale: randomUniform(c.channels, 66, -400, 400),
        bias: randomUniform(c.channels, 67, -1, 1),
        activation: 'silu',
      }),
    ],
    ['5 channels in one group, GELU', { batch: 2, channels: 5, spatial: [3, 5] }, 1, () => ({ activation: 'gelu' })],
    [
      '4 channels in 2 groups of a million values each',
      { batch: 1, channels: 4, spatial: [1024, 1024] },
      2,
      (c) => ({
        bias: randomUniform(c.channels, 65, -1, 1),
      }),
    ],
  ];
  const elements = (c: TensorCase) => c.batch * c.channels * c.spatial.reduce((a, b) => a * b, 1);
  for (const layout of ['nchw', 'nhwc'] as const) {
    it.each(cases)(
      `%s (${layout})`,
      (_name, c, groups, extra) => {
        const input = randomNormal(elements(c), 60, 3, 2);
        const options = { layout, groups, ...extra(c) };
        expectClose(
          instanceNormCpu(input, shapeOf(c, layout), options),
          referenceInstanceNorm(input, shapeOf(c, layout), options),
          1e-5,
        );
      },
      60_000,
    ); // the million-value groups take about a second alone, several beside the browser suite
  }
});
