export type { BackwardBuffers, BackwardOptions, BackwardResult } from './backward-options';
export { adainCpu, instanceNormBackwardCpu, instanceNormCpu, instanceStatsCpu } from './cpu-reference';
export { InstanceNormError, type InstanceNormErrorCode, type InstanceNormErrorOptions } from './errors';
export { fromFloat16Bits, toFloat16Bits } from './float16';
export { InstanceNorm } from './instance-norm';
export {
  type Activation,
  type AdainOptions,
  type DataType,
  DEFAULT_ACTIVATION_ALPHA,
  DEFAULT_EPSILON,
  type InstanceNormCreateOptions,
  type InstanceNormOptions,
  type InstanceStats,
  type Layout,
  type ResidualPosition,
} from './options';
export type { InstanceNormPlan } from './plan-description';
export type { Strategy } from './planner';
export type { PyTorchStateDict } from './pytorch-state-dict';
export { RunningStats, type RunningStatsValues } from './running-stats';
export type { TuneResult } from './tuner';
export { clearTuning } from './tuning-table';
export type { TensorArray } from './validation';
