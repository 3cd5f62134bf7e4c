import { describe, describeKind } from '../core/describe-value.js';
import { argumentError } from '../core/errors.js';
import type { InstanceNormOptions } from '../core/options.js';
import { optionKeys, ownOptions } from '../core/own-options.js';
import type { RunningStats } from '../core/running-stats.js';
import { isFloat32Array } from '../core/value-kinds.js';

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

const STATE_DICT_KEYS = optionKeys<PyTorchStateDict>({
  weight: true,
  bias: true,
  running_mean: true,
  running_var: true,
  num_batches_tracked: true,
});
const MODULE_OPTION_KEYS = optionKeys<Pick<InstanceNormOptions, 'eps' | 'momentum'>>({ eps: true, momentum: true });

/**
 * Call options from a state dict: scale and bias from weight and bias; running statistics,
 * made by `makeRunningStats`, from running_mean and running_var (both or neither).
 */
export function optionsFromStateDict(
  stateDict: unknown,
  moduleOptions: unknown,
  makeRunningStats: (channels: number) => RunningStats,
): InstanceNormOptions {
  if (stateDict === null || typeof stateDict !== 'object') {
    throw argumentError('stateDict', `stateDict must be an object of Float32Arrays, got ${describe(stateDict)}`);
  }
  const dict = ownOptions(stateDict, STATE_DICT_KEYS, 'stateDict');
  const module = ownOptions(moduleOptions, MODULE_OPTION_KEYS, 'moduleOptions');
  const arrays = (['weight', 'bias', 'running_mean', 'running_var'] as const).filter((k) => dict[k] !== undefined);
  for (const key of arrays) {
    if (!isFloat32Array(dict[key])) {
      throw argumentError(key, `stateDict.${key} must be a Float32Array, got ${describeKind(dict[key])}`);
    }
  }
  const array = (key: (typeof arrays)[number]) => dict[key] as Float32Array | undefined;
  const lengths = new Set(arrays.map((k) => array(k)?.length));
  if (lengths.size > 1) {
    throw argumentError(
      'stateDict',
      `stateDict arrays must all have length C, got ${arrays.map((k) => `${k}: ${array(k)?.length}`).join(', ')}`,
    );
  }
  const runningMean = array('running_mean');
  const runningVar = array('running_var');
  if ((runningMean === undefined) !== (runningVar === undefined)) {
    throw argumentError('stateDict', 'stateDict has one of running_mean and running_var: give both or neither');
  }
  const tracked = batchesTracked(dict.num_batches_tracked);
  const options: InstanceNormOptions = { ...module };
  const weight = array('weight');
  const bias = array('bias');
  if (weight) options.scale = weight;
  if (bias) options.bias = bias;
  if (runningMean && runningVar) {
    const running = makeRunningStats(runningMean.length);
    running.set({ mean: runningMean, variance: runningVar });
    running.batchesTracked = tracked;
    options.runningStats = running;
  }
  return options;
}

/** num_batches_tracked: a count, as a number or the one-element array PyTorch exports; 0 where absent. */
function batchesTracked(value: unknown): number {
  if (value === undefined) return 0;
  const count = typeof value === 'number' || typeof value === 'bigint' ? value : (value as ArrayLike<unknown> | null)?.[0];
  const n = typeof count === 'bigint' ? Number(count) : count;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw argumentError(
      'num_batches_tracked',
      `stateDict.num_batches_tracked must be a count (an integer ≥ 0, or a one-element array of one), got ${describeKind(value)}`,
    );
  }
  return n;
}
