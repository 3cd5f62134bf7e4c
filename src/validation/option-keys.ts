import type {
  BackwardBuffers,
  BackwardOptions,
  InstanceNormCreateOptions,
  InstanceNormOptions,
  InstanceStats,
} from '../core/options.js';
import { type OptionKeys, optionKeys } from '../core/own-options.js';

// The keys each entry point takes, one table per options type. Written as records of every key
// of the type, so that the compiler fails when an option is added to a type and not here.

/** run(), encode(), stats(), instanceNormCpu() and the others taking InstanceNormOptions. */
export const FORWARD_KEYS = optionKeys<InstanceNormOptions>({
  layout: true,
  dataType: true,
  epsilon: true,
  epsilonPlacement: true,
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
export const BACKWARD_KEYS = optionKeys<BackwardOptions>({
  layout: true,
  dataType: true,
  epsilon: true,
  epsilonPlacement: true,
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
export const CREATE_KEYS = optionKeys<InstanceNormCreateOptions>({ device: true, fallback: true, strategy: true });

/** encodeBackward()'s buffers. */
export const BACKWARD_BUFFER_KEYS = optionKeys<BackwardBuffers>({
  gradOutput: true,
  input: true,
  gradInput: true,
  gradAffine: true,
});

/** A backward's saved statistics as arrays. */
export const SAVED_STATS_KEYS = optionKeys<InstanceStats>({ mean: true, invStd: true });
