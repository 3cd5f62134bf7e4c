import { describe, describeKind } from './describe-value';
import { InstanceNormError } from './errors';
import type { InstanceNormOptions } from './options';
import type { RunningStats } from './running-stats';

/** The `state_dict()` of a PyTorch InstanceNorm1d/2d/3d, as float32 arrays of length C. */
export interface PyTorchStateDict {
  /** γ: becomes `scale`. */
  readonly weight?: Float32Array;
  /** β: becomes `bias`. */
  readonly bias?: Float32Array;
  /** With running_var: becomes `runningStats`. */
  readonly running_mean?: Float32Array;
  /** The running (unbiased) variance. */
  readonly running_var?: Float32Array;
  /** A number, or the one-element array PyTorch exports. */
  readonly num_batches_tracked?: number | ArrayLike<number>;
}

/**
 * Call options from a state dict: scale and bias from weight and bias; running statistics,
 * made by `makeRunningStats`, from running_mean and running_var (both or neither).
 */
export function optionsFromStateDict(
  stateDict: PyTorchStateDict,
  moduleOptions: Pick<InstanceNormOptions, 'eps' | 'momentum'>,
  makeRunningStats: (channels: number) => RunningStats,
): InstanceNormOptions {
  if (stateDict === null || typeof stateDict !== 'object') {
    throw new InstanceNormError(`stateDict must be an object of Float32Arrays, got ${describe(stateDict)}`);
  }
  const arrays = (['weight', 'bias', 'running_mean', 'running_var'] as const).filter((k) => stateDict[k] !== undefined);
  for (const key of arrays) {
    if (!(stateDict[key] instanceof Float32Array)) {
      throw new InstanceNormError(`stateDict.${key} must be a Float32Array, got ${describeKind(stateDict[key])}`);
    }
  }
  const lengths = new Set(arrays.map((k) => (stateDict[k] as Float32Array).length));
  if (lengths.size > 1) {
    throw new InstanceNormError(
      `stateDict arrays must all have length C, got ${arrays.map((k) => `${k}: ${stateDict[k]?.length}`).join(', ')}`,
    );
  }
  if ((stateDict.running_mean === undefined) !== (stateDict.running_var === undefined)) {
    throw new InstanceNormError('stateDict has one of running_mean and running_var: give both or neither');
  }
  const options: InstanceNormOptions = { ...moduleOptions };
  if (stateDict.weight) options.scale = stateDict.weight;
  if (stateDict.bias) options.bias = stateDict.bias;
  if (stateDict.running_mean && stateDict.running_var) {
    const running = makeRunningStats(stateDict.running_mean.length);
    running.set({ mean: stateDict.running_mean, variance: stateDict.running_var });
    const tracked = stateDict.num_batches_tracked;
    running.batchesTracked = typeof tracked === 'number' ? tracked : Number(tracked?.[0] ?? 0);
    options.runningStats = running;
  }
  return options;
}
