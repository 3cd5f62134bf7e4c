import type { InstanceNormPlan, PlanWindow } from './planner';
import type { TensorGeometry } from './tensor-geometry';

// Mirrors `struct Params` in shaders/instance-params.wgsl: twelve 4-byte fields in order,
// 12 * 4 = 48 bytes.
export const PARAMS_BYTES = 48;

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
  // Sizes, strides and offsets in Elements of vectorWidth values (vec4 only for nchw).
  const instanceElements = g.spatialSize / plan.vectorWidth;
  u32[0] = window.instanceCount;
  u32[1] = g.channels;
  u32[2] = instanceElements; // spatialSize
  u32[3] = nhwc ? 1 : instanceElements; // channelStride
  u32[4] = nhwc ? g.channels : 1; // spatialStride
  u32[5] = plan.chunkSize;
  u32[6] = plan.chunksPerInstance;
  f32[7] = epsilon;
  u32[8] = affine.hasScale ? 1 : 0;
  u32[9] = affine.hasBias ? 1 : 0;
  u32[10] = window.elementOffset / plan.vectorWidth;
  u32[11] = window.firstInstance;
  return u32;
}
