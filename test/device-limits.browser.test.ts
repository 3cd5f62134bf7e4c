import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InstanceNorm, instanceNormCpu } from '../src';
import { deviceProfile } from '../src/device-profile';
import { GpuBackend } from '../src/gpu-backend';
import { STRATEGIES } from '../src/planner';
import { tensorGeometry } from '../src/tensor-geometry';
import { expectClose } from './helpers/compare';
import { readBuffer, storageBuffer } from './helpers/gpu';
import { randomNormal } from './helpers/random';

let owner: InstanceNorm;
beforeAll(async () => {
  owner = await InstanceNorm.create({ fallback: 'error' });
});
afterAll(() => owner.destroy());

// maxComputeWorkgroupsPerDimension is at least 65535 on every device; a profile that says 100
// sends every kernel through its 2-D grid and the skipping of the excess workgroups.
// 8000 instances: more than 100 workgroups of 64 invocations, fewer than 100² workgroups.
describe.each(STRATEGIES)('strategy %s on a 2-D workgroup grid', (strategy) => {
  it.each([
    [[40, 200, 3, 3], 'nchw'],
    [[20, 3, 5, 400], 'nhwc'],
  ] as const)('shape %o %s matches the CPU reference', async (shape, layout) => {
    const device = owner.device!;
    const backend = new GpuBackend(device, strategy, { ...deviceProfile(device), maxWorkgroupsPerDimension: 100 });
    const geometry = tensorGeometry(shape, layout);
    const plan = backend.plan(geometry);
    expect(plan.dispatches.some((d) => d.workgroups[1] > 1)).toBe(true);
    const x = randomNormal(geometry.elementCount, 5, 100, 3);
    const input = storageBuffer(device, x);
    const output = storageBuffer(device, new Float32Array(x.length).fill(Number.NaN));
    device.pushErrorScope('validation');
    const encoder = device.createCommandEncoder();
    backend.encode(encoder, { geometry, epsilon: 1e-5, input, output });
    device.queue.submit([encoder.finish()]);
    expect(await device.popErrorScope()).toBeNull();
    expectClose(await readBuffer(device, output, x.length), instanceNormCpu(x, shape, { layout }), 1e-4);
    backend.destroy();
  });
});
