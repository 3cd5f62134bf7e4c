import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { adainCpu, InstanceNormError, type InstanceNormOptions, instanceNormCpu } from '../src';
import { referenceAdain, referenceInstanceNorm } from '../src/reference/float64-reference';
import { adaIn, type DataFormat, groupNorm, instanceNorm, instanceNormReady, type TfjsActivation } from '../src/tfjs';
import { expectClose } from './helpers/compare';
import { randomNormal, randomUniform } from './helpers/random';
import { poisonPool, useBackend } from './tfjs-shared';

// The ops against the library's float64 CPU reference (instanceNormCpu, adainCpu) on seeded
// data, on TF.js's WebGPU backend (the library's kernels on TF.js's buffers) and on its CPU
// backend (the library's CPU implementation). Outputs on WebGPU land in buffers TF.js had
// filled with NaN and released just before (poisonPool), so an element left unwritten shows.

const LIBRARY_ACTIVATION: Record<TfjsActivation, NonNullable<InstanceNormOptions['activation']>> = {
  linear: 'none',
  relu: 'relu',
  leakyrelu: 'leakyRelu',
  silu: 'silu',
  gelu: 'gelu',
};

interface Case {
  readonly name: string;
  /** [N, C, ...spatial]: the logical shape; channelsLast puts C last. */
  readonly dims: readonly number[];
  readonly dataFormat: DataFormat;
  readonly groups?: number;
  readonly affine: 'none' | 'per-channel' | 'per-instance' | 'scale-only';
  readonly activation?: TfjsActivation;
  readonly residual?: 'after-activation' | 'before-activation';
}

const CASES: Case[] = [];
for (const dataFormat of ['channelsLast', 'channelsFirst'] as const) {
  for (const dims of [
    [2, 5, 13],
    [2, 6, 7, 9],
    [1, 4, 3, 5, 6],
  ]) {
    for (const affine of ['none', 'per-channel'] as const) {
      CASES.push({ name: `rank ${dims.length}, ${affine}`, dims, dataFormat, affine });
    }
  }
  CASES.push({ name: 'per-instance affine', dims: [3, 4, 6, 5], dataFormat, affine: 'per-instance' });
  CASES.push({ name: 'scale only', dims: [2, 4, 6, 5], dataFormat, affine: 'scale-only' });
  for (const groups of [1, 2, 4]) {
    CASES.push({ name: `GroupNorm G = ${groups}`, dims: [2, 8, 5, 7], dataFormat, groups, affine: 'per-channel' });
  }
  CASES.push({ name: 'GroupNorm G = 3, rank 5', dims: [1, 6, 3, 4, 5], dataFormat, groups: 3, affine: 'per-channel' });
  CASES.push({
    name: 'relu + residual after',
    dims: [2, 4, 8, 8],
    dataFormat,
    affine: 'per-channel',
    activation: 'relu',
    residual: 'after-activation',
  });
  CASES.push({
    name: 'silu, residual before',
    dims: [2, 4, 8, 8],
    dataFormat,
    affine: 'per-channel',
    activation: 'silu',
    residual: 'before-activation',
  });
  CASES.push({ name: 'gelu', dims: [1, 3, 9, 9], dataFormat, affine: 'per-channel', activation: 'gelu' });
  CASES.push({
    name: 'leakyrelu, GroupNorm G = 2',
    dims: [2, 4, 6, 6],
    dataFormat,
    groups: 2,
    affine: 'per-channel',
    activation: 'leakyrelu',
  });
}

function physicalShape(dims: readonly number[], dataFormat: DataFormat): number[] {
  const [n, c, ...spatial] = dims;
  return dataFormat === 'channelsFirst' ? [...dims] : [n, ...spatial, c];
}

describe.each(['webgpu', 'cpu'])("ops on TF.js's %s backend match the float64 CPU reference", (backend) => {
  it.each(CASES)('$dataFormat, $name', async (c) => {
    await useBackend(backend);
    const shape = physicalShape(c.dims, c.dataFormat);
    const [n, channels] = c.dims;
    const size = shape.reduce((a, b) => a * b);
    const seed = size + channels * 7 + (c.groups ?? 0);
    const x = randomNormal(size, seed, 0.5, 2);
    const perInstance = c.affine === 'per-instance';
    const affineLength = perInstance ? n * channels : channels;
    const scale = c.affine === 'none' ? undefined : randomUniform(affineLength, seed + 1, 0.5, 2);
    const bias = c.affine === 'none' || c.affine === 'scale-only' ? undefined : randomUniform(affineLength, seed + 2, -1, 1);
    const residual = c.residual ? randomNormal(size, seed + 3) : undefined;
    const affineShape = perInstance ? [n, channels] : [channels];
    const alpha = 0.3;

    if (backend === 'webgpu') await poisonPool(shape);
    const before = tf.memory().numTensors;
    const y = tf.tidy(() => {
      const options = {
        dataFormat: c.dataFormat,
        epsilon: 1e-5,
        ...(scale ? { gamma: tf.tensor(scale, affineShape) } : {}),
        ...(bias ? { beta: tf.tensor(bias, affineShape) } : {}),
        ...(c.activation ? { activation: c.activation, leakyreluAlpha: alpha } : {}),
        ...(residual ? { residual: tf.tensor(residual, shape), residualPosition: c.residual } : {}),
      };
      const input = tf.tensor(x, shape);
      return c.groups ? groupNorm(input, c.groups, options) : instanceNorm(input, options);
    });
    expect(tf.memory().numTensors).toBe(before + 1);
    const expected = instanceNormCpu(x, shape, {
      layout: c.dataFormat === 'channelsLast' ? 'nhwc' : 'nchw',
      epsilon: 1e-5,
      scale,
      bias,
      ...(c.groups ? { groups: c.groups } : {}),
      ...(c.activation ? { activation: LIBRARY_ACTIVATION[c.activation], activationAlpha: alpha } : {}),
      ...(residual ? { residual, residualPosition: c.residual } : {}),
    });
    expect(y.shape).toEqual(shape);
    expectClose((await y.data()) as Float32Array, expected, 1e-4);
    y.dispose();
  });

  it.each([
    ['channelsLast', [2, 6, 7, 3], [2, 9, 5, 3]],
    ['channelsLast', [2, 5, 4, 8], [1, 3, 3, 8]],
    ['channelsFirst', [2, 3, 6, 7], [2, 3, 9, 5]],
    ['channelsFirst', [1, 4, 10], [1, 4, 7]],
  ] as const)('adaIn, %s, content %j, style %j', async (dataFormat, contentShape, styleShape) => {
    await useBackend(backend);
    const content = randomNormal(size(contentShape), 31, 1, 3);
    const style = randomNormal(size(styleShape), 32, -2, 0.5);
    const residual = randomNormal(content.length, 33);
    if (backend === 'webgpu') await poisonPool([...contentShape]);
    const y = tf.tidy(() =>
      adaIn(tf.tensor(content, [...contentShape]), tf.tensor(style, [...styleShape]), {
        dataFormat,
        epsilon: 1e-5,
        activation: 'relu',
        residual: tf.tensor(residual, [...contentShape]),
      }),
    );
    const expected = adainCpu(content, contentShape, style, styleShape, {
      layout: dataFormat === 'channelsLast' ? 'nhwc' : 'nchw',
      epsilon: 1e-5,
      activation: 'relu',
      residual,
    });
    expectClose((await y.data()) as Float32Array, expected, 1e-4);
    y.dispose();
  });

  it.each([
    ['instanceNorm', 'channelsLast', [2, 5, 6, 3], 0],
    ['instanceNorm', 'channelsFirst', [2, 8, 5, 6], 0],
    ['groupNorm G = 1', 'channelsLast', [2, 4, 5, 6], 1],
    ['groupNorm G = 2', 'channelsFirst', [1, 8, 5, 7], 2],
  ] as const)(
    "epsilonPlacement 'std': %s, %s %j, as the reference's (x − mean) / (σ + ε)",
    async (_, dataFormat, shape, groups) => {
      await useBackend(backend);
      const x = randomNormal(size(shape), 45, 3, 2e-3); // σ near ε: the two placements far apart
      const channels = dataFormat === 'channelsLast' ? shape[shape.length - 1] : shape[1];
      const gamma = randomUniform(channels, 46, 0.5, 2);
      if (backend === 'webgpu') await poisonPool([...shape]);
      const y = tf.tidy(() => {
        const options = {
          dataFormat,
          epsilon: 1e-3,
          epsilonPlacement: 'std',
          gamma: tf.tensor(gamma),
          activation: 'relu',
        } as const;
        const input = tf.tensor(x, [...shape]);
        return groups ? groupNorm(input, groups, options) : instanceNorm(input, options);
      });
      const options = {
        layout: dataFormat === 'channelsLast' ? 'nhwc' : 'nchw',
        epsilon: 1e-3,
        scale: gamma,
        activation: 'relu',
        ...(groups ? { groups } : {}),
      } as const;
      const expected = referenceInstanceNorm(x, shape, { ...options, epsilonPlacement: 'std' });
      expectClose((await y.data()) as Float32Array, expected, 1e-4, 1e-4);
      const other = referenceInstanceNorm(x, shape, options);
      expect(Math.max(...other.map((v, i) => Math.abs(v - expected[i])))).toBeGreaterThan(1e-2);
      y.dispose();
    },
  );

  it("epsilonPlacement 'std': adaIn gives the style's σ + ε", async () => {
    await useBackend(backend);
    const content = randomNormal(2 * 5 * 4 * 3, 47, 1, 3e-3);
    const style = randomNormal(2 * 3 * 3 * 3, 48, -2, 2e-3);
    const y = tf.tidy(() =>
      adaIn(tf.tensor(content, [2, 5, 4, 3]), tf.tensor(style, [2, 3, 3, 3]), { epsilon: 1e-3, epsilonPlacement: 'std' }),
    );
    const expected = referenceAdain(content, [2, 5, 4, 3], style, [2, 3, 3, 3], {
      layout: 'nhwc',
      epsilon: 1e-3,
      epsilonPlacement: 'std',
    });
    expectClose((await y.data()) as Float32Array, expected, 1e-4, 1e-4);
    y.dispose();
  });

  it('defaults: channelsLast and epsilon 1e-3, as TF.js and Keras', async () => {
    await useBackend(backend);
    const x = randomNormal(2 * 4 * 4 * 3, 41, 0, 0.05); // small variance: epsilon matters
    const y = tf.tidy(() => instanceNorm(tf.tensor(x, [2, 4, 4, 3])));
    expectClose((await y.data()) as Float32Array, instanceNormCpu(x, [2, 4, 4, 3], { layout: 'nhwc', epsilon: 1e-3 }), 1e-4);
    y.dispose();
  });

  it.each([
    ['x of rank 2', () => instanceNorm(tf.zeros([2, 3])), 'x'],
    ['an int32 x', () => instanceNorm(tf.zeros([1, 2, 2, 3], 'int32')), 'x'],
    ['gamma of length C + 1', () => instanceNorm(tf.zeros([1, 2, 2, 3]), { gamma: tf.ones([4]) }), 'gamma'],
    ['both scale and gamma', () => instanceNorm(tf.zeros([1, 2, 2, 3]), { scale: tf.ones([3]), gamma: tf.ones([3]) }), 'gamma'],
    ['groups not dividing C', () => groupNorm(tf.zeros([1, 2, 2, 6]), 4), 'groups'],
    [
      'a dataFormat TF.js does not have',
      () => instanceNorm(tf.zeros([1, 2, 2, 3]), { dataFormat: 'NHWC' as DataFormat }),
      'dataFormat',
    ],
    ['an unknown option', () => instanceNorm(tf.zeros([1, 2, 2, 3]), { epsilion: 1e-3 } as object), 'epsilion'],
    ['a residual of another shape', () => instanceNorm(tf.zeros([1, 2, 2, 3]), { residual: tf.zeros([1, 2, 3, 3]) }), 'residual'],
    ['a style with another C', () => adaIn(tf.zeros([1, 2, 2, 3]), tf.zeros([1, 2, 2, 4])), 'style'],
    ['an unknown activation', () => instanceNorm(tf.zeros([1, 2, 2, 3]), { activation: 'tanh' as TfjsActivation }), 'activation'],
    [
      'an unknown epsilonPlacement',
      () => instanceNorm(tf.zeros([1, 2, 2, 3]), { epsilonPlacement: 'stddev' as 'std' }),
      'epsilonPlacement',
    ],
  ])('refuses %s with an InstanceNormError naming it', async (_, call, argument) => {
    await useBackend(backend);
    const before = tf.memory().numTensors;
    let thrown: unknown;
    tf.tidy(() => {
      try {
        call();
      } catch (error) {
        thrown = error;
      }
    });
    expect(thrown).toBeInstanceOf(InstanceNormError);
    expect((thrown as InstanceNormError).code).toBe('invalid-argument');
    expect((thrown as InstanceNormError).argument).toBe(argument);
    expect((thrown as Error).message).toContain(argument);
    expect(tf.memory().numTensors).toBe(before);
  });
});

it('instanceNormReady() resolves on the WebGPU backend, and the ops are registered TF.js kernels (tf.profile names them)', async () => {
  await useBackend('webgpu');
  await instanceNormReady();
  const x = tf.randomNormal([1, 8, 8, 4]);
  const profile = await tf.profile(() => {
    const y = instanceNorm(x);
    const z = groupNorm(y, 2);
    const w = adaIn(z, x);
    tf.dispose([y, z, w]);
  });
  expect(profile.kernelNames).toEqual(expect.arrayContaining(['webgpu-instancenorm:InstanceNorm', 'webgpu-instancenorm:AdaIn']));
  x.dispose();
});

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
