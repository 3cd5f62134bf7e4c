import type { PyTorchStateDict } from '../api/pytorch-state-dict';
import type { InstanceNormCreateOptions, InstanceNormOptions, InstanceStats } from '../core/options';
import type { OptionKeys } from '../core/own-options';
import type { RunningStatsValues } from '../core/running-stats';
import type { BackwardBuffers, BackwardOptions } from './backward-options';

// The keys each entry point takes, one table per options type. Written as records of every key
// of the type, so that the compiler fails when an option is added to a type and not here.

const keys = <T>(record: Record<keyof T, true>): OptionKeys => new Set(Object.keys(record));

/** run(), encode(), stats(), instanceNormCpu() and the others taking InstanceNormOptions. */
export const FORWARD_KEYS = keys<InstanceNormOptions>({
  layout: true,
  dataType: true,
  epsilon: true,
  scale: true,
  bias: true,
  perInstanceAffine: true,
  activation: true,
  activationAlpha: true,
  residual: true,
  residualPosition: true,
  runningStats: true,
  training: true,
  momentum: true,
  groups: true,
  saveStats: true,
  eps: true,
  weight: true,
  affine: true,
  trackRunningStats: true,
});

/** backward(), encodeBackward(), instanceNormBackwardCpu(). */
export const BACKWARD_KEYS = keys<BackwardOptions>({
  layout: true,
  dataType: true,
  epsilon: true,
  eps: true,
  scale: true,
  weight: true,
  bias: true,
  affine: true,
  perInstanceAffine: true,
  runningStats: true,
  training: true,
  momentum: true,
  trackRunningStats: true,
  savedStats: true,
});

/** tune(): a forward call's options and the tuning's own. */
export const TUNE_KEYS: OptionKeys = new Set([...FORWARD_KEYS, 'persist', 'repetitions']);

/** InstanceNorm.create(). */
export const CREATE_KEYS = keys<InstanceNormCreateOptions>({ device: true, fallback: true, strategy: true });

/** encodeBackward()'s buffers. */
export const BACKWARD_BUFFER_KEYS = keys<BackwardBuffers>({ gradOutput: true, input: true, gradInput: true, gradAffine: true });

/** A backward's saved statistics as arrays. */
export const SAVED_STATS_KEYS = keys<InstanceStats>({ mean: true, invStd: true });

/** RunningStats.set(). */
export const RUNNING_VALUES_KEYS = keys<RunningStatsValues>({ mean: true, variance: true });

/** loadStateDict()'s state dict and module options. */
export const STATE_DICT_KEYS = keys<PyTorchStateDict>({
  weight: true,
  bias: true,
  running_mean: true,
  running_var: true,
  num_batches_tracked: true,
});
export const MODULE_OPTION_KEYS = keys<Pick<InstanceNormOptions, 'eps' | 'momentum'>>({ eps: true, momentum: true });
