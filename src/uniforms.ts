import type { InstanceNormPlan, PlanWindow } from './planner';
import type { TensorGeometry } from './tensor-geometry';

// Mirrors `struct Params` in shaders/instance-params.wgsl: fourteen 4-byte fields in order,
// 14 * 4 = 56 bytes.
export const PARAMS_BYTES = 56;

export interface AffineFlags {
  readonly hasScale: boolean;
  readonly hasBias: boolean;
}

/** The Params block of one window of a plan. */
export function packParams(
  g: TensorGeometry,
  plan: InstanceNormPlan,
  window: PlanWindow,
  epsilon: number,
  affine: AffineFlags,
): Uint32Array {
  const u32 = new Uint32Array(PARAMS_BYTES / 4);
  const f32 = new Float32Array(u32.buffer);
  const nhwc = g.layout === 'nhwc';
  u32[0] = window.instanceCount;
  u32[1] = g.channels;
  u32[2] = g.spatialSize;
  u32[3] = nhwc ? 1 : g.spatialSize; // channelStride
  u32[4] = nhwc ? g.channels : 1; // spatialStride
  u32[5] = nhwc ? 1 : 0; // channelsLast
  u32[6] = plan.chunkSize;
  u32[7] = plan.chunksPerInstance;
  u32[8] = window.instanceCount * g.spatialSize; // elementCount
  f32[9] = epsilon;
  u32[10] = affine.hasScale ? 1 : 0;
  u32[11] = affine.hasBias ? 1 : 0;
  u32[12] = window.elementOffset;
  u32[13] = window.firstInstance;
  return u32;
}
