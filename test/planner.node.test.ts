import { describe, expect, it } from 'vitest';
import type { DeviceProfile } from '../src/device-profile';
import { STRATEGIES, planInstanceNorm, workgroupGrid } from '../src/planner';
import { tensorGeometry } from '../src/tensor-geometry';

const gpu: DeviceProfile = {
  maxWorkgroupsPerDimension: 65535,
  maxInvocationsPerWorkgroup: 256,
  maxStorageBufferBindingSize: 2 ** 30,
  maxBufferSize: 2 ** 30,
  isCpuAdapter: false,
  hasSubgroups: false,
  adapterName: 'test gpu',
};
const swiftShader: DeviceProfile = { ...gpu, isCpuAdapter: true, adapterName: 'google / swiftshader' };

describe('planInstanceNorm', () => {
  it('normalizes many small instances in one dispatch, one invocation per instance', () => {
    const plan = planInstanceNorm(tensorGeometry([16, 64, 4, 4], 'nchw'), gpu);
    expect(plan.strategy).toBe('fused-per-thread');
    expect(plan.dispatches).toEqual([{ kernel: 'fused-per-thread', workgroupSize: 64, workgroups: [16, 1] }]);
    expect(plan.partialsBytes + plan.statsBytes).toBe(0);
  });

  it('gives medium instances one workgroup each, in one dispatch', () => {
    const plan = planInstanceNorm(tensorGeometry([1, 128, 64, 64], 'nchw'), gpu);
    expect(plan.strategy).toBe('fused-per-workgroup');
    expect(plan.dispatches).toEqual([{ kernel: 'fused-per-workgroup', workgroupSize: 256, workgroups: [128, 1] }]);
  });

  it('splits a few megapixel instances over many workgroups in three passes', () => {
    const plan = planInstanceNorm(tensorGeometry([1, 3, 1024, 1024], 'nchw'), gpu);
    expect(plan.strategy).toBe('split');
    expect(plan.dispatches.map((d) => d.kernel)).toEqual(['partial-moments', 'combine-moments', 'normalize']);
    expect(plan.chunkSize).toBe(4096);
    expect(plan.chunksPerInstance).toBe(256);
    expect(plan.dispatches[0].workgroups).toEqual([3 * 256, 1]);
    expect(plan.dispatches[2].workgroups).toEqual([(3 * 1024 * 1024) / 256, 1]);
    expect(plan.partialsBytes).toBe(3 * 256 * 16);
    expect(plan.statsBytes).toBe(3 * 16);
  });

  it('prefers fewer barriers on a CPU adapter: per-thread for larger instances, smaller workgroups', () => {
    const shape = tensorGeometry([1, 256, 16, 16], 'nchw');
    expect(planInstanceNorm(shape, gpu).strategy).toBe('fused-per-workgroup');
    expect(planInstanceNorm(shape, swiftShader).strategy).toBe('fused-per-thread');
    const split = planInstanceNorm(tensorGeometry([1, 1, 1024, 1024], 'nchw'), swiftShader);
    expect(split.dispatches[0].workgroupSize).toBe(64);
  });

  it('never asks for a workgroup larger than the device allows', () => {
    const small = { ...gpu, maxInvocationsPerWorkgroup: 128 };
    const plan = planInstanceNorm(tensorGeometry([1, 2, 512, 512], 'nchw'), small, 'split');
    expect(plan.dispatches[0].workgroupSize).toBe(128);
  });

  it('uses a 2-D grid beyond maxComputeWorkgroupsPerDimension', () => {
    const plan = planInstanceNorm(tensorGeometry([1, 1, 4096, 4096], 'nchw'), gpu, 'split');
    const normalize = plan.dispatches[2];
    expect(normalize.workgroups).toEqual([65535, 2]);
    expect(normalize.workgroups[0] * normalize.workgroups[1] * 256).toBeGreaterThanOrEqual(4096 * 4096);
  });

  it('honours a forced strategy for any shape', () => {
    for (const strategy of STRATEGIES) {
      expect(planInstanceNorm(tensorGeometry([2, 3, 5], 'nhwc'), gpu, strategy).strategy).toBe(strategy);
    }
  });
});

describe('workgroupGrid', () => {
  it('stays 1-D up to the limit and covers the count in 2-D beyond it', () => {
    expect(workgroupGrid(10, 16)).toEqual([10, 1]);
    expect(workgroupGrid(16, 16)).toEqual([16, 1]);
    expect(workgroupGrid(17, 16)).toEqual([16, 2]);
  });

  it('refuses a count beyond the square of the limit, naming the limit', () => {
    expect(() => workgroupGrid(16 * 16 + 1, 16)).toThrow(/257 workgroups, more than maxComputeWorkgroupsPerDimension² = 256/);
  });
});
