import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { adaIn, type DataFormat, groupNorm, instanceNorm, type TfjsActivation } from '../src/tfjs';
import { randomNormal, randomUniform } from './helpers/random';
import { relativeDifference, useBackend } from './tfjs-shared';

// The gradients of the ops (x, γ, β, the residual; content and style for AdaIN) against TF.js's
// own autodiff of the same computation composed from tf.moments and elementwise ops, on TF.js's
// CPU backend: within 1e-4 of the largest expected magnitude, on the WebGPU backend (the
// library's backward on the GPU) and on the CPU backend (its CPU implementation).

const EPSILON = 1e-5;

interface Case {
  readonly name: string;
  readonly dims: readonly number[]; // [N, C, ...spatial]
  readonly dataFormat: DataFormat;
  readonly groups?: number;
  readonly gamma?: 'per-channel' | 'per-instance';
  readonly beta?: 'per-channel' | 'per-instance';
  readonly activation?: TfjsActivation;
  readonly residual?: 'after-activation' | 'before-activation';
  /** keras-contrib's (x − mean) / (sqrt(var) + ε), with an ε large enough to tell it from sqrt(var + ε). */
  readonly epsilonOnStd?: boolean;
}

const STD_EPSILON = 0.5;

const CASES: Case[] = [
  { name: 'γ and β', dims: [2, 4, 6, 5], dataFormat: 'channelsLast', gamma: 'per-channel', beta: 'per-channel' },
  { name: 'γ and β', dims: [2, 4, 6, 5], dataFormat: 'channelsFirst', gamma: 'per-channel', beta: 'per-channel' },
  { name: 'rank 3, no affine', dims: [3, 5, 11], dataFormat: 'channelsLast' },
  { name: 'rank 5, γ only', dims: [1, 3, 4, 3, 5], dataFormat: 'channelsFirst', gamma: 'per-channel' },
  { name: 'β only', dims: [2, 3, 5, 5], dataFormat: 'channelsLast', beta: 'per-channel' },
  { name: 'per-instance γ and β', dims: [3, 4, 5, 4], dataFormat: 'channelsLast', gamma: 'per-instance', beta: 'per-instance' },
  {
    name: 'relu, residual after',
    dims: [2, 4, 6, 6],
    dataFormat: 'channelsLast',
    gamma: 'per-channel',
    beta: 'per-channel',
    activation: 'relu',
    residual: 'after-activation',
  },
  {
    name: 'silu, residual before',
    dims: [2, 4, 6, 6],
    dataFormat: 'channelsFirst',
    gamma: 'per-channel',
    beta: 'per-channel',
    activation: 'silu',
    residual: 'before-activation',
  },
  { name: 'gelu', dims: [1, 3, 7, 7], dataFormat: 'channelsLast', gamma: 'per-channel', beta: 'per-channel', activation: 'gelu' },
  {
    name: 'leakyrelu',
    dims: [2, 3, 5, 6],
    dataFormat: 'channelsFirst',
    gamma: 'per-channel',
    beta: 'per-channel',
    activation: 'leakyrelu',
  },
  {
    name: 'GroupNorm G = 2',
    dims: [2, 8, 5, 4],
    dataFormat: 'channelsLast',
    groups: 2,
    gamma: 'per-channel',
    beta: 'per-channel',
  },
  {
    name: 'GroupNorm G = 2',
    dims: [2, 8, 5, 4],
    dataFormat: 'channelsFirst',
    groups: 2,
    gamma: 'per-channel',
    beta: 'per-channel',
  },
  { name: 'GroupNorm G = 1, per-instance γ', dims: [2, 6, 4, 4], dataFormat: 'channelsLast', groups: 1, gamma: 'per-instance' },
  {
    name: 'ε on σ, γ and β',
    dims: [2, 4, 6, 5],
    dataFormat: 'channelsLast',
    gamma: 'per-channel',
    beta: 'per-channel',
    epsilonOnStd: true,
  },
  {
    name: 'ε on σ, per-instance γ, relu, residual after',
    dims: [2, 3, 5, 4],
    dataFormat: 'channelsFirst',
    gamma: 'per-instance',
    activation: 'relu',
    residual: 'after-activation',
    epsilonOnStd: true,
  },
  {
    name: 'ε on σ, GroupNorm G = 1 (keras-contrib axis null)',
    dims: [2, 6, 4, 4],
    dataFormat: 'channelsLast',
    groups: 1,
    gamma: 'per-channel',
    epsilonOnStd: true,
  },
  {
    name: 'ε on σ, GroupNorm G = 2',
    dims: [2, 8, 5, 4],
    dataFormat: 'channelsFirst',
    groups: 2,
    beta: 'per-channel',
    epsilonOnStd: true,
  },
  {
    name: 'GroupNorm G = 3, rank 5, silu, residual after',
    dims: [1, 6, 3, 4, 3],
    dataFormat: 'channelsLast',
    groups: 3,
    gamma: 'per-channel',
    beta: 'per-channel',
    activation: 'silu',
    residual: 'after-activation',
  },
];

function physicalShape(dims: readonly number[], dataFormat: DataFormat): number[] {
  const [n, c, ...spatial] = dims;
  return dataFormat === 'channelsFirst' ? [...dims] : [n, ...spatial, c];
}

/** The activation composed from TF.js ops (TF.js's autodiff differentiates these). */
function activate(u: tf.Tensor, activation: TfjsActivation | undefined, alpha: number): tf.Tensor {
  switch (activation ?? 'linear') {
    case 'linear':
      return u;
    case 'relu':
      return tf.relu(u);
    case 'leakyrelu':
      return tf.leakyRelu(u, alpha);
    case 'silu':
      return tf.mul(u, tf.sigmoid(u));
    default: {
      const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(u, tf.mul(0.044715, tf.pow(u, 3))));
      return tf.mul(tf.mul(0.5, u), tf.add(1, tf.tanh(inner)));
    }
  }
}

/** Shape of a [C] or [N, C] parameter broadcast against x. */
function broadcast(t: tf.Tensor, dims: readonly number[], dataFormat: DataFormat): tf.Tensor {
  const [n, c, ...spatial] = dims;
  const ones = spatial.map(() => 1);
  const lead = t.rank === 2 ? n : 1;
  return tf.reshape(t, dataFormat === 'channelsLast' ? [lead, ...ones, c] : [lead, c, ...ones]);
}

/** The spread from tf.moments' variance: sqrt(var + ε), or keras-contrib's sqrt(var) + ε. */
function spread(variance: tf.Tensor, epsilonOnStd: boolean | undefined): tf.Tensor {
  return epsilonOnStd ? tf.add(tf.sqrt(variance), STD_EPSILON) : tf.sqrt(tf.add(variance, EPSILON));
}

/** GroupNorm (G = C: instance norm) from tf.moments: the group reshaped to an axis of its own. */
function composedNormalize(x: tf.Tensor, c: Case, groups: number): tf.Tensor {
  const [n, channels] = c.dims;
  const grouped =
    c.dataFormat === 'channelsLast'
      ? tf.reshape(x, [n, -1, groups, channels / groups])
      : tf.reshape(x, [n, groups, channels / groups, -1]);
  const axes = c.dataFormat === 'channelsLast' ? [1, 3] : [2, 3];
  const { mean, variance } = tf.moments(grouped, axes, true);
  return tf.reshape(tf.div(tf.sub(grouped, mean), spread(variance, c.epsilonOnStd)), x.shape);
}

interface Inputs {
  x: Float32Array;
  gamma?: Float32Array;
  beta?: Float32Array;
  residual?: Float32Array;
  dy: Float32Array;
}

function inputsOf(c: Case): Inputs {
  const shape = physicalShape(c.dims, c.dataFormat);
  const size = shape.reduce((a, b) => a * b);
  const [n, channels] = c.dims;
  const length = (kind: string | undefined) => (kind === 'per-instance' ? n * channels : channels);
  return {
    x: randomNormal(size, size + 1, 0.5, 2),
    ...(c.gamma ? { gamma: randomUniform(length(c.gamma), size + 2, 0.5, 2) } : {}),
    ...(c.beta ? { beta: randomUniform(length(c.beta), size + 3, -1, 1) } : {}),
    ...(c.residual ? { residual: randomNormal(size, size + 4) } : {}),
    dy: randomNormal(size, size + 5),
  };
}

/** The gradients of sum(dy · f(x, γ, β, r)), by tf.grads on the current backend, read back in input order. */
async function gradientsOf(c: Case, data: Inputs, ours: boolean): Promise<Float32Array[]> {
  const shape = physicalShape(c.dims, c.dataFormat);
  const [n, channels] = c.dims;
  const parameterShape = (kind: string | undefined) => (kind === 'per-instance' ? [n, channels] : [channels]);
  const names = (['x', 'gamma', 'beta', 'residual'] as const).filter((k) => data[k]);
  const tensors = names.map((k) =>
    tf.tensor(data[k] as Float32Array, k === 'gamma' ? parameterShape(c.gamma) : k === 'beta' ? parameterShape(c.beta) : shape),
  );
  const dy = tf.tensor(data.dy, shape);
  const alpha = 0.3;
  const f = (...args: tf.Tensor[]) => {
    const t = Object.fromEntries(names.map((k, i) => [k, args[i]])) as Record<(typeof names)[number], tf.Tensor | undefined>;
    const x = t.x as tf.Tensor;
    if (ours) {
      const options = {
        dataFormat: c.dataFormat,
        ...(c.epsilonOnStd ? { epsilon: STD_EPSILON, epsilonPlacement: 'std' as const } : { epsilon: EPSILON }),
        ...(t.gamma ? { gamma: t.gamma } : {}),
        ...(t.beta ? { beta: t.beta } : {}),
        ...(c.activation ? { activation: c.activation, leakyreluAlpha: alpha } : {}),
        ...(t.residual ? { residual: t.residual, residualPosition: c.residual } : {}),
      };
      return c.groups ? groupNorm(x, c.groups, options) : instanceNorm(x, options);
    }
    let z = composedNormalize(x, c, c.groups ?? channels);
    if (t.gamma) z = tf.mul(z, broadcast(t.gamma, c.dims, c.dataFormat));
    if (t.beta) z = tf.add(z, broadcast(t.beta, c.dims, c.dataFormat));
    if (t.residual && c.residual === 'before-activation') return activate(tf.add(z, t.residual), c.activation, alpha);
    const y = activate(z, c.activation, alpha);
    return t.residual ? tf.add(y, t.residual) : y;
  };
  const grads = tf.grads(f)(tensors, dy);
  const result = await Promise.all(grads.map(async (g) => (await g.data()) as Float32Array));
  tf.dispose([...tensors, dy, ...grads]);
  return result;
}

describe.each(['webgpu', 'cpu'])(
  "gradients on TF.js's %s backend match TF.js's autodiff of the tf.moments composition",
  (backend) => {
    it.each(CASES)('$dataFormat, $name', async (c) => {
      const data = inputsOf(c);
      await useBackend('cpu');
      const expected = await gradientsOf(c, data, false);
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const actual = await gradientsOf(c, data, true);
      expect(tf.memory().numTensors, 'tensors left by the backward pass').toBe(before);
      const names = (['x', 'gamma', 'beta', 'residual'] as const).filter((k) => data[k]);
      names.forEach((name, i) => {
        expect(relativeDifference(actual[i], expected[i]), `d/d${name}`).toBeLessThan(1e-4);
      });
    });

    it.each([
      ['channelsLast', [2, 6, 7, 3], [2, 9, 5, 3], undefined, false],
      ['channelsLast', [2, 5, 4, 4], [1, 3, 3, 4], 'relu', false],
      ['channelsFirst', [2, 3, 6, 7], [2, 3, 9, 5], 'silu', false],
      ['channelsLast', [2, 5, 4, 4], [1, 3, 3, 4], 'relu', true],
      ['channelsFirst', [2, 3, 6, 7], [2, 3, 9, 5], undefined, true],
    ] as const)(
      'adaIn, %s, content %j, style %j, activation %s, ε on σ: %s',
      async (dataFormat, contentShape, styleShape, activation, onStd) => {
        const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
        const content = randomNormal(size(contentShape), 51, 1, 3);
        const style = randomNormal(size(styleShape), 52, -2, 0.7);
        const residual = randomNormal(size(contentShape), 53);
        const dyValues = randomNormal(size(contentShape), 54);
        const spatialAxes = dataFormat === 'channelsLast' ? [1, 2] : [2, 3];
        const run = async (ours: boolean) => {
          const tensors = [
            tf.tensor(content, [...contentShape]),
            tf.tensor(style, [...styleShape]),
            tf.tensor(residual, [...contentShape]),
          ];
          const dy = tf.tensor(dyValues, [...contentShape]);
          const f = (c: tf.Tensor, s: tf.Tensor, r: tf.Tensor) => {
            const placement = onStd ? { epsilon: STD_EPSILON, epsilonPlacement: 'std' as const } : { epsilon: EPSILON };
            if (ours) return adaIn(c, s, { dataFormat, ...placement, residual: r, ...(activation ? { activation } : {}) });
            const cm = tf.moments(c, spatialAxes, true);
            const sm = tf.moments(s, spatialAxes, true);
            const z = tf.add(tf.mul(tf.div(tf.sub(c, cm.mean), spread(cm.variance, onStd)), spread(sm.variance, onStd)), sm.mean);
            return tf.add(activate(z, activation, 0.2), r);
          };
          const grads = tf.grads(f as (...args: tf.Tensor[]) => tf.Tensor)(tensors, dy);
          const result = await Promise.all(grads.map(async (g) => (await g.data()) as Float32Array));
          tf.dispose([...tensors, dy, ...grads]);
          return result;
        };
        await useBackend('cpu');
        const expected = await run(false);
        await useBackend(backend);
        const actual = await run(true);
        ['content', 'style', 'residual'].forEach((name, i) => {
          expect(relativeDifference(actual[i], expected[i]), `d/d${name}`).toBeLessThan(1e-4);
        });
      },
    );

    it('optimizer.minimize trains through instanceNorm and groupNorm: the loss falls', async () => {
      await useBackend(backend);
      const x = tf.tensor(randomNormal(2 * 6 * 6 * 8, 61), [2, 6, 6, 8]);
      const target = tf.tensor(randomNormal(2 * 6 * 6 * 8, 62, 0.3, 0.5), [2, 6, 6, 8]);
      const w = tf.variable(tf.tensor(randomNormal(8 * 8, 63, 0, 0.3), [8, 8]));
      const gamma = tf.variable(tf.ones([8]));
      const beta = tf.variable(tf.zeros([8]));
      const optimizer = tf.train.adam(0.05);
      const loss = () =>
        tf.tidy(() => {
          const h = tf.reshape(tf.matMul(tf.reshape(x, [-1, 8]), w), [2, 6, 6, 8]);
          const y = groupNorm(instanceNorm(h, { gamma, beta, activation: 'relu' }), 2);
          return tf.losses.meanSquaredError(target, y) as tf.Scalar;
        });
      const first = (await loss().data())[0];
      for (let step = 0; step < 30; step++) optimizer.minimize(loss);
      const last = (await loss().data())[0];
      expect(last).toBeLessThan(0.8 * first);
      tf.dispose([x, target, w, gamma, beta]);
      optimizer.dispose();
    });
  },
);
