import { describe, expect, it } from 'vitest';
import type { InstanceNormOptions, Layout } from '../src';
import { referenceInstanceNorm } from '../src/reference/float64-reference';
import { expectClose } from './helpers/compare';
import { normalizeOnGpu, storageBuffer } from './helpers/gpu';
import { STRATEGY_CHOICES, useGpuInstances } from './helpers/gpu-instance';
import { randomNormal, randomUniform } from './helpers/random';
import { describeCase, elementCount, shapeOf, type TensorCase } from './helpers/shapes';

// The fused epilogue and per-instance affine against the CPU reference, over every strategy,
// both layouts and every element kind (odd sizes, C = 3 and C = 8 in nhwc).
const gpu = useGpuInstances();

const SHAPES: TensorCase[] = [
  { batch: 2, channels: 3, spatial: [5, 7] }, // scalar / masked channels
  { batch: 3, channels: 8, spatial: [4, 4] }, // vec4 positions / vec4 channels
  { batch: 1, channels: 5, spatial: [9] }, // 1-D
  { batch: 2, channels: 2, spatial: [3, 4, 5] }, // 3-D
  { batch: 1, channels: 2, spatial: [150, 151] }, // large instances: split chunks
  { batch: 2, channels: 3, spatial: [6, 10] }, // nhwc: RGB quads, the epilogue on each rotated vec4
];

interface Epilogue {
  readonly name: string;
  readonly options: InstanceNormOptions;
  readonly residual: boolean;
}

const EPILOGUES: Epilogue[] = [
  { name: 'relu', options: { activation: 'relu' }, residual: false },
  { name: 'leakyRelu 0.2', options: { activation: 'leakyRelu', activationAlpha: 0.2 }, residual: false },
  { name: 'silu', options: { activation: 'silu' }, residual: false },
  { name: 'gelu', options: { activation: 'gelu' }, residual: false },
  { name: 'residual alone', options: {}, residual: true },
  { name: 'silu then residual', options: { activation: 'silu' }, residual: true },
  { name: 'residual then relu', options: { activation: 'relu', residualPosition: 'before-activation' }, residual: true },
];

async function expectEpilogueMatches(t: TensorCase, layout: Layout, e: Epilogue, strategy = STRATEGY_CHOICES[0]) {
  const shape = shapeOf(t, layout);
  const count = elementCount(t);
  const instances = t.batch * t.channels;
  // Mean far from zero, per-instance scale (AdaIN-like) and bias, values of both signs after the map.
  const input = randomNormal(count, 11, 50, 2);
  const options: InstanceNormOptions = {
    ...e.options,
    layout,
    scale: randomUniform(instances, 12, -3, 3),
    bias: randomUniform(instances, 13, -1, 1),
  };
  const residual = e.residual ? randomNormal(count, 14, 0, 2) : undefined;
  const expected = referenceInstanceNorm(input, shape, { ...options, residual });
  const device = gpu.device();
  const residualBuffer = residual && storageBuffer(device, residual);
  const actual = await normalizeOnGpu(gpu.norm(strategy), input, shape, { ...options, residual: residualBuffer });
  residualBuffer?.destroy();
  expectClose(actual, expected, 1e-4, 1e-5);
}

describe.each(STRATEGY_CHOICES)('strategy %s: fused epilogue and per-instance affine match the CPU reference', (strategy) => {
  describe.each(['nchw', 'nhwc'] as const)('layout %s', (layout) => {
    describe.each(SHAPES.map((t) => [describeCase(t), t] as const))('%s', (_name, t) => {
      it.each(EPILOGUES.map((e) => [e.name, e] as const))('%s', async (_name, e) => {
        await expectEpilogueMatches(t, layout, e, strategy);
      });
    });
  });
});

describe('the epilogue in run() and with per-instance GPU buffers', () => {
  const t: TensorCase = { batch: 2, channels: 4, spatial: [6, 5] };
  const shape = shapeOf(t, 'nchw');
  const input = randomNormal(elementCount(t), 21, -7, 3);
  const residual = randomNormal(elementCount(t), 22);

  it('run() takes the residual as a Float32Array', async () => {
    const options: InstanceNormOptions = { activation: 'gelu', residual, bias: randomUniform(4, 23, -1, 1) };
    expectClose(await gpu.norm().run(input, shape, options), referenceInstanceNorm(input, shape, options), 1e-4, 1e-5);
  });

  it('reads scale and bias buffers as N × C values with perInstanceAffine', async () => {
    const scale = randomUniform(8, 24, 0.5, 2);
    const bias = randomUniform(8, 25, -1, 1);
    const device = gpu.device();
    const scaleBuffer = storageBuffer(device, scale);
    const biasBuffer = storageBuffer(device, bias);
    const actual = await normalizeOnGpu(gpu.norm(), input, shape, {
      scale: scaleBuffer,
      bias: biasBuffer,
      perInstanceAffine: true,
    });
    expectClose(actual, referenceInstanceNorm(input, shape, { scale, bias }), 1e-4);
    // Without the flag the same buffers are per channel: image 1 then differs.
    const perChannel = referenceInstanceNorm(input, shape, { scale: scale.slice(0, 4), bias: bias.slice(0, 4) });
    const plain = await normalizeOnGpu(gpu.norm(), input, shape, { scale: scaleBuffer, bias: biasBuffer });
    expectClose(plain, perChannel, 1e-4);
    expect(Math.abs(plain[t.channels * 30] - actual[t.channels * 30])).toBeGreaterThan(1e-3);
    scaleBuffer.destroy();
    biasBuffer.destroy();
  });

  it('uses the input buffer as the residual (y = act(norm(x)) + x)', async () => {
    const device = gpu.device();
    const inputBuffer = storageBuffer(device, input);
    const outputBuffer = storageBuffer(device, new Float32Array(input.length).fill(Number.NaN));
    const encoder = device.createCommandEncoder();
    gpu.norm().encode(encoder, inputBuffer, outputBuffer, shape, { activation: 'relu', residual: inputBuffer });
    device.queue.submit([encoder.finish()]);
    const { readBuffer } = await import('./helpers/gpu');
    const actual = await readBuffer(device, outputBuffer, input.length);
    await gpu.norm().checkErrors();
    expectClose(actual, referenceInstanceNorm(input, shape, { activation: 'relu', residual: input }), 1e-4, 1e-5);
    inputBuffer.destroy();
    outputBuffer.destroy();
  });
});
