import { describe, expect, it } from 'vitest';
import { type AdainOptions, adainCpu, InstanceNorm, type Layout } from '../src';
import { referenceAdain, referenceStats } from '../src/reference/float64-reference';
import { expectClose } from './helpers/compare';
import { readBuffer, storageBuffer } from './helpers/gpu';
import { useGpuInstances } from './helpers/gpu-instance';
import { randomNormal } from './helpers/random';
import { shapeOf, type TensorCase } from './helpers/shapes';

// adain() and encodeStats() on the GPU against the CPU reference.
const gpu = useGpuInstances();

interface AdainCase {
  readonly name: string;
  readonly content: TensorCase;
  readonly style: TensorCase;
}

const CASES: AdainCase[] = [
  {
    name: 'RGB, style larger than content',
    content: { batch: 1, channels: 3, spatial: [17, 13] },
    style: { batch: 1, channels: 3, spatial: [31, 29] },
  },
  {
    name: 'a style per image',
    content: { batch: 3, channels: 8, spatial: [6, 6] },
    style: { batch: 3, channels: 8, spatial: [4, 9] },
  },
  {
    name: 'one style for a batch',
    content: { batch: 2, channels: 5, spatial: [7] },
    style: { batch: 1, channels: 5, spatial: [3] },
  },
  {
    name: 'a megapixel style',
    content: { batch: 1, channels: 3, spatial: [64, 64] },
    style: { batch: 1, channels: 3, spatial: [600, 600] },
  },
];

async function gpuAdain(
  norm: InstanceNorm,
  content: Float32Array,
  contentShape: number[],
  style: Float32Array,
  styleShape: number[],
  options: AdainOptions,
): Promise<Float32Array> {
  const device = norm.device!;
  const contentBuffer = storageBuffer(device, content);
  const styleBuffer = storageBuffer(device, style);
  const output = storageBuffer(device, new Float32Array(content.length).fill(Number.NaN)); // unwritten elements fail
  const encoder = device.createCommandEncoder();
  norm.encodeAdain(encoder, contentBuffer, styleBuffer, output, contentShape, styleShape, options);
  device.queue.submit([encoder.finish()]);
  const result = await readBuffer(device, output, content.length);
  await norm.checkErrors();
  for (const b of [contentBuffer, styleBuffer, output]) b.destroy();
  return result;
}

describe.each(['auto', 'split'] as const)('encodeAdain, strategy %s, matches adainCpu', (strategy) => {
  describe.each(['nchw', 'nhwc'] as const)('layout %s', (layout: Layout) => {
    it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const contentShape = shapeOf(c.content, layout);
      const styleShape = shapeOf(c.style, layout);
      const content = randomNormal(
        contentShape.reduce((a, b) => a * b, 1),
        31,
        -20,
        3,
      );
      const style = randomNormal(
        styleShape.reduce((a, b) => a * b, 1),
        32,
        300,
        7,
      ); // far from zero
      const options: AdainOptions = { layout, epsilon: 1e-3 };
      const expected = referenceAdain(content, contentShape, style, styleShape, options);
      const actual = await gpuAdain(gpu.norm(strategy), content, contentShape, style, styleShape, options);
      expectClose(actual, expected, 1e-3, 1e-5); // outputs of magnitude ~300: f32 rounding ~3e-5
    });
  });
});

describe('adain() results', () => {
  const contentShape = [2, 4, 16, 12];
  const styleShape = [2, 4, 20, 20];
  const content = randomNormal(2 * 4 * 16 * 12, 41, 5, 2);
  const style = randomNormal(2 * 4 * 20 * 20, 42, -3, 0.5);

  it('carry the style statistics: the output mean and standard deviation are the style instance ones', async () => {
    const y = await gpu.norm().adain(content, contentShape, style, styleShape, { epsilon: 0 });
    const out = referenceStats(y, contentShape, { epsilon: 0 });
    const target = referenceStats(style, styleShape, { epsilon: 0 });
    expectClose(out.mean, target.mean, 1e-4);
    expectClose(out.invStd, target.invStd, 0, 1e-4);
  });

  it('with a fused epilogue and a residual array in adain()', async () => {
    const residual = randomNormal(content.length, 43);
    const options: AdainOptions = { activation: 'leakyRelu', activationAlpha: 0.3, residual };
    const expected = referenceAdain(content, contentShape, style, styleShape, options);
    expectClose(await gpu.norm().adain(content, contentShape, style, styleShape, options), expected, 1e-4, 1e-5);
  });

  it('on the CPU backend, equal to adainCpu', async () => {
    Object.defineProperty(navigator, 'gpu', { value: undefined, configurable: true });
    const cpu = await InstanceNorm.create();
    delete (navigator as { gpu?: unknown }).gpu;
    expect(cpu.backend).toBe('cpu');
    expect(await cpu.adain(content, contentShape, style, styleShape)).toEqual(adainCpu(content, contentShape, style, styleShape));
  });

  it('reject a style of another C with InstanceNormError', async () => {
    await expect(gpu.norm().adain(content, contentShape, style, [2, 5, 20, 16])).rejects.toThrow(
      /style shape \[2, 5, 20, 16\] has C = 5, expected the content's C = 4/,
    );
  });
});

describe('encodeStats writes [mean; invStd] as [N, C] arrays', () => {
  it.each([
    [[2, 3, 5, 7], 'nchw'],
    [[2, 3, 16, 16], 'nchw'],
    [[2, 9, 11, 3], 'nhwc'],
    [[1, 13, 7, 5], 'nhwc'],
    [[2, 6, 6, 8], 'nhwc'],
  ] as const)('shape %o %s', async (shape, layout) => {
    const device = gpu.device();
    const count = shape[0] * (layout === 'nchw' ? shape[1] : shape[3]);
    const x = randomNormal(
      (shape as readonly number[]).reduce((a, b) => a * b, 1),
      44,
      1e3,
      5,
    );
    const input = storageBuffer(device, x);
    const output = storageBuffer(device, new Float32Array(2 * count).fill(Number.NaN));
    const encoder = device.createCommandEncoder();
    gpu.norm().encodeStats(encoder, input, output, shape, { layout, epsilon: 1e-2 });
    device.queue.submit([encoder.finish()]);
    const exported = await readBuffer(device, output, 2 * count);
    await gpu.norm().checkErrors();
    const expected = referenceStats(x, shape, { layout, epsilon: 1e-2 });
    expectClose(exported.slice(0, count), expected.mean, 1e-3);
    expectClose(exported.slice(count), expected.invStd, 0, 1e-5);
    input.destroy();
    output.destroy();
  });

  it('rejects an output buffer smaller than 2 × N × C values', () => {
    const device = gpu.device();
    const input = device.createBuffer({ size: 96, usage: GPUBufferUsage.STORAGE });
    const output = device.createBuffer({ size: 44, usage: GPUBufferUsage.STORAGE });
    expect(() => gpu.norm().encodeStats(device.createCommandEncoder(), input, output, [2, 3, 4])).toThrow(
      /output buffer has 44 bytes, expected at least 48 \(2 × N × C = 12 float32 values/,
    );
  });
});
