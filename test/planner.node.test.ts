import { describe, expect, it } from 'vitest';
import { tensorGeometry } from '../src/core/tensor-geometry';
import { NO_EPILOGUE, pipelineKey } from '../src/gpu/pipeline-cache';
import {
  bindingWindows,
  type GpuPlan,
  planBackward,
  planGroupNorm,
  planInstanceNorm,
  planInstanceStats,
  planSavingStats,
  planWithRunningStats,
  STRATEGIES,
  type Strategy,
  workgroupGrid,
  workgroupLimit,
} from '../src/gpu/planner';
import { kernelSource } from '../src/gpu/shader-sources';
import { COMPATIBILITY_PROFILE, CPU_ADAPTER_PROFILE, GPU_PROFILE } from './helpers/profiles';

const gpu = GPU_PROFILE;
const swiftShader = CPU_ADAPTER_PROFILE;

describe('planInstanceNorm', () => {
  it('normalizes many small instances in one dispatch, one invocation per instance', () => {
    const plan = planInstanceNorm(tensorGeometry([16, 64, 4, 4], 'nchw'), gpu);
    expect(plan.strategy).toBe('fused-per-thread');
    expect(plan.windows[0].dispatches).toEqual([{ kernel: 'fused-per-thread', workgroupSize: 64, workgroups: [16, 1] }]);
    expect(plan.partialsBytes + plan.statsBytes).toBe(0);
  });

  it('gives medium instances one workgroup each, in one dispatch', () => {
    const plan = planInstanceNorm(tensorGeometry([1, 128, 64, 64], 'nchw'), gpu);
    expect(plan.strategy).toBe('fused-per-workgroup');
    expect(plan.windows[0].dispatches).toEqual([{ kernel: 'fused-per-workgroup', workgroupSize: 256, workgroups: [128, 1] }]);
  });

  it('splits a few megapixel instances over many workgroups: partials, then each chunk merges them and normalizes', () => {
    const geometry = tensorGeometry([1, 3, 1024, 1024], 'nchw');
    const plan = planInstanceNorm(geometry, gpu);
    expect(plan.strategy).toBe('split');
    expect(plan.elements).toBe('vec4-position'); // nchw, 1024² a multiple of 4: vec4 loads
    expect(plan.chunkSize).toBe(2048); // vec4 Elements: 8192 values
    expect(plan.chunksPerInstance).toBe(128);
    // On a GPU the merge of the partials runs in each normalizing workgroup: one dispatch fewer.
    expect(plan.windows[0].dispatches).toEqual([
      { kernel: 'partial-moments', workgroupSize: 256, workgroups: [3 * 128, 1] },
      { kernel: 'combine-and-normalize', workgroupSize: 256, workgroups: [3 * 128, 1] },
    ]);
    expect(plan.partialsBytes).toBe(3 * 128 * 16);
    expect(plan.statsBytes).toBe(0); // no statistics entries written
    // Three passes where a derived plan needs the statistics entries: 128 chunks merged by a workgroup of 128.
    const separate = planInstanceNorm(geometry, gpu, 'split', { separateCombine: true });
    expect(separate.windows[0].dispatches).toEqual([
      { kernel: 'partial-moments', workgroupSize: 256, workgroups: [3 * 128, 1] },
      { kernel: 'combine-moments-per-workgroup', workgroupSize: 128, workgroups: [3, 1] },
      { kernel: 'normalize', workgroupSize: 256, workgroups: [3 * 128, 1] },
    ]);
    expect(separate.statsBytes).toBe(3 * 16);
  });

  it('keeps three passes on a CPU adapter, one invocation per instance merging the chunks', () => {
    const plan = planInstanceNorm(tensorGeometry([1, 3, 1024, 1024], 'nchw'), swiftShader, 'split');
    expect(plan.windows[0].dispatches.map((d) => d.kernel)).toEqual(['partial-moments', 'combine-moments', 'normalize']);
  });

  it('gives a small instance a workgroup of about one element per invocation on a GPU, 32 at the least', () => {
    const size = (shape: number[]) =>
      planInstanceNorm(tensorGeometry(shape, 'nchw'), gpu, 'fused-per-workgroup').windows[0].dispatches[0].workgroupSize;
    expect(size([16, 256, 16, 16])).toBe(64); // 64 vec4s an instance
    expect(size([2, 3, 10, 10])).toBe(32); // 25 vec4s
    expect(size([1, 2, 100, 100])).toBe(256); // 2500 vec4s: the full reduction workgroup
    expect(
      planInstanceNorm(tensorGeometry([16, 256, 16, 16], 'nchw'), swiftShader, 'fused-per-workgroup').windows[0].dispatches[0]
        .workgroupSize,
    ).toBe(4);
  });

  it('splits an instance of more than 16384 values when too few instances fill a GPU, counting the channels of an nhwc group', () => {
    expect(planInstanceNorm(tensorGeometry([1, 64, 128, 128], 'nchw'), gpu).strategy).toBe('fused-per-workgroup');
    expect(planInstanceNorm(tensorGeometry([1, 128, 128, 64], 'nhwc'), gpu).strategy).toBe('split'); // 16 groups of 4 × 16384
    expect(planInstanceNorm(tensorGeometry([16, 16, 16, 64], 'nhwc'), gpu).strategy).toBe('fused-per-workgroup'); // 256 groups
  });

  it('prefers fewer barriers on a CPU adapter: per-thread for larger instances, smaller workgroups', () => {
    const shape = tensorGeometry([1, 256, 16, 16], 'nchw');
    expect(planInstanceNorm(shape, gpu).strategy).toBe('fused-per-workgroup');
    expect(planInstanceNorm(shape, swiftShader).strategy).toBe('fused-per-thread');
    const split = planInstanceNorm(tensorGeometry([1, 1, 1024, 1024], 'nchw'), swiftShader);
    expect(split.windows[0].dispatches[0].workgroupSize).toBe(4);
  });

  it('never asks for a workgroup larger than the device allows', () => {
    const small = { ...gpu, maxInvocationsPerWorkgroup: 128 };
    const plan = planInstanceNorm(tensorGeometry([1, 2, 512, 512], 'nchw'), small, 'split');
    expect(plan.windows[0].dispatches[0].workgroupSize).toBe(128);
  });

  it('uses a 2-D grid beyond maxComputeWorkgroupsPerDimension', () => {
    // 2048 chunks of 2048 vec4 Elements
    const plan = planInstanceNorm(
      tensorGeometry([1, 1, 4096, 4096], 'nchw'),
      { ...gpu, maxWorkgroupsPerDimension: 1000, maxStorageBufferBindingSize: 2 ** 30 },
      'split',
    );
    const normalize = plan.windows[0].dispatches[1];
    expect(normalize.kernel).toBe('combine-and-normalize');
    expect(normalize.workgroups).toEqual([1000, 3]);
  });

  it('loads vec4 where aligned, and follows nhwc channel groups', () => {
    const kind = (shape: number[], layout: 'nchw' | 'nhwc') => planInstanceNorm(tensorGeometry(shape, layout), gpu).elements;
    expect(kind([2, 3, 4, 6], 'nchw')).toBe('vec4-position');
    expect(kind([2, 3, 5, 7], 'nchw')).toBe('scalar');
    expect(kind([2, 5, 7, 8], 'nhwc')).toBe('vec4-channel');
    expect(kind([2, 5, 7, 3], 'nhwc')).toBe('masked-channel');
    expect(kind([2, 6, 10, 3], 'nhwc')).toBe('rgb-quad'); // C = 3, S a multiple of 4: three vec4s per four positions
    // On a CPU adapter, nchw sizes a multiple of 8 take two vec4s per step (not for the backward).
    const nchw64 = tensorGeometry([2, 3, 8, 8], 'nchw');
    expect(planInstanceNorm(nchw64, swiftShader).elements).toBe('vec4-pair-position');
    expect(planInstanceNorm(nchw64, gpu).elements).toBe('vec4-position');
    expect(planInstanceNorm(tensorGeometry([2, 3, 4, 3], 'nchw'), swiftShader).elements).toBe('vec4-position');
    expect(planBackward(nchw64, swiftShader, 'saved').elements).toBe('vec4-position');
    // The same for halves.
    const half64 = tensorGeometry([2, 3, 8, 8], 'nchw', 'float16');
    expect(planInstanceNorm(half64, swiftShader).elements).toBe('half4-pair-position');
    expect(planInstanceNorm(half64, gpu).elements).toBe('half4-position');
    expect(planBackward(half64, swiftShader, 'saved').elements).toBe('half4-position');
    expect(kind([2, 6, 10, 6], 'nhwc')).toBe('masked-channel');
    expect(planInstanceNorm(tensorGeometry([2, 6, 10, 3], 'nhwc', 'float16'), gpu).elements).toBe('half-masked-channel');
    // The backward's kernels take one position at a time.
    const rgb = tensorGeometry([2, 6, 10, 3], 'nhwc');
    expect(planBackward(rgb, gpu, 'saved').elements).toBe('masked-channel');
    expect(planBackward(tensorGeometry([64, 2, 2, 3], 'nhwc'), swiftShader, 'saved').elements).toBe('masked-channel'); // per-thread
    // nhwc kernel instances are channel groups: 2 images × ceil(6 / 4) groups
    const plan = planInstanceNorm(tensorGeometry([2, 9, 9, 6], 'nhwc'), gpu);
    expect(plan.instancesPerImage).toBe(2);
    expect(plan.windows[0].instanceCount).toBe(4);
  });

  it('honours a forced strategy for any shape', () => {
    for (const strategy of STRATEGIES) {
      expect(planInstanceNorm(tensorGeometry([2, 3, 5], 'nhwc'), gpu, strategy).strategy).toBe(strategy);
    }
  });
});

describe('the split plan by rows (nhwc on a CPU adapter)', () => {
  const rowsOf = (p: GpuPlan) => p.windows.map((w) => w.dispatches.map((d) => `${d.kernel}@${d.workgroupSize}`));

  it('reads chunks of 1024 positions, a workgroup per 4 channel groups: each 64 bytes of a row read by one workgroup', () => {
    // [1, 64, 64, 320]: 80 channel groups of 4 a position; 4 chunks an image, 20 slices a chunk.
    const p = planInstanceNorm(tensorGeometry([1, 64, 64, 320], 'nhwc'), swiftShader);
    expect([p.strategy, p.elements, p.chunkSize, p.chunksPerInstance]).toEqual(['split', 'vec4-channel', 1024, 4]);
    expect(p.windows[0].dispatches).toEqual([
      { kernel: 'partial-moments-rows', workgroupSize: 4, workgroups: [4 * 20, 1] },
      { kernel: 'combine-moments', workgroupSize: 64, workgroups: [2, 1] }, // 80 channel groups
      { kernel: 'normalize-rows', workgroupSize: 4, workgroups: [4 * 20, 1] },
    ]);
    expect(p.partialsBytes).toBe(80 * 4 * 4 * 16); // per channel: a partial per chunk
    expect(p.statsBytes).toBe(80 * 4 * 16);
    // Many small instances keep one invocation each (already reading rows in order, one dispatch).
    expect(planInstanceNorm(tensorGeometry([2, 64, 64, 320], 'nhwc'), swiftShader).strategy).toBe('fused-per-thread');
    expect(planGroupNorm(tensorGeometry([16, 8, 8, 256], 'nhwc'), swiftShader, 8).strategy).toBe('fused-per-thread');
    // A last partial chunk, and a last slice of fewer channel groups.
    const odd = planInstanceNorm(tensorGeometry([1, 45, 47, 24], 'nhwc'), swiftShader, 'split');
    expect([odd.chunkSize, odd.chunksPerInstance]).toEqual([1024, 3]);
    expect(odd.windows[0].dispatches[0].workgroups).toEqual([3 * 2, 1]); // 6 channel groups: 2 slices
  });

  it('is the default from 65536 values and 32 channels, a forced split else; fused plans stay as forced; a GPU, nchw, C % 4 ≠ 0 and C < 16 never read by rows', () => {
    expect(planInstanceNorm(tensorGeometry([1, 64, 64, 32], 'nhwc'), swiftShader).windows[0].dispatches[0].kernel).toBe(
      'partial-moments-rows',
    );
    expect(planInstanceNorm(tensorGeometry([1, 128, 128, 16], 'nhwc'), swiftShader).strategy).toBe('fused-per-workgroup');
    const small = planInstanceNorm(tensorGeometry([2, 8, 8, 16], 'nhwc'), swiftShader);
    expect(small.strategy).not.toBe('split');
    expect(rowsOf(planInstanceNorm(tensorGeometry([2, 8, 8, 16], 'nhwc'), swiftShader, 'split'))[0][0]).toBe(
      'partial-moments-rows@4',
    );
    for (const strategy of ['fused-per-thread', 'fused-per-workgroup'] as const) {
      expect(planInstanceNorm(tensorGeometry([1, 64, 64, 16], 'nhwc'), swiftShader, strategy).strategy).toBe(strategy);
    }
    const kernels = (shape: number[], layout: 'nchw' | 'nhwc', profile = swiftShader) =>
      planInstanceNorm(tensorGeometry(shape, layout), profile, 'split').windows[0].dispatches.map((d) => d.kernel);
    expect(kernels([1, 64, 64, 16], 'nhwc', gpu)).not.toContain('partial-moments-rows');
    expect(kernels([1, 16, 64, 64], 'nchw')).not.toContain('partial-moments-rows');
    expect(kernels([1, 64, 64, 6], 'nhwc')).not.toContain('partial-moments-rows');
    expect(kernels([1, 64, 64, 12], 'nhwc')).not.toContain('partial-moments-rows'); // 3 channel groups: a lane idle
  });

  it('serves the plans built on the split plan: statistics, saved statistics, running statistics; not the backward', () => {
    const g = tensorGeometry([2, 40, 40, 16], 'nhwc');
    expect(rowsOf(planInstanceStats(g, swiftShader))).toEqual([
      ['partial-moments-rows@4', 'combine-moments@64', 'export-stats@64'],
    ]);
    expect(rowsOf(planSavingStats(g, swiftShader))).toEqual([
      ['partial-moments-rows@4', 'combine-moments@64', 'export-stats@64', 'normalize-rows@4'],
    ]);
    expect(rowsOf(planWithRunningStats(g, swiftShader, 'update'))).toEqual([
      ['partial-moments-rows@4', 'combine-moments@64', 'update-running-stats@64', 'normalize-rows@4'],
    ]);
    expect(rowsOf(planWithRunningStats(g, swiftShader, 'normalize-with'))).toEqual([
      ['load-running-stats@64', 'normalize-rows@4'],
    ]);
    expect(rowsOf(planBackward(g, swiftShader, 'recompute')).flat()).not.toContain('partial-moments-rows@4');
  });
});

describe('workgroup reductions', () => {
  it('merge by subgroup operations where the device has subgroups, by the tree in workgroup memory elsewhere', () => {
    const geometry = tensorGeometry([1, 64, 128, 128], 'nchw');
    for (const profile of [gpu, swiftShader]) {
      expect(planInstanceNorm(geometry, profile).reduction).toBe('workgroup-tree');
      expect(planInstanceNorm(geometry, { ...profile, hasSubgroups: true }).reduction).toBe('subgroups');
    }
    // The plans derived from the instance norm plan keep its reduction.
    const subgroups = { ...gpu, hasSubgroups: true };
    expect(planBackward(geometry, subgroups, 'saved').reduction).toBe('subgroups');
    expect(planGroupNorm(geometry, subgroups, 4).reduction).toBe('subgroups');
    expect(planInstanceStats(geometry, subgroups).reduction).toBe('subgroups');
  });

  it('give a subgroup variant to the kernels that merge across a workgroup, and to no other', () => {
    expect(kernelSource('fused-per-workgroup', 'vec4-position', 'subgroups')).toMatch(/^enable subgroups;\n[\s\S]*subgroupAdd/);
    expect(kernelSource('fused-per-workgroup', 'vec4-position', 'workgroup-tree')).not.toMatch(/subgroup/);
    expect(kernelSource('backward-partials', 'scalar', 'subgroups')).toMatch(/^enable subgroups;\n[\s\S]*subgroupAdd/);
    expect(kernelSource('fused-per-thread', 'scalar', 'subgroups')).toBe(
      kernelSource('fused-per-thread', 'scalar', 'workgroup-tree'),
    );
    expect(pipelineKey('partial-moments', 'scalar', 'subgroups', 256)).toBe('partial-moments/scalar/subgroups@256/none/none');
    expect(pipelineKey('normalize', 'scalar', 'subgroups', 256)).toBe(pipelineKey('normalize', 'scalar', 'workgroup-tree', 256));
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

describe('bindingWindows', () => {
  const small = { ...GPU_PROFILE, maxStorageBufferBindingSize: 4096, minStorageBufferOffsetAlignment: 256 };

  it('binds the whole tensor when it fits one binding', () => {
    expect(bindingWindows(tensorGeometry([2, 3, 8, 8], 'nchw'), small, 3)).toEqual([
      { firstInstance: 0, instanceCount: 6, byteOffset: 0, byteLength: 1536, elementOffset: 0 },
    ]);
  });

  it('splits nchw into runs of whole instances with aligned binding offsets', () => {
    // 10 instances of 110 floats (440 bytes): 4400 bytes; (4096 - 252) / 440 = 8 instances per window.
    // The second starts at byte 3520 = 3328 + 192: binding offset 3328, 48 floats in.
    const windows = bindingWindows(tensorGeometry([2, 5, 11, 10], 'nchw'), small, 5);
    expect(windows).toEqual([
      { firstInstance: 0, instanceCount: 8, byteOffset: 0, byteLength: 3520, elementOffset: 0 },
      { firstInstance: 8, instanceCount: 2, byteOffset: 3328, byteLength: 192 + 880, elementOffset: 48 },
    ]);
    for (const w of windows) {
      expect(w.byteOffset % 256).toBe(0);
      expect(w.byteLength).toBeLessThanOrEqual(4096);
    }
  });

  it('splits nhwc into runs of whole images', () => {
    // images of 3 channels × 50 positions = 600 bytes: 6 per window; one channel group per image
    const windows = bindingWindows(tensorGeometry([8, 5, 10, 3], 'nhwc'), small, 1);
    expect(windows.map((w) => [w.firstInstance, w.instanceCount])).toEqual([
      [0, 6],
      [6, 2],
    ]);
    expect(windows[1]).toMatchObject({ byteOffset: 3584, elementOffset: 4, byteLength: 16 + 2 * 600 });
  });

  it('refuses an instance larger than one binding, naming the limit and the sizes', () => {
    expect(() => bindingWindows(tensorGeometry([1, 2, 40, 40], 'nchw'), small, 2)).toThrow(
      /shape \[1, 2, 40, 40\] needs 12800 bytes and one instance alone needs 6400 bytes, more than this device's maxStorageBufferBindingSize of 4096/,
    );
    expect(() => bindingWindows(tensorGeometry([2, 20, 20, 3], 'nhwc'), small, 1)).toThrow(
      /one image \(the 3 interleaved instances of nhwc\) alone needs 4800 bytes/,
    );
  });
});

describe('the split plan merges its chunks', () => {
  const combine = (shape: number[], profile = gpu) =>
    planInstanceNorm(tensorGeometry(shape, 'nchw'), profile, 'split', { separateCombine: true }).windows[0].dispatches[1];

  it('by one invocation per instance below 16 chunks an instance', () => {
    expect(combine([8, 2, 200, 200])).toEqual({ kernel: 'combine-moments', workgroupSize: 64, workgroups: [1, 1] }); // 5 chunks
  });

  it('by a workgroup per instance from 16 chunks, about one chunk an invocation, at most 256', () => {
    expect(combine([1, 2, 256, 512]).workgroupSize).toBe(32); // 16 chunks of 2048 vec4s: 32 at the least
    expect(combine([1, 1, 2048, 2048])).toEqual({
      kernel: 'combine-moments-per-workgroup',
      workgroupSize: 256,
      workgroups: [1, 1],
    });
  });

  it('always by one invocation per instance on a CPU adapter', () => {
    expect(combine([1, 1, 2048, 2048], swiftShader).kernel).toBe('combine-moments');
  });

  it('and the plans derived from it keep that, or replace it by one invocation per instance', () => {
    const geometry = tensorGeometry([1, 2, 512, 512], 'nchw'); // 32 chunks an instance
    const kernels = (plan: GpuPlan) => plan.windows[0].dispatches.map((d) => `${d.kernel}@${d.workgroupSize}`);
    expect(kernels(planWithRunningStats(geometry, gpu, 'update'))).toEqual([
      'partial-moments@256',
      'combine-moments-per-workgroup@32',
      'update-running-stats@64',
      'normalize@256',
    ]);
    expect(kernels(planWithRunningStats(geometry, gpu, 'normalize-with'))).toEqual(['load-running-stats@64', 'normalize@256']);
    expect(kernels(planBackward(geometry, gpu, 'saved'))).toEqual([
      'load-saved-stats@64',
      'backward-partials@256',
      'backward-combine-per-workgroup@32', // the gradient sums merged as the moments were
      'backward-apply@256',
      'backward-affine@64',
    ]);
    expect(kernels(planGroupNorm(geometry, gpu, 2))[1]).toBe('combine-group-moments@64');
  });
});

describe('planGroupNorm', () => {
  const plan = (shape: number[], groups: number, profile = gpu, layout: 'nchw' | 'nhwc' = 'nchw', strategy?: Strategy) => {
    const geometry = tensorGeometry(shape, layout);
    return planGroupNorm(geometry, profile, geometry.channels / groups, strategy);
  };
  const dispatches = (p: GpuPlan) => p.windows.map((w) => w.dispatches.map((d) => `${d.kernel}@${d.workgroupSize}`));

  it('gives each group of a diffusion U-Net one workgroup where one suffices, in one dispatch', () => {
    // [2, 1280, 8, 8], G = 32: 64 groups of 40 channels, 2560 values each.
    const small = plan([2, 1280, 8, 8], 32);
    expect(small.strategy).toBe('fused-per-workgroup');
    expect(small.windows[0].dispatches).toEqual([{ kernel: 'fused-per-workgroup', workgroupSize: 32, workgroups: [64, 1] }]);
    expect(small.partialsBytes + small.statsBytes).toBe(0);
    // The fused kernels compile their group loop only for such plans (the GROUPED override).
    expect(small.grouped).toBe(true);
    expect(planInstanceNorm(tensorGeometry([2, 1280, 8, 8], 'nchw'), gpu).grouped).toBe(false);
    expect(plan([2, 320, 64, 64], 32).grouped).toBe(false); // split: per-channel passes
    expect(pipelineKey('fused-per-workgroup', 'vec4-position', 'workgroup-tree', 32, { ...NO_EPILOGUE, grouped: true })).toBe(
      'fused-per-workgroup/vec4-position@32/none/none/grouped',
    );
    expect(plan([2, 1280, 16, 16], 32).strategy).toBe('fused-per-workgroup'); // 10240 values a group
  });

  it('splits a few large groups over the device on a GPU, not on a CPU adapter', () => {
    // 64 groups of 40960 (20480) values: too few workgroups to fill a GPU one per group.
    for (const shape of [
      [2, 320, 64, 64],
      [2, 640, 32, 32],
    ]) {
      expect(dispatches(plan(shape, 32))).toEqual([['partial-moments@256', 'combine-group-moments@64', 'normalize@256']]);
      expect(plan(shape, 32, swiftShader).strategy).toBe('fused-per-workgroup');
    }
    // The VAE decoder's 32 groups of a million values: split on a GPU, a workgroup each on SwiftShader.
    expect(plan([1, 128, 512, 512], 32).strategy).toBe('split');
    expect(plan([1, 128, 512, 512], 32, swiftShader).strategy).toBe('fused-per-workgroup');
  });

  it('takes one invocation per group for many small groups', () => {
    const p = plan([16, 256, 8, 8], 32, swiftShader); // 512 groups of 8 channels of 64 positions
    expect(p.strategy).toBe('fused-per-thread');
    expect(p.windows[0].dispatches).toEqual([{ kernel: 'fused-per-thread', workgroupSize: 64, workgroups: [8, 1] }]);
  });

  it('in nhwc, on a GPU fuses groups of whole channel groups of four and splits the others; a CPU adapter reads by rows', () => {
    // C = 256, G = 32: a group is two channel groups of four, a unit of the fused kernels.
    const whole = plan([2, 16, 16, 256], 32, gpu, 'nhwc');
    expect(whole.elements).toBe('vec4-channel');
    expect(whole.strategy).toBe('fused-per-workgroup');
    expect(whole.windows[0].dispatches[0].workgroups).toEqual([64, 1]);
    // C = 320, G = 32: groups of 10 channels cut across channel groups of four. On a GPU the
    // split plan, whatever is forced.
    for (const strategy of [undefined, ...STRATEGIES]) {
      expect(plan([2, 16, 16, 320], 32, gpu, 'nhwc', strategy).strategy).toBe('split');
    }
    // On a CPU adapter (C a multiple of 4) groups of whole channel groups stay fused; the others
    // take the split plan by rows, its partials merged per group; a forced fused plan takes a
    // channel per kernel instance, strided.
    expect(plan([2, 16, 16, 256], 32, swiftShader, 'nhwc').strategy).toBe('fused-per-workgroup');
    for (const [shape, strategy] of [
      [[2, 16, 16, 320], undefined],
      [[2, 16, 16, 320], 'split'],
      [[2, 16, 16, 256], 'split'],
    ] as const) {
      const rows = plan([...shape], 32, swiftShader, 'nhwc', strategy);
      expect([rows.strategy, rows.elements]).toEqual(['split', 'vec4-channel']);
      expect(rows.windows[0].dispatches.map((d) => d.kernel)).toEqual([
        'partial-moments-rows',
        'combine-group-moments',
        'normalize-rows',
      ]);
    }
    expect(plan([2, 16, 16, 256], 32, swiftShader, 'nhwc', 'fused-per-workgroup').elements).toBe('vec4-channel');
    const strided = plan([2, 16, 16, 320], 32, swiftShader, 'nhwc', 'fused-per-workgroup');
    expect([strided.strategy, strided.elements]).toEqual(['fused-per-workgroup', 'scalar']);
    expect(strided.windows[0].dispatches[0].workgroups).toEqual([64, 1]);
    // C = 6 (masked channel groups), groups of 2: split on a GPU, a channel per kernel instance on a CPU adapter.
    expect(plan([2, 8, 8, 6], 3, gpu, 'nhwc').strategy).toBe('split');
    expect(plan([2, 8, 8, 6], 3, swiftShader, 'nhwc').elements).toBe('scalar');
    expect(plan([2, 8, 8, 6], 3, swiftShader, 'nhwc', 'fused-per-thread').strategy).toBe('fused-per-thread');
  });

  it('takes a forced strategy, with its dispatches counting groups', () => {
    for (const strategy of STRATEGIES) {
      const p = plan([2, 1280, 8, 8], 32, gpu, 'nchw', strategy);
      expect(p.strategy).toBe(strategy);
      const [first] = p.windows[0].dispatches;
      if (strategy === 'fused-per-thread') expect(first.workgroups).toEqual([1, 1]); // 64 groups, 64 an workgroup
      if (strategy === 'split') expect(first.workgroups).toEqual([2560, 1]); // per channel
    }
  });

  it('keeps whole groups in each storage window', () => {
    const small = { ...gpu, maxStorageBufferBindingSize: 4096, minStorageBufferOffsetAlignment: 256 };
    const p = plan([2, 12, 8, 8], 4, small, 'nchw', 'fused-per-workgroup'); // groups of 3 channels, 768 bytes
    expect(p.windows.length).toBeGreaterThan(1);
    for (const w of p.windows) {
      expect(w.instanceCount % 3).toBe(0);
      expect(w.dispatches[0].workgroups[0]).toBe(w.instanceCount / 3);
    }
  });
});

describe('plans derived from the split plan', () => {
  const geometry = tensorGeometry([2, 10, 10, 6], 'nhwc'); // C = 6: two masked channel groups
  const kernels = (plan: GpuPlan) => plan.windows[0].dispatches.map((d) => d.kernel);

  it('stats: the reductions and export-stats, no normalize', () => {
    expect(kernels(planInstanceStats(geometry, GPU_PROFILE))).toEqual(['partial-moments', 'combine-moments', 'export-stats']);
  });

  it('training with running statistics: update-running-stats after combine, one invocation per channel', () => {
    const plan = planWithRunningStats(geometry, GPU_PROFILE, 'update');
    expect(kernels(plan)).toEqual(['partial-moments', 'combine-moments', 'update-running-stats', 'normalize']);
    expect(plan.windows[0].dispatches[2].workgroups).toEqual([1, 1]); // 6 channels, 64 per workgroup
  });

  it('eval with running statistics: no reduction, no partials', () => {
    const plan = planWithRunningStats(geometry, GPU_PROFILE, 'normalize-with');
    expect(kernels(plan)).toEqual(['load-running-stats', 'normalize']);
    expect(plan.partialsBytes).toBe(0);
    expect(plan.statsBytes).toBe(2 * 2 * 4 * 16); // 2 images × 2 channel groups × 4 lanes
  });
});

describe('the backward plan', () => {
  const geometry = tensorGeometry([2, 6, 10, 10], 'nchw');
  const kernels = (plan: GpuPlan) => plan.windows[0].dispatches.map((d) => d.kernel);
  const backward = ['backward-partials', 'backward-combine', 'backward-apply', 'backward-affine'];

  it('reduces the statistics again, loads the saved ones, or the running ones (eval)', () => {
    expect(kernels(planBackward(geometry, GPU_PROFILE, 'recompute'))).toEqual([
      'partial-moments',
      'combine-moments',
      ...backward,
    ]);
    expect(kernels(planBackward(geometry, GPU_PROFILE, 'saved'))).toEqual(['load-saved-stats', ...backward]);
    expect(kernels(planBackward(geometry, GPU_PROFILE, 'running'))).toEqual(['load-running-stats', ...backward]);
  });

  it('keeps gradient sums after the statistics entries: twice the statistics scratch', () => {
    const split = planInstanceNorm(geometry, GPU_PROFILE, 'split', { separateCombine: true });
    expect(planBackward(geometry, GPU_PROFILE, 'saved').statsBytes).toBe(2 * split.statsBytes);
  });

  it('a forward saving its statistics exports them before it normalizes', () => {
    expect(kernels(planSavingStats(geometry, GPU_PROFILE))).toEqual([
      'partial-moments',
      'combine-moments',
      'export-stats',
      'normalize',
    ]);
    expect(kernels(planSavingStats(geometry, GPU_PROFILE, 'update'))).toEqual([
      'partial-moments',
      'combine-moments',
      'update-running-stats',
      'export-stats',
      'normalize',
    ]);
  });
});

describe('the backward plan for many small instances', () => {
  it('takes one invocation per instance where the forward does', () => {
    const geometry = tensorGeometry([16, 64, 8, 8], 'nchw');
    expect(planInstanceNorm(geometry, GPU_PROFILE).strategy).toBe('fused-per-thread');
    const kernels = (source: 'recompute' | 'saved') =>
      planBackward(geometry, GPU_PROFILE, source).windows[0].dispatches.map((d) => d.kernel);
    expect(kernels('recompute')).toEqual(['backward-per-thread', 'backward-affine']);
    expect(kernels('saved')).toEqual(['load-saved-stats', 'backward-per-thread', 'backward-affine']);
  });
});

describe('every workgroup size within the device limit', () => {
  // One shape per element kind, float32 and float16, small and large enough to split into many chunks.
  const SHAPES: readonly (readonly [number[], 'nchw' | 'nhwc', 'float32' | 'float16'])[] = [
    [[2, 3, 37, 41], 'nchw', 'float32'], // scalar
    [[1, 4, 64, 64], 'nchw', 'float32'], // vec4-position (vec4-pair-position on a CPU adapter)
    [[1, 2, 1024, 1024], 'nchw', 'float32'], // many chunks: a workgroup per instance merges them
    [[2, 16, 16, 8], 'nhwc', 'float32'], // vec4-channel
    [[2, 37, 41, 6], 'nhwc', 'float32'], // masked-channel
    [[1, 512, 512, 3], 'nhwc', 'float32'], // rgb-quad
    [[2, 3, 37, 41], 'nchw', 'float16'], // half-scalar
    [[1, 2, 1024, 1024], 'nchw', 'float16'], // half4-position (half4-pair-position on a CPU adapter)
    [[2, 3, 6, 6], 'nchw', 'float16'], // half4-position everywhere (36 is not a multiple of 8)
    [[2, 16, 16, 8], 'nhwc', 'float16'], // half4-channel
    [[2, 37, 41, 6], 'nhwc', 'float16'], // half-masked-channel
  ];
  const PROFILES = [
    ['a compatibility-mode device (128 invocations)', COMPATIBILITY_PROFILE],
    ['a CPU adapter limited to 128 invocations', { ...CPU_ADAPTER_PROFILE, maxInvocationsPerWorkgroup: 128 }],
    ['a device of 96 invocations (not a power of two)', { ...GPU_PROFILE, maxInvocationsPerWorkgroup: 96 }],
    ['a device of 16 invocations', { ...GPU_PROFILE, maxInvocationsPerWorkgroup: 16 }],
  ] as const;

  function everyPlan(geometry: ReturnType<typeof tensorGeometry>, profile: typeof GPU_PROFILE): GpuPlan[] {
    const plans: GpuPlan[] = [planInstanceNorm(geometry, profile)];
    for (const strategy of STRATEGIES) {
      plans.push(planInstanceNorm(geometry, profile, strategy));
      plans.push(planBackward(geometry, profile, 'recompute', strategy));
      plans.push(planBackward(geometry, profile, 'saved', strategy));
      plans.push(planBackward(geometry, profile, 'running', strategy));
    }
    plans.push(planSavingStats(geometry, profile), planSavingStats(geometry, profile, 'update'));
    plans.push(planWithRunningStats(geometry, profile, 'update'), planWithRunningStats(geometry, profile, 'normalize-with'));
    plans.push(planInstanceStats(geometry, profile));
    if (geometry.layout === 'nchw' && geometry.channels % 2 === 0) {
      plans.push(planGroupNorm(geometry, profile, 2), planInstanceStats(geometry, profile, 2));
      for (const strategy of STRATEGIES) plans.push(planGroupNorm(geometry, profile, 2, strategy));
    }
    return plans;
  }

  it.each(PROFILES)('on %s, for every strategy, element kind and derived plan', (_name, profile) => {
    const limit = workgroupLimit(profile);
    expect(limit).toBeLessThanOrEqual(profile.maxInvocationsPerWorkgroup);
    const kinds = new Set<string>();
    let dispatches = 0;
    for (const [shape, layout, dataType] of SHAPES) {
      for (const plan of everyPlan(tensorGeometry(shape, layout, dataType), profile)) {
        kinds.add(plan.elements);
        for (const d of plan.windows.flatMap((w) => w.dispatches)) {
          dispatches++;
          if (d.workgroupSize > limit || !Number.isInteger(Math.log2(d.workgroupSize))) {
            throw new Error(
              `${plan.strategy} ${plan.elements} [${shape}] ${layout} ${dataType}: ${d.kernel} asks for ${d.workgroupSize} invocations, limit ${limit}`,
            );
          }
        }
      }
    }
    expect(dispatches).toBeGreaterThan(500);
    // Every element kind was planned at least once (the pair kinds only on a CPU adapter).
    expect(kinds.size).toBeGreaterThanOrEqual(profile.isCpuAdapter ? 11 : 9);
  });

  it('keeps the preferred sizes where the device allows them: 256 to normalize, 64 per instance', () => {
    const plan = planInstanceNorm(tensorGeometry([1, 3, 1024, 1024], 'nchw'), GPU_PROFILE, 'split', { separateCombine: true });
    expect(plan.windows[0].dispatches.map((d) => d.workgroupSize)).toEqual([256, 128, 256]);
    const compat = planInstanceNorm(tensorGeometry([1, 3, 1024, 1024], 'nchw'), COMPATIBILITY_PROFILE, 'split', {
      separateCombine: true,
    });
    expect(compat.windows[0].dispatches.map((d) => d.workgroupSize)).toEqual([128, 128, 128]);
    const tiny = { ...GPU_PROFILE, maxInvocationsPerWorkgroup: 32 };
    expect(planInstanceNorm(tensorGeometry([16, 64, 4, 4], 'nchw'), tiny).windows[0].dispatches[0].workgroupSize).toBe(32);
  });
});
