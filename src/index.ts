export { adainCpu, instanceNormCpu, instanceStatsCpu } from './cpu-reference';
export { InstanceNormError } from './errors';
export { InstanceNorm, type InstanceNormCreateOptions } from './instance-norm';
export {
  type Activation,
  type AdainOptions,
  DEFAULT_ACTIVATION_ALPHA,
  DEFAULT_EPSILON,
  type InstanceNormOptions,
  type InstanceStats,
  type Layout,
  type ResidualPosition,
} from './options';
export type { ElementKind, InstanceNormPlan, KernelDispatch, KernelName, PlanWindow, Strategy } from './planner';
export type { TuneResult } from './tuner';
export { clearTuning } from './tuning-table';
