import { describe } from '../core/describe-value';
import { unsupportedError } from '../core/errors';
import type { InstanceNormOptions, InstanceStats } from '../core/options';
import { type OptionKeys, ownOptions } from '../core/own-options';
import { BACKWARD_KEYS } from './option-keys';
import { type CheckedCall, checkCall } from './validation';

/**
 * Options of the backward pass: those of the forward call it differentiates (layout, epsilon,
 * scale or weight, perInstanceAffine, runningStats with `training: false` for eval mode), and
 * the forward's saved statistics. `dataType` must be `'float32'`; `momentum` is accepted and
 * ignored, so that a forward's options can be passed as they are.
 */
export interface BackwardOptions
  extends Pick<
    InstanceNormOptions,
    | 'layout'
    | 'dataType'
    | 'epsilon'
    | 'eps'
    | 'scale'
    | 'weight'
    | 'bias'
    | 'affine'
    | 'perInstanceAffine'
    | 'runningStats'
    | 'training'
    | 'momentum'
    | 'trackRunningStats'
  > {
  /**
   * The forward's statistics, so that the backward does not reduce the input again: what
   * `stats()` returned (typed arrays), or the buffer the forward's `saveStats` (or
   * `encodeStats()`) filled (GPU). Default: computed again from the input.
   */
  savedStats?: InstanceStats<ArrayBufferLike> | GPUBuffer;
}

/** The GPU buffers of {@link InstanceNorm.encodeBackward}, each with STORAGE usage. */
export interface BackwardBuffers {
  /** dL/dy: the gradient of the forward's output, of the input's shape. */
  readonly gradOutput: GPUBuffer;
  /** The forward's input x. */
  readonly input: GPUBuffer;
  /** Receives dL/dx. */
  readonly gradInput: GPUBuffer;
  /** Receives dL/dscale then dL/dbias (C values each; N × C for per-instance ones). Optional. */
  readonly gradAffine?: GPUBuffer;
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
const KEYS: OptionKeys = new Set([...BACKWARD_KEYS, ...UNSUPPORTED]);

export function validateBackward(shape: unknown, options: unknown): CheckedBackward {
  const own = ownOptions(options, KEYS);
  for (const name of UNSUPPORTED) {
    if (own[name] !== undefined) {
      throw unsupportedError(
        `the backward pass takes no ${name} option: it differentiates the affine normalization (apply the epilogue's gradient first; GroupNorm has no backward yet)`,
      );
    }
  }
  if (own.dataType !== undefined && own.dataType !== 'float32') {
    throw unsupportedError(`the backward pass supports dataType 'float32' only, got ${describe(own.dataType)}`);
  }
  const call = checkCall(shape, own);
  const affine = own.affine === true || call.options.scale !== undefined || call.options.bias !== undefined;
  return { call, affine, evalMode: call.running?.use === 'normalize-with' };
}
