export { adainCpu, instanceNormBackwardCpu, instanceNormCpu, instanceStatsCpu } from './api/cpu-functions.js';
export { InstanceNorm } from './api/instance-norm.js';
export type { InstanceNormPlan } from './api/plan-description.js';
export type { PyTorchStateDict } from './api/pytorch-state-dict.js';
export type { TensorArray } from './core/checked-call.js';
export { InstanceNormError, type InstanceNormErrorCode, type InstanceNormErrorOptions } from './core/errors.js';
export { fromFloat16Bits, toFloat16Bits } from './core/float16.js';
export {
  type Activation,
  type AdainOptions,
  type BackwardBuffers,
  type BackwardOptions,
  type BackwardResult,
  type DataType,
  DEFAULT_ACTIVATION_ALPHA,
  DEFAULT_EPSILON,
  type EpsilonPlacement,
  type InstanceNormCreateOptions,
  type InstanceNormOptions,
  type InstanceStats,
  type Layout,
  type ResidualPosition,
} from './core/options.js';
export { RunningStats, type RunningStatsValues } from './core/running-stats.js';
export type { Strategy } from './gpu/planner.js';
export type { TuneResult } from './gpu/tuner.js';
export { clearTuning } from './gpu/tuning-table.js';
