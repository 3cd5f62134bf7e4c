import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { planInstanceNorm } from '../src/planner';
import { tensorGeometry } from '../src/tensor-geometry';
import { PARAMS_BYTES, packParams } from '../src/uniforms';
import { GPU_PROFILE } from './helpers/profiles';

const wgsl = readFileSync(new URL('../shaders/instance-params.wgsl', import.meta.url), 'utf8');
const structBody = /struct Params \{([^}]*)\}/.exec(wgsl)![1];
const fields = [...structBody.matchAll(/(\w+):\s*(u32|f32)/g)].map((m) => m[1]);

describe('the Params uniform mirrors struct Params in instance-params.wgsl', () => {
  it('has one 4-byte slot per WGSL field', () => {
    expect(fields.length * 4).toBe(PARAMS_BYTES);
  });

  it('puts each value in the slot of its WGSL field', () => {
    const geometry = tensorGeometry([2, 5, 7, 3], 'nhwc'); // N = 2, spatial 5×7, C = 3
    const plan = planInstanceNorm(geometry, GPU_PROFILE, 'split');
    const window = { ...plan.windows[0], elementOffset: 17, firstInstance: 4, instanceCount: 2 };
    const u32 = packParams(geometry, plan, window, 0.25, { hasScale: true, hasBias: false });
    const f32 = new Float32Array(u32.buffer);
    const at = (name: string) => fields.indexOf(name);
    expect(u32[at('instanceCount')]).toBe(2); // of the window
    expect(u32[at('channels')]).toBe(3);
    expect(u32[at('spatialSize')]).toBe(35);
    expect(u32[at('channelStride')]).toBe(1);
    expect(u32[at('spatialStride')]).toBe(3);
    expect(u32[at('chunkSize')]).toBe(plan.chunkSize);
    expect(u32[at('chunksPerInstance')]).toBe(1);
    expect(u32[at('elementOffset')]).toBe(17);
    expect(u32[at('firstInstance')]).toBe(4);
    expect(f32[at('epsilon')]).toBe(0.25);
    expect(u32[at('hasScale')]).toBe(1);
    expect(u32[at('hasBias')]).toBe(0);
  });
});
