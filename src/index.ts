export { adainCpu, instanceNormBackwardCpu, instanceNormCpu, instanceStatsCpu } from './api/cpu-functions';
export { InstanceNorm } from './api/instance-norm';
export type { InstanceNormPlan } from './api/plan-description';
export type { PyTorchStateDict } from './api/pytorch-state-dict';
export type { TensorArray } from './core/checked-call';
export { InstanceNormError, type InstanceNormErrorCode, type InstanceNormErrorOptions } from './core/errors';
export { fromFloat16Bits, toFloat16Bits } from './core/float16';
export {
  type Activation,
  type AdainOptions,
  type BackwardBuffers,
  type BackwardOptions,
  type BackwardResult,
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
export type { Strategy } from './gpu/planner';
export type { TuneResult } from './gpu/tuner';
export { clearTuning } from './gpu/tuning-table';
