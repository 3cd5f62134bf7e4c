export { InstanceNorm } from './api/instance-norm';
export type { InstanceNormPlan } from './api/plan-description';
export type { PyTorchStateDict } from './api/pytorch-state-dict';
export { InstanceNormError, type InstanceNormErrorCode, type InstanceNormErrorOptions } from './core/errors';
export { fromFloat16Bits, toFloat16Bits } from './core/float16';
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
} from './core/options';
export { RunningStats, type RunningStatsValues } from './core/running-stats';
export { adainCpu, instanceNormBackwardCpu, instanceNormCpu, instanceStatsCpu } from './cpu/cpu-backend';
export type { Strategy } from './gpu/planner';
export type { TuneResult } from './gpu/tuner';
export { clearTuning } from './gpu/tuning-table';
export type { BackwardBuffers, BackwardOptions, BackwardResult } from './validation/backward-options';
export type { TensorArray } from './validation/validation';
