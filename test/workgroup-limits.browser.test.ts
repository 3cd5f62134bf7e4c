import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InstanceNorm, type Layout } from '../src';
import { deviceProfile } from '../src/gpu/device-profile';
import { GpuBackend } from '../src/gpu/gpu-backend';
import { type GpuPlan, STRATEGIES } from '../src/gpu/planner';
import { referenceBackward, referenceInstanceNorm } from '../src/reference/float64-reference';
import { validateCall } from '../src/validation/validation';
import { expectClose } from './helpers/compare';
import { readBuffer, storageBuffer } from './helpers/gpu';
import { randomNormal, randomUniform } from './helpers/random';

// A device whose workgroups hold at most 128 invocations (compatibility mode's default), planned
// as for a real GPU, whose preferred sizes (256 to normalize and reduce) exceed it: every
// dispatch must fit and the results must not change.

const LIMIT = 128;
let owner: InstanceNorm;
beforeAll(async () => {
  owner = await InstanceNorm.create({ fallback: 'error' });
});
afterAll(() => owner.destroy());

function limitedBackend(strategy?: (typeof STRATEGIES)[number]): GpuBackend {
  const device = owner.device!;
  return new GpuBackend(device, strategy, { ...deviceProfile(device), isCpuAdapter: false, maxInvocationsPerWorkgroup: LIMIT });
}

function largestWorkgroup(plan: GpuPlan): number {
  return Math.max(...plan.windows.flatMap((w) => w.dispatches.map((d) => d.workgroupSize)));
}

const SHAPES = [
  [[2, 3, 37, 41], 'nchw'], // scalar elements
  [[1, 2, 256, 256], 'nchw'], // vec4, 64 chunks an instance when split: merged by a workgroup per instance
  [[2, 37, 41, 6], 'nhwc'], // masked channel groups
] as const;

describe.each(STRATEGIES)(`strategy %s on a device of ${LIMIT} invocations per workgroup`, (strategy) => {
  it.each(SHAPES)('forward %o %s matches the reference, no dispatch above the limit', async (shape, layout: Layout) => {
    const device = owner.device!;
    const backend = limitedBackend(strategy);
    const call = validateCall(shape, { layout });
    const count = call.geometry.elementCount;
    const x = randomNormal(count, 11, 20, 3);
    const scale = randomUniform(call.geometry.channels, 12, 0.5, 2);
    const input = storageBuffer(device, x);
    const output = storageBuffer(device, new Float32Array(count).fill(Number.NaN));
    device.pushErrorScope('validation');
    const encoder = device.createCommandEncoder();
    const plan = backend.encode(encoder, { ...call, input, output, scale });
    device.queue.submit([encoder.finish()]);
    expect((await device.popErrorScope())?.message).toBeUndefined();
    expect(largestWorkgroup(plan)).toBeLessThanOrEqual(LIMIT);
    expectClose(await readBuffer(device, output, count), referenceInstanceNorm(x, shape, { layout, scale }), 1e-4);
    for (const b of [input, output]) b.destroy();
    backend.destroy();
  });
});

it(`backward, split into chunks, on a device of ${LIMIT} invocations per workgroup matches the reference`, async () => {
  const device = owner.device!;
  const backend = limitedBackend('split');
  const shape = [1, 2, 256, 256];
  const call = validateCall(shape, {});
  const n = call.geometry.elementCount;
  const x = randomNormal(n, 21, -5, 2);
  const dy = randomNormal(n, 22);
  const scale = randomUniform(2, 23, 0.5, 2);
  const input = storageBuffer(device, x);
  const gradOutput = storageBuffer(device, dy);
  const gradInput = storageBuffer(device, new Float32Array(n).fill(Number.NaN));
  const gradAffine = storageBuffer(device, new Float32Array(4).fill(Number.NaN));
  device.pushErrorScope('validation');
  const encoder = device.createCommandEncoder();
  const plan = backend.encodeBackward(encoder, { ...call, input, gradOutput, gradInput, gradAffine, scale });
  device.queue.submit([encoder.finish()]);
  expect((await device.popErrorScope())?.message).toBeUndefined();
  expect(largestWorkgroup(plan)).toBeLessThanOrEqual(LIMIT);
  const expected = referenceBackward(dy, x, shape, { scale });
  expectClose(await readBuffer(device, gradInput, n), expected.gradInput, 1e-4, 1e-4);
  const affine = await readBuffer(device, gradAffine, 4);
  expectClose(affine.slice(0, 2), expected.gradScale as Float32Array, 1e-3, 1e-4);
  expectClose(affine.slice(2), expected.gradBias as Float32Array, 1e-3, 1e-4);
  for (const b of [input, gradOutput, gradInput, gradAffine]) b.destroy();
  backend.destroy();
});
