import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InstanceNorm, type Layout, type Strategy } from '../src';
import { type DeviceProfile, deviceProfile } from '../src/gpu/device-profile';
import { GpuBackend } from '../src/gpu/gpu-backend';
import type { GpuPlan, WorkgroupReduction } from '../src/gpu/planner';
import { referenceBackward, referenceInstanceNorm, referenceStats } from '../src/reference/float64-reference';
import { validateCall } from '../src/validation/validation';
import { expectClose } from './helpers/compare';
import { adapterFeatures, unlessMissing } from './helpers/features';
import { readBuffer, storageBuffer } from './helpers/gpu';
import { randomNormal, randomUniform } from './helpers/random';

// Every kernel that merges across a workgroup, with subgroup operations and with the tree in
// workgroup memory, under the tuning of a CPU adapter (workgroups of 4: one subgroup on
// SwiftShader) and of a real GPU (256 invocations: 64 subgroups of 4 on SwiftShader). The
// subgroup variants need the device's 'subgroups' feature: skipped, by name, where it is missing
// (Firefox's wgpu, compatibility mode).

let owner: InstanceNorm;
beforeAll(async () => {
  owner = await InstanceNorm.create({ fallback: 'error' });
});
afterAll(() => owner.destroy());

const REDUCTIONS: readonly WorkgroupReduction[] = ['subgroups', 'workgroup-tree'];
const TUNINGS = [
  ['a CPU adapter', { isCpuAdapter: true }],
  ['a real GPU', { isCpuAdapter: false }],
] as const;

function backendWith(reduction: WorkgroupReduction, tuning: Partial<DeviceProfile>, strategy?: Strategy): GpuBackend {
  const device = owner.device!;
  const profile = { ...deviceProfile(device), ...tuning, hasSubgroups: reduction === 'subgroups' };
  return new GpuBackend(device, strategy, profile);
}

function kernelsOf(plan: GpuPlan): string[] {
  return plan.windows.flatMap((w) => w.dispatches.map((d) => d.kernel));
}

/** The forward into a NaN-poisoned output, saving statistics where `withStats`; checked against the CPU. */
async function expectForwardMatches(backend: GpuBackend, shape: readonly number[], layout: Layout, withStats: boolean) {
  const device = owner.device!;
  const call = validateCall(shape, { layout });
  const count = call.geometry.elementCount;
  const x = randomNormal(count, 31, 1e3, 2);
  const scale = randomUniform(call.geometry.channels, 32, 0.5, 2);
  const input = storageBuffer(device, x);
  const output = storageBuffer(device, new Float32Array(count).fill(Number.NaN));
  const stats = storageBuffer(device, new Float32Array(2 * call.geometry.instanceCount).fill(Number.NaN));
  device.pushErrorScope('validation');
  const encoder = device.createCommandEncoder();
  const plan = backend.encode(encoder, { ...call, input, output, scale, saveStats: withStats ? stats : undefined });
  device.queue.submit([encoder.finish()]);
  expect((await device.popErrorScope())?.message).toBeUndefined();
  expectClose(await readBuffer(device, output, count), referenceInstanceNorm(x, shape, { layout, scale }), 1e-4);
  if (withStats) {
    const saved = await readBuffer(device, stats, 2 * call.geometry.instanceCount);
    const expected = referenceStats(x, shape, { layout });
    expectClose(saved.slice(0, call.geometry.instanceCount), expected.mean, 1e-3);
    expectClose(saved.slice(call.geometry.instanceCount), expected.invStd, 0, 1e-4);
  }
  for (const b of [input, output, stats]) b.destroy();
  return plan;
}

const hasSubgroups = (await adapterFeatures()).has('subgroups');

describe.each(REDUCTIONS)('workgroup reduction by %s', (reduction) => {
  const missing = reduction === 'subgroups' && !hasSubgroups;
  describe.skipIf(missing).each(TUNINGS)(unlessMissing('planned for %s', 'subgroups', missing), (_name, tuning) => {
    it.each([
      [[2, 3, 37, 41], 'nchw'], // odd: scalar elements, 1517 an instance
      [[2, 37, 41, 6], 'nhwc'], // masked channel groups of four lanes
      [[1, 64, 64, 8], 'nhwc'], // vec4 channel groups
    ] as const)('fused-per-workgroup, %o %s, matches the CPU reference', async (shape, layout) => {
      const backend = backendWith(reduction, tuning, 'fused-per-workgroup');
      const plan = await expectForwardMatches(backend, shape, layout, true);
      expect(plan.reduction).toBe(reduction);
      expect(kernelsOf(plan)).toEqual(['fused-per-workgroup']);
      backend.destroy();
    });

    it.each([
      [[1, 2, 512, 512], 'nchw', true], // 32 chunks an instance on a GPU: merged by a workgroup per instance
      [[1, 300, 300, 3], 'nhwc', false], // RGB quads over 11 chunks, merged by an invocation per instance
    ] as const)(
      'split, %o %s, with and without saving statistics, matches the CPU reference',
      async (shape, layout, manyChunks) => {
        const backend = backendWith(reduction, tuning, 'split');
        const plain = await expectForwardMatches(backend, shape, layout, false);
        expect(kernelsOf(plain)[0]).toBe('partial-moments');
        const saving = await expectForwardMatches(backend, shape, layout, true);
        if (!tuning.isCpuAdapter && manyChunks) {
          // A real GPU merges many chunks by a workgroup per instance, in the normalize pass or a pass of its own.
          expect(kernelsOf(plain)).toContain('combine-and-normalize');
          expect(kernelsOf(saving)).toContain('combine-moments-per-workgroup');
        }
        backend.destroy();
      },
    );
  });

  it.skipIf(missing)(
    unlessMissing(
      'backward as planned for a real GPU: partial sums per chunk merged by a workgroup per instance',
      'subgroups',
      missing,
    ),
    async () => {
      const device = owner.device!;
      const backend = backendWith(reduction, { isCpuAdapter: false });
      const shape = [1, 2, 512, 512];
      const call = validateCall(shape, {});
      const n = call.geometry.elementCount;
      const x = randomNormal(n, 41, -50, 3);
      const dy = randomNormal(n, 42);
      const scale = randomUniform(2, 43, 0.5, 2);
      const input = storageBuffer(device, x);
      const gradOutput = storageBuffer(device, dy);
      const gradInput = storageBuffer(device, new Float32Array(n).fill(Number.NaN));
      const gradAffine = storageBuffer(device, new Float32Array(4).fill(Number.NaN));
      device.pushErrorScope('validation');
      const encoder = device.createCommandEncoder();
      const plan = backend.encodeBackward(encoder, { ...call, input, gradOutput, gradInput, gradAffine, scale });
      device.queue.submit([encoder.finish()]);
      expect((await device.popErrorScope())?.message).toBeUndefined();
      expect(plan.reduction).toBe(reduction);
      expect(kernelsOf(plan)).toEqual(
        expect.arrayContaining(['partial-moments', 'backward-partials', 'backward-combine-per-workgroup']),
      );
      const expected = referenceBackward(dy, x, shape, { scale });
      expectClose(await readBuffer(device, gradInput, n), expected.gradInput, 1e-4, 1e-4);
      const affine = await readBuffer(device, gradAffine, 4);
      expectClose(affine.slice(0, 2), expected.gradScale as Float32Array, 1e-3, 1e-4);
      expectClose(affine.slice(2), expected.gradBias as Float32Array, 1e-3, 1e-4);
      for (const b of [input, gradOutput, gradInput, gradAffine]) b.destroy();
      backend.destroy();
    },
  );
});
