import type { TensorGeometry } from '../core/tensor-geometry.js';
import { ELEMENT_KINDS, type GpuPlan, type PlanWindow } from './planner.js';

// Mirrors `struct Params` in shaders/math/instance-params.wgsl: twenty-nine 4-byte fields in
// order, 29 * 4 = 116 bytes.
export const PARAMS_BYTES = 116;

/** The values of a call that reach the kernels through Params, beside the plan's sizes. */
export interface CallParams {
  readonly epsilon: number;
  /** The spread is sqrt(var) + epsilon (keras-contrib's placement) rather than sqrt(var + epsilon). */
  readonly epsilonOnStd: boolean;
  readonly hasScale: boolean;
  readonly hasBias: boolean;
  /** scale holds N × C values rather than C. */
  readonly scalePerInstance: boolean;
  readonly biasPerInstance: boolean;
  readonly activationAlpha: number;
  /** export-stats: where the spread goes in instanceStats, in floats, and whether it is sqrt(var + eps). */
  readonly exportedSpreadOffset: number;
  readonly exportStd: boolean;
  /** update-running-stats: running = runningDecay * running + runningWeight * (sum over the batch). */
  readonly runningDecay: number;
  readonly runningWeight: number;
  /** GroupNorm: channels per group; 1 for instance norm. */
  readonly groupChannels: number;
  /** Backward: the forward normalized with the batch's statistics (not running ones). */
  readonly batchStatistics: boolean;
  /** backward-per-thread: reduce the input for the statistics (none were saved). */
  readonly recomputeStats: boolean;
}

/** The Params block of one window of a plan: sizes, strides and offsets in the plan's Elements. */
export function packParams(g: TensorGeometry, plan: GpuPlan, window: PlanWindow, call: CallParams): Uint32Array {
  const u32 = new Uint32Array(PARAMS_BYTES / 4);
  const f32 = new Float32Array(u32.buffer);
  const { values, positions } = ELEMENT_KINDS[plan.elements];
  const nhwc = g.layout === 'nhwc';
  const spatialElements = g.spatialSize / positions;
  // nhwc: a kernel step covers `positions` positions of C values each, positions * C / values
  // Elements; a kernel instance starts every `lanes` channels, so `lanes / values` Elements apart.
  const positionElements = (positions * g.channels) / values;
  u32[0] = window.instanceCount;
  u32[1] = plan.instancesPerImage; // channels
  u32[2] = spatialElements; // spatialSize
  u32[3] = (g.channels * g.spatialSize) / values; // imageStride
  u32[4] = nhwc ? ELEMENT_KINDS[plan.elements].lanes / values : g.spatialSize / values; // channelStride
  u32[5] = nhwc ? positionElements : positions / values; // spatialStride
  u32[6] = plan.chunkSize;
  u32[7] = plan.chunksPerInstance;
  f32[8] = call.epsilon;
  u32[9] = call.hasScale ? 1 : 0;
  u32[10] = call.hasBias ? 1 : 0;
  u32[11] = window.elementOffset / values;
  u32[12] = window.firstInstance;
  u32[13] = g.channels; // tensorChannels
  u32[14] = call.scalePerInstance ? g.channels : 0; // scaleImageStride
  u32[15] = call.biasPerInstance ? g.channels : 0; // biasImageStride
  f32[16] = call.activationAlpha;
  u32[17] = call.exportedSpreadOffset;
  u32[18] = call.exportStd ? 1 : 0;
  u32[19] = g.batch; // imageCount
  f32[20] = call.runningDecay;
  f32[21] = call.runningWeight;
  // PyTorch's running variance is unbiased; one value per instance has none (training refuses it).
  f32[22] = g.spatialSize > 1 ? g.spatialSize / (g.spatialSize - 1) : 0;
  u32[23] = plan.partialsBytes / 16; // statsBase: the statistics follow the partials in scratch
  u32[24] = call.groupChannels;
  u32[25] = call.batchStatistics ? 1 : 0;
  u32[26] = g.spatialSize; // instanceValues
  u32[27] = call.recomputeStats ? 1 : 0;
  u32[28] = call.epsilonOnStd ? 1 : 0;
  return u32;
}
