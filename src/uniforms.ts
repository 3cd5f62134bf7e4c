import type { InstanceNormPlan } from './planner';
import type { TensorGeometry } from './tensor-geometry';

// Mirrors `struct Params` in shaders/instance-params.wgsl: twelve 4-byte fields in order,
// 12 * 4 = 48 bytes, a multiple of 16 as a uniform buffer needs.
export const PARAMS_BYTES = 48;

export interface AffineFlags {
  readonly hasScale: boolean;
  readonly hasBias: boolean;
}

export function packParams(g: TensorGeometry, plan: InstanceNormPlan, epsilon: number, affine: AffineFlags): ArrayBuffer {
  const bytes = new ArrayBuffer(PARAMS_BYTES);
  const u32 = new Uint32Array(bytes);
  const f32 = new Float32Array(bytes);
  const nhwc = g.layout === 'nhwc';
  u32[0] = g.instanceCount;
  u32[1] = g.channels;
  u32[2] = g.spatialSize;
  u32[3] = nhwc ? 1 : g.spatialSize; // channelStride
  u32[4] = nhwc ? g.channels : 1; // spatialStride
  u32[5] = nhwc ? 1 : 0; // channelsLast
  u32[6] = plan.chunkSize;
  u32[7] = plan.chunksPerInstance;
  u32[8] = g.elementCount;
  f32[9] = epsilon;
  u32[10] = affine.hasScale ? 1 : 0;
  u32[11] = affine.hasBias ? 1 : 0;
  return bytes;
}
