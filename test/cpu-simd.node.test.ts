import { describe, expect, it } from 'vitest';
import { assembleCpuKernels } from '../scripts/build-wasm.mjs';
import { instanceNormCpu, type Layout } from '../src';
import { cpuEpilogue } from '../src/cpu/cpu-epilogue';
import { CPU_KERNELS_WASM_BASE64 } from '../src/cpu/cpu-kernels-wasm';
import { normalizeWithSimd, simdAvailable, withoutSimd } from '../src/cpu/cpu-simd';
import { validateCall } from '../src/validation/validation';
import { expectClose } from './helpers/compare';
import { randomNormal, randomUniform } from './helpers/random';

describe('the WebAssembly module of the CPU loops', () => {
  it('is what wasm/cpu-kernels.wat assembles to (`npm run build:wasm` after editing the .wat)', async () => {
    expect(CPU_KERNELS_WASM_BASE64).toBe(Buffer.from(await assembleCpuKernels()).toString('base64'));
  });

  it('runs in this engine (Node has WebAssembly SIMD), so the cases below reach it', () => {
    expect(simdAvailable()).toBe(true);
    expect(withoutSimd(() => simdAvailable())).toBe(false);
  });
});

interface SimdCase {
  readonly name: string;
  readonly shape: number[];
  readonly layout: Layout;
  /** Per channel (C values), per instance (N × C), or none. */
  readonly affine: 'channel' | 'instance' | 'none';
  readonly mean?: number;
  readonly std?: number;
  /** Scales drawn from ±scaleRange (default 2). */
  readonly scaleRange?: number;
  /** SiLU alone as the epilogue, which the kernels compute themselves. */
  readonly silu?: boolean;
  /** GroupNorm's groups, whose moments the loops merge. */
  readonly groups?: number;
}

const CASES: SimdCase[] = [
  {
    name: 'nchw 1-D, 17 positions (two blocks of eight and one left over)',
    shape: [2, 3, 17],
    layout: 'nchw',
    affine: 'channel',
  },
  { name: 'nchw 2-D 9×11, per-instance scale and bias', shape: [2, 4, 9, 11], layout: 'nchw', affine: 'instance' },
  { name: 'nchw 3-D 3×4×5, no affine', shape: [2, 2, 3, 4, 5], layout: 'nchw', affine: 'none' },
  { name: 'nchw one position per instance (no block of eight)', shape: [3, 5, 1], layout: 'nchw', affine: 'channel' },
  { name: 'nchw mean 1000 and spread 0.01', shape: [1, 6, 31, 29], layout: 'nchw', affine: 'channel', mean: 1000, std: 0.01 },
  { name: 'nchw 520 instances of 1023 values: three chunks', shape: [4, 130, 33, 31], layout: 'nchw', affine: 'channel' },
  { name: 'nchw a million-value instance, one chunk of its own', shape: [1, 1, 1024, 1025], layout: 'nchw', affine: 'channel' },
  { name: 'nhwc C = 8', shape: [2, 5, 7, 8], layout: 'nhwc', affine: 'channel' },
  {
    name: 'nhwc C = 13: periods of 104 values, 2 positions past the last',
    shape: [3, 6, 5, 13],
    layout: 'nhwc',
    affine: 'instance',
  },
  { name: 'nhwc C = 2, 1-D, 13 positions', shape: [2, 13, 2], layout: 'nhwc', affine: 'channel' },
  { name: 'nhwc C = 3 (RGB), 7×5: periods of 24 values', shape: [2, 7, 5, 3], layout: 'nhwc', affine: 'instance' },
  { name: 'nhwc C = 3, a megapixel image, mean 200', shape: [1, 1024, 1024, 3], layout: 'nhwc', affine: 'channel', mean: 200 },
  { name: 'nhwc C = 4', shape: [1, 9, 9, 4], layout: 'nhwc', affine: 'none' },
  { name: 'nhwc C = 5, 3-D', shape: [2, 3, 3, 3, 5], layout: 'nhwc', affine: 'channel' },
  { name: 'nhwc C = 6', shape: [1, 11, 3, 6], layout: 'nhwc', affine: 'instance' },
  { name: 'nhwc C = 7, one position (no whole period)', shape: [3, 1, 7], layout: 'nhwc', affine: 'channel' },
  { name: 'nhwc C = 9, 1-D', shape: [2, 31, 9], layout: 'nhwc', affine: 'channel' },
  { name: 'nhwc C = 24, 3-D', shape: [1, 3, 5, 7, 24], layout: 'nhwc', affine: 'none' },
  { name: 'nhwc C = 64, mean -500', shape: [2, 16, 16, 64], layout: 'nhwc', affine: 'channel', mean: -500, std: 0.5 },
  {
    name: 'nhwc C = 20, 130×130 images: one image per chunk, five tiles each',
    shape: [3, 130, 130, 20],
    layout: 'nhwc',
    affine: 'instance',
  },
  // SiLU: its exp (within 1e-14) against Math.exp, one float32 rounding apart as the rest.
  { name: 'nchw SiLU, 17 positions', shape: [2, 3, 17], layout: 'nchw', affine: 'channel', silu: true },
  {
    name: 'nchw SiLU, scales to ±40: every v in [-150, 150]',
    shape: [1, 8, 64, 64],
    layout: 'nchw',
    affine: 'channel',
    scaleRange: 40,
    silu: true,
  },
  {
    name: 'nchw SiLU, scales to ±400: v past the clamp of exp',
    shape: [2, 4, 9, 11],
    layout: 'nchw',
    affine: 'instance',
    scaleRange: 400,
    silu: true,
  },
  {
    name: 'nhwc SiLU, C = 13: periods and 2 positions past the last',
    shape: [3, 6, 5, 13],
    layout: 'nhwc',
    affine: 'instance',
    silu: true,
  },
  {
    name: 'nhwc SiLU, C = 64, scales to ±40',
    shape: [2, 16, 16, 64],
    layout: 'nhwc',
    affine: 'channel',
    scaleRange: 40,
    silu: true,
  },
  // GroupNorm: the groups' moments merged from their channels'.
  { name: 'nchw GroupNorm, 12 channels in 3 groups', shape: [2, 12, 9, 11], layout: 'nchw', affine: 'channel', groups: 3 },
  {
    name: 'nchw GroupNorm, 520 channels in 4 groups: chunks of whole groups',
    shape: [2, 520, 33, 31],
    layout: 'nchw',
    affine: 'channel',
    groups: 4,
  },
  {
    name: 'nhwc GroupNorm, C = 24 in 6 groups, SiLU',
    shape: [2, 7, 5, 24],
    layout: 'nhwc',
    affine: 'instance',
    groups: 6,
    silu: true,
  },
  { name: 'nhwc GroupNorm, C = 13 in one group', shape: [3, 6, 5, 13], layout: 'nhwc', affine: 'channel', groups: 1 },
];

describe('the SIMD loops against the JavaScript loops', () => {
  it.each(CASES)('$name: $shape', ({ shape, layout, affine, mean = 0.5, std = 2, scaleRange = 2, silu, groups }) => {
    const channels = layout === 'nchw' ? shape[1] : shape[shape.length - 1];
    const count = shape.reduce((a, b) => a * b, 1);
    const x = randomNormal(count, count + channels, mean, std);
    const affineLength = affine === 'instance' ? shape[0] * channels : channels;
    const options = {
      layout,
      epsilon: 1e-5,
      ...(affine === 'none'
        ? {}
        : { scale: randomUniform(affineLength, 3, -scaleRange, scaleRange), bias: randomUniform(affineLength, 4, -1, 1) }),
      ...(silu ? { activation: 'silu' as const } : {}),
      ...(groups ? { groups } : {}),
    };
    const call = validateCall(shape, options);
    const { geometry, epilogue, groupChannels } = call;
    const output = new Float32Array(count).fill(Number.NaN);
    const map = { scale: options.scale, bias: options.bias, finish: cpuEpilogue(epilogue, undefined), silu };
    expect(normalizeWithSimd(x, output, geometry, call, map, groupChannels)).toBe(true);
    const javascript = withoutSimd(() => instanceNormCpu(x, shape, options));
    // The same float64 arithmetic, the additions in another order: at most one float32 rounding apart.
    expectClose(output, javascript, 1e-9, 2 ** -23);
    expectClose(instanceNormCpu(x, shape, options), output, 0);
  });

  it('gives the bias where JavaScript does: a constant instance with epsilon 0', () => {
    const x = new Float32Array(2 * 3 * 10).fill(4);
    x.set(randomNormal(10, 5), 10);
    const y = instanceNormCpu(x, [2, 3, 10], { epsilon: 0 });
    expect(Array.from(y.subarray(0, 10))).toEqual(Array(10).fill(0));
    expectClose(
      y,
      withoutSimd(() => instanceNormCpu(x, [2, 3, 10], { epsilon: 0 })),
      1e-9,
      2 ** -23,
    );
  });
});

describe('what stays with the JavaScript loops', () => {
  const x = randomNormal(2 * 4 * 25, 9);
  const output = () => new Float32Array(x.length).fill(Number.NaN);

  it('an epilogue (it works on the float64 value before rounding) and float64 outputs (float16 results)', () => {
    const call = validateCall([2, 4, 25], { activation: 'relu' });
    const { geometry, epilogue } = call;
    const finish = cpuEpilogue(epilogue, undefined);
    const untouched = output();
    expect(normalizeWithSimd(x, untouched, geometry, call, { scale: undefined, bias: undefined, finish })).toBe(false);
    expect(untouched.every(Number.isNaN)).toBe(true);
    const wide = new Float64Array(x.length);
    expect(normalizeWithSimd(x, wide, geometry, call, { scale: undefined, bias: undefined, finish: undefined })).toBe(false);
  });
});
