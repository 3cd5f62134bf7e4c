import fc from 'fast-check';
import { inject, it } from 'vitest';
import type { EpsilonPlacement, Layout } from '../src';
import { referenceInstanceNorm } from '../src/reference/float64-reference';
import { expectClose } from './helpers/compare';
import { normalizeOnGpu } from './helpers/gpu';
import { STRATEGY_CHOICES, useGpuInstances } from './helpers/gpu-instance';
import { randomNormal, randomUniform, seededRandom } from './helpers/random';
import { shapeOf } from './helpers/shapes';

const gpu = useGpuInstances();

/** How the values of one instance are drawn. */
const DATA_KINDS = [
  'normal',
  'offset',
  'far offset',
  'constant',
  'subnormal',
  'tiny',
  'huge',
  'sparse spikes',
  'integers',
] as const;
type DataKind = (typeof DATA_KINDS)[number];

function instanceData(kind: DataKind, size: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  switch (kind) {
    case 'normal':
      return randomNormal(size, seed);
    case 'offset':
      return randomNormal(size, seed, 1e3 * (random() - 0.5), 0.1 + 10 * random());
    case 'far offset':
      return randomNormal(size, seed, 2e4, 1); // 2e4 standard deviations from zero
    case 'constant':
      return new Float32Array(size).fill(random() * 100 - 50);
    case 'subnormal':
      return randomNormal(size, seed, 0, 1e-40);
    case 'tiny':
      return randomNormal(size, seed, 1e-30, 1e-30);
    case 'huge':
      return randomNormal(size, seed, 1e16, 1e15);
    case 'sparse spikes':
      return Float32Array.from({ length: size }, () => (random() < 0.05 ? 100 * random() : 0)); // ReLU-like
    case 'integers':
      return Float32Array.from({ length: size }, () => Math.floor(random() * 256)); // 8-bit pixels
  }
}

const fuzzCase = fc.record({
  batch: fc.integer({ min: 1, max: 3 }),
  channels: fc.integer({ min: 1, max: 9 }),
  spatial: fc.array(fc.integer({ min: 1, max: 23 }), { minLength: 1, maxLength: 3 }),
  layout: fc.constantFrom<Layout>('nchw', 'nhwc'),
  strategy: fc.constantFrom(...STRATEGY_CHOICES),
  epsilon: fc.constantFrom(1e-5, 1e-3, 0.1, 1),
  epsilonPlacement: fc.constantFrom<EpsilonPlacement>('variance', 'std'),
  affine: fc.boolean(),
  kinds: fc.array(fc.constantFrom(...DATA_KINDS), { minLength: 1, maxLength: 4 }),
  seed: fc.integer({ min: 1, max: 1e6 }),
});

it('GPU matches the CPU reference on random shapes, layouts, options and data of every kind', async () => {
  const { fuzzRuns, fuzzSeed } = { fuzzRuns: inject('fuzzRuns'), fuzzSeed: inject('fuzzSeed') };
  console.log(`fuzz: ${fuzzRuns} cases, seed ${fuzzSeed}`);
  await fc.assert(
    fc.asyncProperty(fuzzCase, async (t) => {
      const size = t.spatial.reduce((a, b) => a * b, 1);
      const instances = t.batch * t.channels;
      // Drawn in NCHW order (instance after instance), then laid out as asked.
      const nchw = new Float32Array(instances * size);
      for (let i = 0; i < instances; i++) nchw.set(instanceData(t.kinds[i % t.kinds.length], size, t.seed + i), i * size);
      const input = t.layout === 'nchw' ? nchw : toChannelsLast(nchw, t.batch, t.channels, size);
      const shape = shapeOf(t, t.layout);
      const options = {
        layout: t.layout,
        epsilon: t.epsilon,
        epsilonPlacement: t.epsilonPlacement,
        ...(t.affine
          ? { scale: randomUniform(t.channels, t.seed + 1, -2, 2), bias: randomUniform(t.channels, t.seed + 2, -1, 1) }
          : {}),
      };
      const actual = await normalizeOnGpu(gpu.norm(t.strategy), input, shape, options);
      expectClose(actual, referenceInstanceNorm(input, shape, options), 1e-4);
    }),
    { seed: fuzzSeed, numRuns: fuzzRuns },
  );
});

function toChannelsLast(data: Float32Array, batch: number, channels: number, size: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      for (let s = 0; s < size; s++) out[(n * size + s) * channels + c] = data[(n * channels + c) * size + s];
    }
  }
  return out;
}
