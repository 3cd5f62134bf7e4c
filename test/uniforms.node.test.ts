import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tensorGeometry } from '../src/core/tensor-geometry';
import { planInstanceNorm } from '../src/gpu/planner';
import { type CallParams, PARAMS_BYTES, packParams } from '../src/gpu/uniforms';
import { GPU_PROFILE } from './helpers/profiles';

const wgsl = readFileSync(new URL('../shaders/math/instance-params.wgsl', import.meta.url), 'utf8');
const structBody = /struct Params \{([^}]*)\}/.exec(wgsl)![1];
const fields = [...structBody.matchAll(/(\w+):\s*(u32|f32)/g)].map((m) => m[1]);

const PLAIN: CallParams = {
  epsilon: 1e-5,
  epsilonOnStd: false,
  hasScale: false,
  hasBias: false,
  scalePerInstance: false,
  biasPerInstance: false,
  activationAlpha: 0.01,
  exportedSpreadOffset: 0,
  exportStd: false,
  runningDecay: 0.9,
  runningWeight: 0.05,
  groupChannels: 1,
  batchStatistics: true,
  recomputeStats: false,
};

describe('the Params uniform mirrors struct Params in instance-params.wgsl', () => {
  it('has one 4-byte slot per WGSL field', () => {
    expect(fields.length * 4).toBe(PARAMS_BYTES);
  });

  const at = (name: string) => fields.indexOf(name);

  it('counts pairs of vec4s in vec4s: a step of eight nchw positions is two vec4s', () => {
    const geometry = tensorGeometry([2, 3, 8, 9], 'nchw'); // S = 72: 9 steps an instance
    const plan = planInstanceNorm(geometry, { ...GPU_PROFILE, isCpuAdapter: true }, 'split');
    expect(plan.elements).toBe('vec4-pair-position');
    const u32 = packParams(geometry, plan, plan.windows[0], PLAIN);
    expect(u32[at('spatialSize')]).toBe(9);
    expect(u32[at('spatialStride')]).toBe(2);
    expect(u32[at('channelStride')]).toBe(18); // instances 72 floats, 18 vec4s apart
    expect(u32[at('imageStride')]).toBe(54);
  });

  it('counts RGB quads in vec4s: a step of four positions is three vec4s', () => {
    const geometry = tensorGeometry([2, 6, 10, 3], 'nhwc'); // S = 60: 15 quads of 3 vec4s an image
    const plan = planInstanceNorm(geometry, GPU_PROFILE, 'split');
    expect(plan.elements).toBe('rgb-quad');
    const u32 = packParams(geometry, plan, { ...plan.windows[0], elementOffset: 8 }, PLAIN);
    expect(u32[at('spatialSize')]).toBe(15);
    expect(u32[at('imageStride')]).toBe(45);
    expect(u32[at('spatialStride')]).toBe(3);
    expect(u32[at('elementOffset')]).toBe(2); // 8 floats
    expect(u32[at('instanceValues')]).toBe(60);
  });

  it('puts each value in the slot of its WGSL field: nhwc, C = 3, masked channel groups', () => {
    const geometry = tensorGeometry([2, 5, 7, 3], 'nhwc'); // N = 2, spatial 5×7, C = 3
    const plan = planInstanceNorm(geometry, GPU_PROFILE, 'split');
    expect(plan.elements).toBe('masked-channel');
    const window = { ...plan.windows[0], elementOffset: 17, firstInstance: 1, instanceCount: 1 };
    const call = { ...PLAIN, epsilon: 0.25, epsilonOnStd: true, hasScale: true, scalePerInstance: true, activationAlpha: -0.5 };
    const u32 = packParams(geometry, plan, window, call);
    const f32 = new Float32Array(u32.buffer);
    expect(u32[at('instanceCount')]).toBe(1); // of the window
    expect(u32[at('channels')]).toBe(1); // one channel group per image
    expect(u32[at('spatialSize')]).toBe(35);
    expect(u32[at('imageStride')]).toBe(105);
    expect(u32[at('channelStride')]).toBe(4);
    expect(u32[at('spatialStride')]).toBe(3);
    expect(u32[at('chunkSize')]).toBe(plan.chunkSize);
    expect(u32[at('chunksPerInstance')]).toBe(1);
    expect(f32[at('epsilon')]).toBe(0.25);
    expect(u32[at('hasScale')]).toBe(1);
    expect(u32[at('hasBias')]).toBe(0);
    expect(u32[at('elementOffset')]).toBe(17);
    expect(u32[at('firstInstance')]).toBe(1);
    expect(u32[at('tensorChannels')]).toBe(3);
    expect(u32[at('scaleImageStride')]).toBe(3); // per instance: C apart
    expect(u32[at('biasImageStride')]).toBe(0); // per channel
    expect(f32[at('activationAlpha')]).toBe(-0.5);
    expect(u32[at('epsilonOnStd')]).toBe(1);
    expect(packParams(geometry, plan, window, PLAIN)[at('epsilonOnStd')]).toBe(0);
  });

  it('counts vec4 Elements: nchw positions and nhwc channels', () => {
    const nchw = tensorGeometry([2, 3, 4, 6], 'nchw');
    const nchwPlan = planInstanceNorm(nchw, GPU_PROFILE);
    const a = packParams(nchw, nchwPlan, { ...nchwPlan.windows[0], elementOffset: 8 }, PLAIN);
    expect([
      a[at('channels')],
      a[at('spatialSize')],
      a[at('imageStride')],
      a[at('channelStride')],
      a[at('spatialStride')],
      a[at('elementOffset')],
    ]).toEqual([3, 6, 18, 6, 1, 2]);
    const nhwc = tensorGeometry([2, 3, 4, 8], 'nhwc');
    const nhwcPlan = planInstanceNorm(nhwc, GPU_PROFILE);
    const b = packParams(nhwc, nhwcPlan, nhwcPlan.windows[0], PLAIN);
    expect([
      b[at('channels')],
      b[at('spatialSize')],
      b[at('imageStride')],
      b[at('channelStride')],
      b[at('spatialStride')],
    ]).toEqual([2, 12, 24, 1, 2]);
  });
});
