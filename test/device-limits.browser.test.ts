import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InstanceNorm, type Layout, type Strategy } from '../src';
import { tensorGeometry } from '../src/core/tensor-geometry';
import { type DeviceProfile, deviceProfile } from '../src/gpu/device-profile';
import { GpuBackend } from '../src/gpu/gpu-backend';
import { STRATEGIES } from '../src/gpu/planner';
import { referenceInstanceNorm } from '../src/reference/float64-reference';
import { validateEpilogue } from '../src/validation/validation';
import { expectClose } from './helpers/compare';
import { readBuffer, storageBuffer } from './helpers/gpu';
import { randomNormal, randomUniform } from './helpers/random';

const PLAIN_EPILOGUE = validateEpilogue({});

let owner: InstanceNorm;
beforeAll(async () => {
  owner = await InstanceNorm.create({ fallback: 'error' });
});
afterAll(() => owner.destroy());

/** Normalizes on a GpuBackend whose device profile claims other limits, into a NaN-poisoned output. */
async function normalizeWithProfile(
  strategy: Strategy,
  limits: Partial<DeviceProfile>,
  shape: readonly number[],
  layout: Layout,
  options: { scale?: Float32Array; bias?: Float32Array } = {},
) {
  const device = owner.device!;
  const backend = new GpuBackend(device, strategy, { ...deviceProfile(device), ...limits });
  const geometry = tensorGeometry(shape, layout);
  const x = randomNormal(geometry.elementCount, 5, 100, 3);
  const input = storageBuffer(device, x);
  const output = storageBuffer(device, new Float32Array(x.length).fill(Number.NaN));
  device.pushErrorScope('validation');
  const encoder = device.createCommandEncoder();
  const plan = backend.encode(encoder, {
    geometry,
    epsilon: 1e-5,
    epsilonPlacement: 'variance',
    epilogue: PLAIN_EPILOGUE,
    input,
    output,
    ...options,
  });
  device.queue.submit([encoder.finish()]);
  expect(await device.popErrorScope()).toBeNull();
  expectClose(await readBuffer(device, output, x.length), referenceInstanceNorm(x, shape, { layout, ...options }), 1e-4);
  backend.destroy();
  input.destroy();
  output.destroy();
  return plan;
}

// maxComputeWorkgroupsPerDimension is at least 65535 on every device; a profile that says 100
// sends every kernel through its 2-D grid and the skipping of the excess workgroups.
// 8000 kernel instances: more than 100 workgroups of 64 invocations, fewer than 100² workgroups.
describe.each(STRATEGIES)('strategy %s on a 2-D workgroup grid', (strategy) => {
  it.each([
    [[40, 200, 3, 3], 'nchw'],
    [[20, 3, 5, 1600], 'nhwc'], // 8000 channel groups of 4
  ] as const)('shape %o %s matches the CPU reference', async (shape, layout) => {
    const plan = await normalizeWithProfile(strategy, { maxWorkgroupsPerDimension: 100 }, shape, layout);
    expect(plan.windows[0].dispatches.some((d) => d.workgroups[1] > 1)).toBe(true);
  });
});

// maxStorageBufferBindingSize is at least 128 MiB; a profile that says 2 KiB sends the tensors
// below through several windows, at binding offsets that are not multiples of an instance.
describe.each(STRATEGIES)('strategy %s on a tensor larger than one storage binding', (strategy) => {
  it.each([
    [[3, 5, 7, 11], 'nchw'], // 15 instances of 308 bytes: 5 per window
    [[2, 7, 130], 'nchw'], // instances of 520 bytes, windows starting mid-image
    [[2, 5, 10, 10], 'nchw'], // vec4 Elements: windows 16 floats past their binding offset
    [[2, 5, 8, 9], 'nchw'], // pairs of vec4s on a CPU adapter: instances of 288 bytes, windows mid-instance-grid
    [[6, 9, 10, 3], 'nhwc'], // images of 1080 bytes: one per window
    [[16, 4, 6, 3], 'nhwc'], // RGB quads: images of 288 bytes, windows starting 16-byte aligned past their binding offset
    [[4, 5, 6, 8], 'nhwc'], // vec4 channel groups: windows 48 floats past their binding offset
  ] as const)('shape %o %s, with scale and bias per channel, matches the CPU reference', async (shape, layout) => {
    const channels = layout === 'nchw' ? shape[1] : shape[shape.length - 1];
    const options = { scale: randomUniform(channels, 3, -2, 2), bias: randomUniform(channels, 4, -1, 1) };
    const plan = await normalizeWithProfile(strategy, { maxStorageBufferBindingSize: 2048 }, shape, layout, options);
    expect(plan.windows.length).toBeGreaterThan(1);
    expect(plan.windows.some((w) => w.elementOffset > 0)).toBe(true);
  });
});

// The plans a real GPU gets (workgroups of 32 to 256 invocations, chunks merged by a workgroup
// per instance), carried out on this device: a profile that says it is no CPU adapter.
describe.each(STRATEGIES)('strategy %s as planned for a real GPU', (strategy) => {
  it.each([
    [[3, 5, 4, 4], 'nchw'], // 4 vec4s an instance: a workgroup of 32
    [[2, 3, 17, 15], 'nchw'], // 255 scalars: 128
    [[1, 2, 40, 40], 'nchw'], // 400 vec4s: 256
    [[1, 2, 512, 512], 'nchw'], // split: 32 chunks an instance, merged by a workgroup of 32
    [[1, 1, 601, 601], 'nchw'], // split: 177 chunks of scalars, a workgroup of 128, the last chunk partial
    [[1, 300, 300, 3], 'nhwc'], // split: 44 chunks of masked channel groups, two for some of 32 invocations
    [[1, 1, 1031, 1031], 'nchw'], // split: 520 chunks, merged in each normalizing workgroup, 2-3 an invocation
  ] as const)('shape %o %s, with scale and bias, matches the CPU reference', async (shape, layout) => {
    const channels = layout === 'nchw' ? shape[1] : shape[shape.length - 1];
    const options = { scale: randomUniform(channels, 6, -2, 2), bias: randomUniform(channels, 7, -1, 1) };
    const plan = await normalizeWithProfile(strategy, { isCpuAdapter: false }, shape, layout, options);
    expect(plan.windows[0].dispatches.some((d) => d.workgroupSize > 4)).toBe(true);
    if (strategy === 'split') expect(plan.windows[0].dispatches[1].kernel).toBe('combine-and-normalize');
  });

  it('in windows of a tensor larger than one storage binding', async () => {
    const plan = await normalizeWithProfile(
      strategy,
      { isCpuAdapter: false, maxStorageBufferBindingSize: 2048 },
      [3, 5, 7, 11],
      'nchw',
    );
    expect(plan.windows.length).toBeGreaterThan(1);
  });
});
