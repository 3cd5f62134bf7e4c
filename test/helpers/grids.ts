import type { InstanceNormOptions } from '../../src';
import { randomUniform } from './random';
import type { TensorCase } from './shapes';

// The grid of shapes and data the GPU (gpu-matches-cpu.browser.test.ts) and the CPU fallback
// (cpu-fallback-vs-reference.node.test.ts) are both compared with the reference on.

export const SHAPES: TensorCase[] = [
  { batch: 1, channels: 1, spatial: [1] }, // a single element: variance 0, output = bias
  { batch: 3, channels: 5, spatial: [1, 1] }, // every instance a single element
  { batch: 1, channels: 3, spatial: [7] }, // 1-D, odd
  { batch: 2, channels: 3, spatial: [5, 7] }, // 2-D, odd
  { batch: 2, channels: 2, spatial: [3, 4, 5] }, // 3-D
  { batch: 4, channels: 64, spatial: [8, 8] }, // many small instances
  { batch: 1, channels: 3, spatial: [67, 71] }, // medium, odd
  { batch: 2, channels: 2, spatial: [5, 37, 41] }, // 3-D, larger than one workgroup chunk
  { batch: 1, channels: 2, spatial: [150, 151] }, // a few large instances
  { batch: 1, channels: 8, spatial: [150, 151] }, // large instances of vec4 channel groups: several chunks each
  { batch: 2, channels: 3, spatial: [6, 10] }, // nhwc: RGB quads (three vec4s per four positions)
  { batch: 1, channels: 3, spatial: [300, 304] }, // nhwc: RGB quads over several chunks
];

export interface Variant {
  readonly name: string;
  readonly options: (channels: number) => InstanceNormOptions;
  readonly mean: number;
  readonly std: number;
}

export const VARIANTS: Variant[] = [
  { name: 'no affine', options: () => ({}), mean: 0, std: 1 },
  {
    name: 'scale and bias, epsilon 1e-3',
    options: (c) => ({ scale: randomUniform(c, 21, -2, 2), bias: randomUniform(c, 22, -1, 1), epsilon: 1e-3 }),
    mean: 0.5,
    std: 3,
  },
  { name: 'mean 1e4 standard deviations from zero', options: (c) => ({ bias: randomUniform(c, 23, -1, 1) }), mean: 1e4, std: 1 },
  { name: 'negative offset, small spread, epsilon 0', options: () => ({ epsilon: 0 }), mean: -300, std: 0.03 },
];
