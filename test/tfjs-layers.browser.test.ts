import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { InstanceNormError } from '../src';
import { referenceInstanceNorm } from '../src/reference/float64-reference';
import {
  AddonsGroupNormalization,
  AddonsInstanceNormalization,
  GroupNormalization,
  InstanceNormalization,
  type NormalizationLayerArgs,
} from '../src/tfjs';
import { expectClose } from './helpers/compare';
import { kerasContrib } from './helpers/keras-contrib';
import { randomNormal, randomUniform } from './helpers/random';
import { relativeDifference, useBackend } from './tfjs-shared';

// The Keras layers: models in the TF.js Layers format (test/fixtures/tfjs/, written by
// scripts/make-tfjs-fixtures.mjs from seeded weights) loaded by tf.loadLayersModel from the test
// server, their predictions checked layer by layer (each layer against the reference applied to
// the model's own input to it: TF.js's conv2d on its CPU backend, the float64 reference for the
// normalizations with the weights read from the file, each with its library's formula:
// keras-contrib's (x − mean) / (σ + ε), the others' (x − mean) / sqrt(var + ε)) and end to end,
// then trained with model.fit.

const FIXTURES = {
  keras: { instance: 'InstanceNormalization', group: 'GroupNormalization', instanceEpsilon: 'std' },
  addons: { instance: 'Addons>InstanceNormalization', group: 'Addons>GroupNormalization', instanceEpsilon: 'variance' },
} as const;
const GROUPS = 4;
const EPSILON = 1e-3;

interface Weights {
  [name: string]: { values: Float32Array; shape: number[] };
}

/** The weights of a fixture, read from its files as the manifest lays them out. */
async function readWeights(kind: string): Promise<Weights> {
  const model = await (await fetch(`/test/fixtures/tfjs/${kind}/model.json`)).json();
  const bytes = await (await fetch(`/test/fixtures/tfjs/${kind}/${model.weightsManifest[0].paths[0]}`)).arrayBuffer();
  const weights: Weights = {};
  let offset = 0;
  for (const { name, shape } of model.weightsManifest[0].weights as { name: string; shape: number[] }[]) {
    const length = shape.reduce((a, b) => a * b, 1);
    weights[name] = { values: new Float32Array(bytes, offset * 4, length), shape };
    offset += length;
  }
  return weights;
}

/** TF.js's conv2d ('same', stride 1, bias) on its CPU backend: the reference of the conv layers. */
async function referenceConv(
  x: Float32Array,
  shape: number[],
  kernel: Weights[string],
  bias: Weights[string],
): Promise<Float32Array> {
  const backend = tf.getBackend();
  await useBackend('cpu');
  const y = tf.tidy(() =>
    tf.add(
      tf.conv2d(tf.tensor4d(x, shape as Shape4), tf.tensor4d(kernel.values, kernel.shape as Shape4), 1, 'same'),
      tf.tensor(bias.values),
    ),
  );
  const values = (await y.data()) as Float32Array;
  y.dispose();
  await useBackend(backend);
  return values;
}

type Shape4 = [number, number, number, number];
const relu = (x: Float32Array) => x.map((v) => Math.max(v, 0));

describe.each(['webgpu', 'cpu'])("models in the TF.js Layers format on TF.js's %s backend", (backend) => {
  it.each(Object.keys(FIXTURES) as (keyof typeof FIXTURES)[])(
    '%s: loads with tf.loadLayersModel, predicts layer by layer as the reference, trains with model.fit',
    async (kind) => {
      await useBackend(backend);
      const model = await tfl.loadLayersModel(`/test/fixtures/tfjs/${kind}/model.json`);
      const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
      expect(layers.map((l) => l.getClassName())).toEqual([
        'Conv2D',
        FIXTURES[kind].instance,
        'Activation',
        'Conv2D',
        FIXTURES[kind].group,
      ]);
      // Weight order and names as Keras has them: gamma, then beta.
      expect(layers[1].weights.map((w) => w.originalName)).toEqual([
        'instance_normalization/gamma',
        'instance_normalization/beta',
      ]);
      expect(layers[4].weights.map((w) => w.originalName)).toEqual(['group_normalization/gamma', 'group_normalization/beta']);

      const weights = await readWeights(kind);
      const shape = [2, 12, 12, 3];
      const hidden = [2, 12, 12, 8];
      const norm = (input: Float32Array, layer: string, groups?: number) =>
        referenceInstanceNorm(input, hidden, {
          layout: 'nhwc',
          epsilon: EPSILON,
          epsilonPlacement: groups ? 'variance' : FIXTURES[kind].instanceEpsilon,
          scale: weights[`${layer}/gamma`].values,
          bias: weights[`${layer}/beta`].values,
          ...(groups ? { groups } : {}),
        });
      // Inputs of order 1, and of order 1e-4: there the first conv's outputs vary little about
      // its bias, instances of small variance, where σ + ε and sqrt(var + ε) differ by far more
      // than the tolerance.
      for (const [seed, spread] of [
        [71, 1.5],
        [73, 1e-4],
      ]) {
        const x = randomNormal(2 * 12 * 12 * 3, seed, 0, spread);
        const probe = tfl.model({ inputs: model.inputs, outputs: layers.map((l) => l.output as tfl.SymbolicTensor) });
        const outputs = tf.tidy(() => probe.predict(tf.tensor(x, shape)) as tf.Tensor[]);
        const got = await Promise.all(outputs.map(async (t) => (await t.data()) as Float32Array));
        tf.dispose(outputs);

        // Each layer from the model's own input to it.
        expectClose(got[0], await referenceConv(x, shape, weights['conv2d/kernel'], weights['conv2d/bias']), 1e-4);
        expectClose(got[1], norm(got[0], 'instance_normalization'), 1e-4);
        expectClose(got[2], relu(got[1]), 0);
        expectClose(got[3], await referenceConv(got[2], hidden, weights['conv2d_1/kernel'], weights['conv2d_1/bias']), 1e-4);
        expectClose(got[4], norm(got[3], 'group_normalization', GROUPS), 1e-4);
        if (kind === 'keras') {
          // keras-contrib's formula itself, written out from its source, agrees.
          const gamma = weights['instance_normalization/gamma'].values;
          const beta = weights['instance_normalization/beta'].values;
          const formula = Float32Array.from(kerasContrib(got[0], { shape: hidden, layout: 'nhwc' }, EPSILON, gamma, beta));
          expectClose(got[1], formula, 1e-4);
        }
        // End to end, the reference alone.
        const r0 = await referenceConv(x, shape, weights['conv2d/kernel'], weights['conv2d/bias']);
        const r3 = await referenceConv(
          relu(norm(r0, 'instance_normalization')),
          hidden,
          weights['conv2d_1/kernel'],
          weights['conv2d_1/bias'],
        );
        expectClose(got[4], norm(r3, 'group_normalization', GROUPS), 1e-4);
      }
      const x = randomNormal(2 * 12 * 12 * 3, 71, 0.2, 1.5);

      // Training: model.fit through both layers' gradients; the loss falls.
      model.compile({ optimizer: tf.train.adam(0.01), loss: 'meanSquaredError' });
      const xs = tf.tensor(x, shape);
      const ys = tf.tensor(randomNormal(2 * 12 * 12 * 8, 72, 0.5, 0.5), hidden);
      const gammaBefore = Array.from(await layers[1].getWeights()[0].data());
      const history = await model.fit(xs, ys, { epochs: 15, batchSize: 2, verbose: 0 });
      const losses = history.history.loss as number[];
      expect(losses[losses.length - 1]).toBeLessThan(0.9 * losses[0]);
      expect(Array.from(await layers[1].getWeights()[0].data())).not.toEqual(gammaBefore);
      tf.dispose([xs, ys]);
      model.dispose();
    },
  );

  it('a layer of each class applies to channels-first inputs (axis 1) and to rank 3 and 5', async () => {
    await useBackend(backend);
    const cases: [tfl.layers.Layer, number[], 'nchw' | 'nhwc', number | undefined][] = [
      [new InstanceNormalization({ axis: 1 }), [2, 4, 5, 6], 'nchw', undefined],
      [new AddonsInstanceNormalization({ axis: -1 }), [2, 9, 4], 'nhwc', undefined],
      [new AddonsGroupNormalization({ groups: 2, axis: 1 }), [1, 4, 3, 4, 5], 'nchw', 2],
      [new GroupNormalization({ groups: 3, epsilon: 1e-5 }), [2, 3, 4, 6], 'nhwc', 3],
    ];
    for (const [layer, shape, layout, groups] of cases) {
      const x = randomNormal(
        shape.reduce((a, b) => a * b),
        shape.length,
        1,
        0.02,
      );
      const y = tf.tidy(() => layer.apply(tf.tensor(x, shape)) as tf.Tensor);
      const epsilon = (layer.getConfig().epsilon as number) ?? EPSILON;
      const epsilonPlacement = layer instanceof InstanceNormalization ? 'std' : 'variance';
      expectClose(
        (await y.data()) as Float32Array,
        referenceInstanceNorm(x, shape, { layout, epsilon, epsilonPlacement, ...(groups ? { groups } : {}) }),
        1e-4,
      );
      y.dispose();
      layer.dispose();
    }
  });

  it.each([
    ['axis -1', -1, [2, 3, 4, 5], 'nhwc'],
    ['axis 1 (channels first)', 1, [2, 3, 4, 5], 'nchw'],
    ['axis null', null, [2, 4, 3, 2], 'nhwc'],
  ] as const)(
    "keras-contrib's InstanceNormalization, %s, trains as its formula: dL/dx, dL/dγ, dL/dβ against central differences",
    async (_, axis, shape, layout) => {
      await useBackend(backend);
      const epsilon = 0.05; // against σ of 0.1: the placements' gradients far apart
      const layer = new InstanceNormalization({ axis, epsilon });
      const count = shape.reduce((a, b) => a * b, 1);
      const channels = axis === null ? 1 : layout === 'nhwc' ? shape[3] : shape[1];
      const x = randomNormal(count, 93, 0.5, 0.1);
      const gamma = randomUniform(channels, 94, 0.5, 2);
      const beta = randomUniform(channels, 95, -1, 1);
      const w = randomNormal(count, 96);
      const xs = tf.tensor(x, [...shape]);
      tf.dispose(layer.apply(xs) as tf.Tensor);
      layer.setWeights([tf.tensor(gamma), tf.tensor(beta)]);
      const ws = tf.tensor(w, [...shape]);
      const loss = (input: tf.Tensor) => tf.sum(tf.mul(layer.apply(input) as tf.Tensor, ws)) as tf.Scalar;
      const dx = tf.grad(loss)(xs);
      const variables = layer.trainableWeights.map((v) => v.read() as tf.Variable);
      const { grads } = tf.variableGrads(() => loss(xs), variables);
      const actual = {
        x: (await dx.data()) as Float32Array,
        gamma: (await grads[variables[0].name].data()) as Float32Array,
        beta: (await grads[variables[1].name].data()) as Float32Array,
      };
      tf.dispose([xs, ws, dx, ...Object.values(grads)]);
      layer.dispose();

      // The formula in float64, per channel or (axis null) over all of an image's values.
      const t = { shape, layout, ...(axis === null ? { groups: 1 } : {}) } as const;
      const perChannel = (v: ArrayLike<number>) => (axis === null ? Array(shape[3]).fill(v[0]) : v);
      const value = (xv: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>) =>
        kerasContrib(xv, t, epsilon, perChannel(g), perChannel(b)).reduce((sum, y, i) => sum + w[i] * y, 0);
      const h = 1e-6;
      const central = (array: Float32Array, evaluate: (moved: Float64Array) => number) =>
        Float32Array.from(array, (_v, i) => {
          const moved = (delta: number) => Float64Array.from(array, (v, j) => (j === i ? v + delta : v));
          return (evaluate(moved(h)) - evaluate(moved(-h))) / (2 * h);
        });
      const expected = {
        x: central(x, (m) => value(m, gamma, beta)),
        gamma: central(gamma, (m) => value(x, m, beta)),
        beta: central(beta, (m) => value(x, gamma, m)),
      };
      expect(relativeDifference(actual.x, expected.x), 'dL/dx').toBeLessThan(1e-4);
      expect(relativeDifference(actual.gamma, expected.gamma), 'dL/dγ').toBeLessThan(1e-4);
      expect(relativeDifference(actual.beta, expected.beta), 'dL/dβ').toBeLessThan(1e-4);
    },
  );

  it("keras-contrib's axis: null: one group of all channels and positions, one γ and β", async () => {
    await useBackend(backend);
    const layer = new InstanceNormalization({ axis: null, gammaInitializer: { className: 'Constant', config: { value: 2 } } });
    const x = randomNormal(2 * 4 * 4 * 3, 81, 0, 0.01);
    const y = tf.tidy(() => layer.apply(tf.tensor(x, [2, 4, 4, 3])) as tf.Tensor);
    expect(layer.weights.map((w) => w.shape)).toEqual([[1], [1]]);
    const expected = kerasContrib(x, { shape: [2, 4, 4, 3], layout: 'nhwc', groups: 1 }, EPSILON, [2, 2, 2]);
    expectClose((await y.data()) as Float32Array, Float32Array.from(expected), 1e-4);
    // keras-contrib's default axis is None: the same without one.
    const byDefault = new InstanceNormalization({ gammaInitializer: { className: 'Constant', config: { value: 2 } } });
    const z = tf.tidy(() => byDefault.apply(tf.tensor(x, [2, 4, 4, 3])) as tf.Tensor);
    expect(byDefault.axis).toBeNull();
    expectClose((await z.data()) as Float32Array, Float32Array.from(expected), 1e-4);
    z.dispose();
    byDefault.dispose();
    y.dispose();
    layer.dispose();
  });
});

describe('layer configs', () => {
  const full: NormalizationLayerArgs = {
    name: 'norm',
    axis: -1,
    epsilon: 1e-4,
    center: false,
    scale: true,
    gammaInitializer: { className: 'RandomUniform', config: { minval: 0.9, maxval: 1.1, seed: 3 } },
    gammaRegularizer: { className: 'L1L2', config: { l1: 0, l2: 0.01 } },
    gammaConstraint: { className: 'NonNeg', config: {} },
  };
  it.each([
    [InstanceNormalization, 'InstanceNormalization', full],
    [AddonsInstanceNormalization, 'Addons>InstanceNormalization', { ...full, groups: -1 }],
    [AddonsGroupNormalization, 'Addons>GroupNormalization', { ...full, groups: 2 }],
    [GroupNormalization, 'GroupNormalization', { ...full, groups: 2 }],
  ] as const)(
    '%o (%s): getConfig() round-trips through its registered class, defaults as Keras',
    async (cls, className, args) => {
      await useBackend('cpu');
      const layer = new cls(args);
      expect(layer.getClassName()).toBe(className);
      const config = layer.getConfig();
      const registered = tf.serialization.SerializationMap.getMap().classNameMap[className];
      expect(registered?.[0]).toBe(cls);
      const again = registered[1](registered[0], config) as tfl.layers.Layer;
      expect(again.getConfig()).toEqual(config);
      expect(config).toMatchObject({ axis: -1, epsilon: 1e-4, center: false, scale: true, betaRegularizer: null });
      expect(config.gammaRegularizer).toEqual({ className: 'L1L2', config: { l1: 0, l2: 0.01 } });
      // Built: γ only (center: false), of shape [C].
      again.apply(tf.zeros([1, 2, 2, 4]));
      expect(again.weights.map((w) => [w.originalName.split('/').pop(), w.shape])).toEqual([['gamma', [4]]]);

      const defaults = new cls({}).getConfig();
      expect(defaults).toMatchObject({
        axis: cls === InstanceNormalization ? null : -1, // keras-contrib's default is None
        epsilon: 1e-3,
        center: true,
        scale: true,
        betaInitializer: { className: 'Zeros', config: {} },
        gammaInitializer: { className: 'Ones', config: {} },
        gammaConstraint: null,
      });
      if (cls === AddonsGroupNormalization || cls === GroupNormalization) expect(defaults.groups).toBe(32);
    },
  );

  it('a model saved with the layers (model.toJSON) loads again with the same predictions', async () => {
    await useBackend('cpu');
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [6, 6, 2], filters: 4, kernelSize: 3, padding: 'same' }),
        new InstanceNormalization({ axis: -1 }),
        new GroupNormalization({ groups: 2 }),
      ],
    });
    const x = tf.tensor(randomNormal(72, 91), [1, 6, 6, 2]);
    const json = model.toJSON(null, false) as unknown as {
      config: { layers: { class_name: string; config: Record<string, unknown> }[] };
    };
    expect(json.config.layers.map((l) => l.class_name)).toEqual(['Conv2D', 'InstanceNormalization', 'GroupNormalization']);
    expect(Object.keys(json.config.layers[2].config)).toEqual(
      expect.arrayContaining(['beta_initializer', 'gamma_constraint', 'groups']),
    );
    const copy = await tfl.loadLayersModel(
      tf.io.fromMemory({ modelTopology: json, weightSpecs: [], weightData: new ArrayBuffer(0) } as tf.io.ModelArtifacts),
      { strict: false },
    );
    copy.setWeights(model.getWeights());
    const a = model.predict(x) as tf.Tensor;
    const b = copy.predict(x) as tf.Tensor;
    expectClose((await b.data()) as Float32Array, (await a.data()) as Float32Array, 1e-6);
    tf.dispose([x, a, b]);
  });

  it.each([
    ['an axis that is not the channel axis', () => new InstanceNormalization({ axis: 2 }).apply(tf.zeros([1, 3, 3, 4])), 'axis'],
    ['axis: null for TensorFlow Addons', () => new AddonsInstanceNormalization({ axis: null }), 'axis'],
    ['groups not dividing C', () => new GroupNormalization({ groups: 3 }).apply(tf.zeros([1, 3, 3, 8])), 'groups'],
    ['more groups than channels', () => new AddonsGroupNormalization({}).apply(tf.zeros([1, 3, 3, 8])), 'groups'],
    ['groups for keras-contrib', () => new InstanceNormalization({ groups: 2 } as NormalizationLayerArgs), 'groups'],
    ['an unknown field', () => new GroupNormalization({ momentum: 0.9 } as NormalizationLayerArgs), 'momentum'],
    ['an unknown initializer', () => new GroupNormalization({ betaInitializer: 'Frobnicate' }), 'betaInitializer'],
    ['an input of rank 2', () => new InstanceNormalization({}).apply(tf.zeros([2, 4])), 'inputShape'],
    ['a float16 dtype', () => new InstanceNormalization({ dtype: 'float16' as 'float32' }), 'dtype'],
  ])('refuses %s with an InstanceNormError naming the field', async (_, make, field) => {
    await useBackend('cpu');
    let thrown: unknown;
    try {
      make();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InstanceNormError);
    expect((thrown as InstanceNormError).argument).toBe(field);
    expect((thrown as Error).message).toContain(field);
  });

  it.each([
    ['axis', 2, 'axis'],
    ['groups', 3, 'groups'],
  ] as const)(
    'tf.loadLayersModel refuses a model whose GroupNormalization has %s %s, by an InstanceNormError naming it',
    async (key, value, field) => {
      await useBackend('cpu');
      const json = await (await fetch('/test/fixtures/tfjs/keras/model.json')).json();
      const weights = await (await fetch('/test/fixtures/tfjs/keras/group1-shard1of1.bin')).arrayBuffer();
      const layers = json.modelTopology.config.layers as { class_name: string; config: Record<string, unknown> }[];
      const layer = layers.find((l) => l.class_name === 'GroupNormalization');
      if (!layer) throw new Error('the fixture has no GroupNormalization');
      layer.config[key] = value;
      const artifacts = { modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: weights };
      const loading = tfl.loadLayersModel(tf.io.fromMemory(artifacts as tf.io.ModelArtifacts));
      await expect(loading).rejects.toBeInstanceOf(InstanceNormError);
      await expect(loading).rejects.toMatchObject({ argument: field });
    },
  );

  it('a Keras 3 config (a DTypePolicy dtype, initializers with module and registeredName) loads', async () => {
    await useBackend('cpu');
    const layer = new GroupNormalization({
      groups: 2,
      dtype: {
        module: 'keras',
        className: 'DTypePolicy',
        config: { name: 'float32' },
        registeredName: null,
      } as unknown as 'float32',
      betaInitializer: { module: 'keras.initializers', className: 'Zeros', config: {}, registeredName: null },
    });
    const config = layer.getConfig();
    expect([config.groups, config.betaInitializer]).toEqual([2, { className: 'Zeros', config: {} }]);
  });
});
