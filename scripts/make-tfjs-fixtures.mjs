// `node scripts/make-tfjs-fixtures.mjs`: writes the TF.js Layers models of test/fixtures/tfjs/,
// which test/tfjs-layers.browser.test.ts loads with tf.loadLayersModel. Each is a model.json
// (the Keras topology as TensorFlow.js's converter writes it, snake_case config fields and all)
// and its weights, drawn here from a seeded generator: nothing comes from the code under test.
//
//   keras/   conv → InstanceNormalization (keras-contrib's class and config) → relu → conv →
//            GroupNormalization (Keras 3's class and config, G = 4)
//   addons/  the same with Addons>InstanceNormalization and Addons>GroupNormalization, configs
//            as TensorFlow Addons serializes them (groups, set to C when the layer was built)
//
// Run with --check to compare with the files on disk instead of writing them (the node test does);
// model.json is compared as JSON, since `npm run format` lays it out its own way.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'tfjs');

/** Input [N, H, W, C] of the models (N free). */
export const INPUT_SHAPE = [12, 12, 3];
const FILTERS = 8;
const GROUPS = 4;

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uniform(length, seed, low, high) {
  const random = mulberry32(seed);
  return Float32Array.from({ length }, () => low + (high - low) * random());
}

const zeros = { class_name: 'Zeros', config: {} };
const ones = { class_name: 'Ones', config: {} };

function conv(name, inputChannels) {
  return {
    class_name: 'Conv2D',
    config: {
      name,
      trainable: true,
      dtype: 'float32',
      filters: FILTERS,
      kernel_size: [3, 3],
      strides: [1, 1],
      padding: 'same',
      data_format: 'channels_last',
      dilation_rate: [1, 1],
      activation: 'linear',
      use_bias: true,
      kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } },
      bias_initializer: zeros,
      kernel_regularizer: null,
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
    },
    weights: { kernel: [3, 3, inputChannels, FILTERS], bias: [FILTERS] },
  };
}

function normalization(className, name, extra) {
  return {
    class_name: className,
    config: {
      name,
      trainable: true,
      dtype: 'float32',
      ...extra,
      axis: -1,
      epsilon: 0.001,
      center: true,
      scale: true,
      beta_initializer: zeros,
      gamma_initializer: ones,
      beta_regularizer: null,
      gamma_regularizer: null,
      beta_constraint: null,
      gamma_constraint: null,
    },
    // Keras adds gamma, then beta.
    weights: { gamma: [FILTERS], beta: [FILTERS] },
  };
}

const MODELS = {
  keras: [
    conv('conv2d', INPUT_SHAPE[2]),
    normalization('InstanceNormalization', 'instance_normalization', {}),
    { class_name: 'Activation', config: { name: 'activation', trainable: true, dtype: 'float32', activation: 'relu' } },
    conv('conv2d_1', FILTERS),
    normalization('GroupNormalization', 'group_normalization', { groups: GROUPS }),
  ],
  addons: [
    conv('conv2d', INPUT_SHAPE[2]),
    normalization('Addons>InstanceNormalization', 'instance_normalization', { groups: FILTERS }),
    { class_name: 'Activation', config: { name: 'activation', trainable: true, dtype: 'float32', activation: 'relu' } },
    conv('conv2d_1', FILTERS),
    normalization('Addons>GroupNormalization', 'group_normalization', { groups: GROUPS }),
  ],
};

/** The seeded values of a weight: kernels ±0.4, biases and β ±0.5, γ 0.5 to 1.5. */
function weightValues(layerIndex, name, shape) {
  const length = shape.reduce((a, b) => a * b, 1);
  const seed = 1000 * (layerIndex + 1) + name.length;
  if (name === 'kernel') return uniform(length, seed, -0.4, 0.4);
  if (name === 'gamma') return uniform(length, seed, 0.5, 1.5);
  return uniform(length, seed, -0.5, 0.5);
}

/** model.json and the weights file of a model, as text and bytes. */
export function fixture(kind) {
  const layers = MODELS[kind];
  const manifest = [];
  const chunks = [];
  layers.forEach((layer, i) => {
    for (const [name, shape] of Object.entries(layer.weights ?? {})) {
      manifest.push({ name: `${layer.config.name}/${name}`, shape, dtype: 'float32' });
      chunks.push(weightValues(i, name, shape));
    }
  });
  const weights = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    weights.set(chunk, offset);
    offset += chunk.length;
  }
  const model = {
    format: 'layers-model',
    generatedBy: 'scripts/make-tfjs-fixtures.mjs: a Keras Sequential topology as tfjs-converter writes it, seeded weights',
    convertedBy: null,
    modelTopology: {
      class_name: 'Sequential',
      config: {
        name: `${kind}_normalization_model`,
        layers: [
          {
            class_name: 'InputLayer',
            config: { batch_input_shape: [null, ...INPUT_SHAPE], dtype: 'float32', sparse: false, name: 'input_1' },
          },
          ...layers.map(({ class_name, config }) => ({ class_name, config })),
        ],
      },
      keras_version: '2.15.0',
      backend: 'tensorflow',
    },
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: manifest }],
  };
  return { json: `${JSON.stringify(model, null, 2)}\n`, bin: new Uint8Array(weights.buffer) };
}

export const FIXTURE_KINDS = Object.keys(MODELS);

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const kind of FIXTURE_KINDS) {
    const { json, bin } = fixture(kind);
    const folder = join(root, kind);
    const files = [
      ['model.json', Buffer.from(json)],
      ['group1-shard1of1.bin', Buffer.from(bin)],
    ];
    for (const [file, bytes] of files) {
      const path = join(folder, file);
      if (check) {
        let onDisk;
        try {
          onDisk = readFileSync(path);
        } catch {
          onDisk = Buffer.alloc(0);
        }
        // model.json as JSON (the repository's formatter lays it out its own way), the weights byte for byte.
        const same = file.endsWith('.json')
          ? onDisk.length > 0 && JSON.stringify(JSON.parse(onDisk.toString())) === JSON.stringify(JSON.parse(json))
          : onDisk.equals(bytes);
        if (!same) {
          console.error(`${path} differs from what the script writes`);
          stale++;
        }
      } else {
        mkdirSync(folder, { recursive: true });
        writeFileSync(path, bytes);
        console.log(`wrote ${path} (${bytes.length} bytes)`);
      }
    }
  }
  if (stale) process.exitCode = 1;
}
