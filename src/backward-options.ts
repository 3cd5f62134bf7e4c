import { describe } from './describe-value';
import { InstanceNormError } from './errors';
import type { InstanceNormOptions, InstanceStats } from './options';
import { type CheckedCall, validateCall } from './validation';

/**
 * Options of the backward pass: those of the forward call it differentiates (layout, epsilon,
 * scale or weight, perInstanceAffine, runningStats with `training: false` for eval mode), and
 * the forward's saved statistics.
 */
export interface BackwardOptions
  extends Pick<
    InstanceNormOptions,
    'layout' | 'epsilon' | 'eps' | 'scale' | 'weight' | 'bias' | 'affine' | 'perInstanceAffine' | 'runningStats' | 'training'
  > {
  /**
   * The forward's statistics, so that the backward does not reduce the input again: what
   * `stats()` returned (typed arrays), or the buffer the forward's `saveStats` (or
   * `encodeStats()`) filled (GPU). Default: computed again from the input.
   */
  savedStats?: InstanceStats<ArrayBufferLike> | GPUBuffer;
}

/** The gradients of a backward call. */
export interface BackwardResult {
  /** dL/dx, of the input's shape. */
  readonly gradInput: Float32Array<ArrayBuffer>;
  /** dL/dscale: length C (summed over N), or N × C for a per-instance scale. With `scale`, `bias` or `affine: true`. */
  readonly gradScale?: Float32Array<ArrayBuffer>;
  /** dL/dbias, as gradScale. */
  readonly gradBias?: Float32Array<ArrayBuffer>;
}

/** A backward call, checked: the forward's call, whether gradients of scale and bias are wanted. */
export interface CheckedBackward {
  readonly call: CheckedCall;
  readonly affine: boolean;
  /** The forward normalized with running statistics (eval mode). */
  readonly evalMode: boolean;
}

// Options that change the forward in ways the backward does not follow.
const UNSUPPORTED = ['activation', 'residual', 'groups', 'saveStats'] as const;

export function validateBackward(shape: unknown, options: BackwardOptions | undefined): CheckedBackward {
  const opts = (options ?? {}) as InstanceNormOptions & BackwardOptions;
  for (const name of UNSUPPORTED) {
    if (opts[name] !== undefined) {
      throw new InstanceNormError(
        `the backward pass takes no ${name} option: it differentiates the affine normalization (apply the epilogue's gradient first; GroupNorm has no backward yet)`,
      );
    }
  }
  if (opts.dataType !== undefined && opts.dataType !== 'float32') {
    throw new InstanceNormError(`the backward pass supports dataType 'float32' only, got ${describe(opts.dataType)}`);
  }
  const call = validateCall(shape, opts);
  const affine = opts.affine === true || opts.scale !== undefined || opts.weight !== undefined || opts.bias !== undefined;
  return { call, affine, evalMode: call.running?.use === 'normalize-with' };
}
