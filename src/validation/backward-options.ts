import { describe } from '../core/describe-value.js';
import { unsupportedError } from '../core/errors.js';
import { type OptionKeys, ownOptions } from '../core/own-options.js';
import { BACKWARD_KEYS } from './option-keys.js';
import { type CheckedCall, checkCall } from './validation.js';

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
