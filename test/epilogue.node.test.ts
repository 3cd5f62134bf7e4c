import { describe, expect, it } from 'vitest';
import { instanceNormCpu } from '../src';
import { expectClose } from './helpers/compare';
import { randomNormal, randomUniform } from './helpers/random';
import { shapeOf, type TensorCase, toChannelsLast } from './helpers/shapes';

// [-1, 1] normalizes to exactly [-1, 1] with epsilon 0 (mean 0, variance 1), so the epilogue's
// input is known. Expected values from the definitions (PyTorch's silu, gelu approximate='tanh').
const PAIR = new Float32Array([-1, 1]);
const pair = (options: object) => instanceNormCpu(PAIR, [1, 1, 2], { epsilon: 0, ...options });
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const geluTanh = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));

describe('the CPU epilogue against its definitions', () => {
  it('relu', () => expectClose(pair({ activation: 'relu' }), new Float32Array([0, 1]), 0));
  it('leakyRelu with the default slope 0.01 and with 0.2', () => {
    expectClose(pair({ activation: 'leakyRelu' }), new Float32Array([-0.01, 1]), 0);
    expectClose(pair({ activation: 'leakyRelu', activationAlpha: 0.2 }), new Float32Array([-0.2, 1]), 0);
  });
  it('silu: v · sigmoid(v), silu(1) ≈ 0.731059', () => {
    expectClose(pair({ activation: 'silu' }), new Float32Array([-sigmoid(-1), sigmoid(1)]), 0);
    expect(pair({ activation: 'silu' })[1]).toBeCloseTo(0.731059, 6);
  });
  it('gelu, tanh form: gelu(1) ≈ 0.841192, gelu(-1) ≈ -0.158808', () => {
    const y = pair({ activation: 'gelu' });
    expectClose(y, new Float32Array([geluTanh(-1), geluTanh(1)]), 0);
    expect(y[0]).toBeCloseTo(-0.158808, 6);
    expect(y[1]).toBeCloseTo(0.841192, 6);
  });
  it('adds the residual after the activation by default, before it on request', () => {
    const residual = new Float32Array([0.5, -3]);
    expectClose(pair({ activation: 'relu', residual }), new Float32Array([0.5, -2]), 0);
    const before = pair({ activation: 'relu', residual, residualPosition: 'before-activation' });
    expectClose(before, new Float32Array([0, 0]), 0); // relu(-1 + 0.5), relu(1 - 3)
  });
  it('keeps NaN through relu', () => {
    const y = instanceNormCpu(new Float32Array([Number.NaN, 1]), [1, 1, 2], { activation: 'relu' });
    expect(Number.isNaN(y[0]) && Number.isNaN(y[1])).toBe(true);
  });
});

describe('per-instance scale and bias on the CPU', () => {
  it('takes scale[n * C + c] and bias[n * C + c] where they hold N × C values', () => {
    // N = 2, C = 1, each instance [-1, 1] → ±1, then instance 0: ×2 + 0, instance 1: ×3 + 10
    const y = instanceNormCpu(new Float32Array([-1, 1, -1, 1]), [2, 1, 2], {
      epsilon: 0,
      scale: new Float32Array([2, 3]),
      bias: new Float32Array([0, 10]),
    });
    expectClose(y, new Float32Array([-2, 2, 7, 13]), 0);
  });

  // C = 3: its own loop; 6: two blocks of four, overlapping; 13: blocks of eight, overlapping.
  it.each([3, 6, 13])('gives the same result in nhwc as in nchw, per instance, with an epilogue (C = %i)', (channels) => {
    const t: TensorCase = { batch: 3, channels, spatial: [5, 3] };
    const x = randomNormal(3 * channels * 15, 3, 2, 4);
    const options = {
      scale: randomUniform(3 * channels, 4, -2, 2),
      bias: randomUniform(3 * channels, 5, -1, 1),
      activation: 'silu' as const,
    };
    const residual = randomNormal(x.length, 6);
    const nchw = instanceNormCpu(x, shapeOf(t, 'nchw'), { ...options, residual });
    const nhwc = instanceNormCpu(toChannelsLast(x, t), shapeOf(t, 'nhwc'), {
      ...options,
      layout: 'nhwc',
      residual: toChannelsLast(residual, t),
    });
    expectClose(nhwc, toChannelsLast(nchw, t), 1e-6);
  });
});
