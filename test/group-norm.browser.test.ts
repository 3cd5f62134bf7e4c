import { describe, expect, it } from 'vitest';
import { type InstanceNorm, type InstanceNormOptions, type Layout, toFloat16Bits } from '../src';
import { deviceProfile } from '../src/gpu/device-profile';
import { GpuBackend } from '../src/gpu/gpu-backend';
import { referenceInstanceNorm, referenceStats } from '../src/reference/float64-reference';
import { validateCall } from '../src/validation/validation';
import { expectClose } from './helpers/compare';
import { expectWithinHalfUlps, normalizeHalvesOnGpu } from './helpers/float16';
import { normalizeOnGpu, readBuffer, storageBuffer } from './helpers/gpu';
import { STRATEGY_CHOICES, useGpuInstances } from './helpers/gpu-instance';
import { randomNormal, randomUniform } from './helpers/random';
import { describeCase, elementCount, shapeOf, type TensorCase } from './helpers/shapes';

// GroupNorm on the GPU against the float64 reference, with every strategy forced (fused plans
// take a group as their unit where its channels are whole kernel instances, else the split
// plan): every element kind, groups from 1 (layer norm) to C / 2, groups of 3 channels across
// nhwc channel groups of 4, groups of whole channel groups of 4, and large groups.
const gpu = useGpuInstances();

const CASES: [TensorCase, number[]][] = [
  [{ batch: 2, channels: 6, spatial: [5, 7] }, [1, 2, 3]], // scalar / masked channel groups
  [{ batch: 3, channels: 8, spatial: [4, 4] }, [1, 2, 4]], // vec4 positions / vec4 channel groups
  [{ batch: 1, channels: 12, spatial: [9] }, [4, 6]], // groups of 3 and 2 channels, 1-D
  [{ batch: 2, channels: 4, spatial: [2, 3, 5] }, [1, 2]], // 3-D
  [{ batch: 1, channels: 4, spatial: [150, 151] }, [2]], // several chunks per channel
  [{ batch: 2, channels: 3, spatial: [6, 10] }, [1]], // nhwc: RGB quads, one group (layer norm)
  [{ batch: 2, channels: 32, spatial: [6, 6] }, [4, 2]], // nhwc: groups of 8 and 16 channels, whole vec4 groups
  [{ batch: 1, channels: 24, spatial: [17, 19] }, [6, 3]], // odd positions: scalar nchw, groups of 4 and 8
];

describe.each(STRATEGY_CHOICES)('GroupNorm, strategy %s, matches the float64 reference', (strategy) => {
  describe.each(['nchw', 'nhwc'] as const)('layout %s', (layout: Layout) => {
    describe.each(CASES.map(([t, groups]) => [describeCase(t), t, groups] as const))('%s', (_name, t, groupsList) => {
      it.each(groupsList)('groups = %i', async (groups) => {
        const shape = shapeOf(t, layout);
        const x = randomNormal(elementCount(t), 61, 500, 4); // far from zero: the pivot shift matters
        const options: InstanceNormOptions = {
          layout,
          groups,
          scale: randomUniform(t.channels, 62, 0.5, 2),
          bias: randomUniform(t.channels, 63, -1, 1),
          activation: 'silu',
        };
        const actual = await normalizeOnGpu(gpu.norm(strategy), x, shape, options);
        expectClose(actual, referenceInstanceNorm(x, shape, options), 1e-4, 1e-5);
      });
    });
  });

  it.each([
    ['nchw', [1, 64, 128, 128], 4], // groups of 16 channels, a million values each
    ['nhwc', [1, 128, 128, 64], 4],
    ['nchw', [2, 40, 9, 9], 4], // groups of 10 channels of odd size
  ] as const)('%s %j, groups = %i, with a residual', async (layout, shape, groups) => {
    const count = shape.reduce((a: number, b: number) => a * b, 1);
    const channels = layout === 'nchw' ? shape[1] : shape[shape.length - 1];
    const x = randomNormal(count, 66, -20, 3);
    const residual = randomNormal(count, 67, 0, 1);
    const options: InstanceNormOptions = {
      layout,
      groups,
      scale: randomUniform(channels, 68, 0.5, 2),
      bias: randomUniform(channels, 69, -1, 1),
      activation: 'silu',
    };
    const device = gpu.device();
    const residualBuffer = storageBuffer(device, residual);
    const actual = await normalizeOnGpu(gpu.norm(strategy), x, shape, { ...options, residual: residualBuffer });
    residualBuffer.destroy();
    expectClose(actual, referenceInstanceNorm(x, shape, { ...options, residual }), 1e-4, 1e-5);
  });
});

describe.each(STRATEGY_CHOICES)("nhwc GroupNorm at diffusion's group widths, strategy %s", (strategy) => {
  // Groups of 10 and 30 channels (C = 320, 960 with G = 32: across channel groups of four) and of
  // 20 (whole channel groups of four); per-instance scale and bias; float32 and float16.
  it.each([
    [[2, 9, 7, 40], 4],
    [[1, 5, 6, 120], 4],
    [[2, 7, 5, 80], 4],
    [[1, 33, 31, 20], 2],
  ] as const)('%j, groups = %i', async (shape, groups) => {
    const [n, , , c] = shape;
    const count = shape.reduce((a: number, b: number) => a * b, 1);
    const x = randomNormal(count, 71, 300, 2);
    const options: InstanceNormOptions = {
      layout: 'nhwc',
      groups,
      scale: randomUniform(n * c, 72, 0.5, 2),
      bias: randomUniform(n * c, 73, -1, 1),
      activation: 'silu',
    };
    expectClose(
      await normalizeOnGpu(gpu.norm(strategy), x, shape, options),
      referenceInstanceNorm(x, shape, options),
      1e-4,
      1e-5,
    );
    const halves = toFloat16Bits(randomNormal(count, 74, 3, 2));
    const halfOptions = { ...options, dataType: 'float16' } as const;
    const expected = referenceInstanceNorm(halves, shape, halfOptions);
    expectWithinHalfUlps(await normalizeHalvesOnGpu(gpu.norm(strategy), halves, shape, halfOptions), expected, 2);
  });
});

describe('GroupNorm details on the GPU', () => {
  const shape = [2, 6, 8, 8];
  const x = randomNormal(2 * 6 * 64, 64, -3, 2);

  it('groups = C gives the instance norm result and plan', async () => {
    expect(gpu.norm().plan(shape, { groups: 6 })).toEqual(gpu.norm().plan(shape));
    expectClose(await normalizeOnGpu(gpu.norm(), x, shape, { groups: 6 }), referenceInstanceNorm(x, shape), 1e-4);
  });

  it('a group of whole kernel instances is one fused unit; other groups take the split plan', () => {
    const kernels = (norm: InstanceNorm, s: number[], options: InstanceNormOptions) =>
      norm.plan(s, options).windows[0].dispatches.map((d) => d.kernel);
    // Groups of 3 nchw channels: a workgroup per group, one dispatch of one workgroup per group.
    const perWorkgroup = gpu.norm('fused-per-workgroup').plan(shape, { groups: 2 });
    expect(perWorkgroup.strategy).toBe('fused-per-workgroup');
    expect(perWorkgroup.windows[0].dispatches).toHaveLength(1);
    expect(perWorkgroup.windows[0].dispatches[0].workgroups).toEqual([4, 1]);
    expect(kernels(gpu.norm('split'), shape, { groups: 2 })).toEqual(['partial-moments', 'combine-group-moments', 'normalize']);
    // nhwc groups of 3 channels cut across the channel groups of 4: on this CPU adapter a channel
    // per kernel instance (a GPU takes the split plan: test/planner.node.test.ts).
    const strided = gpu.norm('fused-per-thread').plan([2, 8, 8, 6], { layout: 'nhwc', groups: 2 });
    expect([strided.strategy, strided.elements]).toEqual(['fused-per-thread', 'scalar']);
  });

  it('stats() gives each channel its group statistics', async () => {
    const actual = await gpu.norm().stats(x, shape, { groups: 3 });
    const expected = referenceStats(x, shape, { groups: 3 });
    expectClose(actual.mean, expected.mean, 1e-4);
    expectClose(actual.invStd, expected.invStd, 0, 1e-5);
  });

  it('keeps each group in one storage window', async () => {
    const device = gpu.device();
    for (const [s, layout, groups] of [
      [[3, 8, 7, 11], 'nchw', 2],
      [[6, 9, 10, 6], 'nhwc', 3],
    ] as const) {
      const backend = new GpuBackend(device, undefined, { ...deviceProfile(device), maxStorageBufferBindingSize: 4096 });
      const data = randomNormal(
        s.reduce((a: number, b: number) => a * b, 1),
        65,
        40,
        2,
      );
      const input = storageBuffer(device, data);
      const output = storageBuffer(device, new Float32Array(data.length).fill(Number.NaN));
      const call = validateCall(s, { layout, groups });
      expect(backend.plan(call.geometry, undefined, call.groupChannels).windows.length).toBeGreaterThan(1);
      device.pushErrorScope('validation');
      const encoder = device.createCommandEncoder();
      backend.encode(encoder, { ...call, input, output });
      device.queue.submit([encoder.finish()]);
      expect(await device.popErrorScope()).toBeNull();
      expectClose(await readBuffer(device, output, data.length), referenceInstanceNorm(data, s, { layout, groups }), 1e-4);
      for (const b of [input, output]) b.destroy();
      backend.destroy();
    }
  });
});
