/**
 * What kind of failure an {@link InstanceNormError} reports, for a program to branch on:
 *
 * - `'invalid-argument'`: an argument or option is wrong (its name is in `argument`).
 * - `'unsupported'`: a valid request this library or this device cannot carry out (a tensor
 *   beyond the device's limits, an option combination without a kernel, a GPU method on the CPU
 *   backend).
 * - `'webgpu-unavailable'`: no WebGPU, no adapter or no device, where `fallback: 'error'` asked for one.
 * - `'destroyed'`: the InstanceNorm or RunningStats was destroyed.
 * - `'device-lost'`: the GPU device was lost (before or during the call).
 * - `'gpu-validation'`: WebGPU reported a validation error for the library's own work.
 * - `'out-of-memory'`: WebGPU, or the JavaScript engine, could not allocate memory.
 * - `'invalid-model'`: webgpu-instancenorm/onnxruntime was given a file that is not an ONNX model
 *   it can read (another format, a truncated file); the message says what is wrong and where.
 */
export type InstanceNormErrorCode =
  | 'invalid-argument'
  | 'unsupported'
  | 'webgpu-unavailable'
  | 'destroyed'
  | 'device-lost'
  | 'gpu-validation'
  | 'out-of-memory'
  | 'invalid-model';

/** The details of an {@link InstanceNormError} beside its message. */
export interface InstanceNormErrorOptions {
  /** The kind of failure. */
  readonly code: InstanceNormErrorCode;
  /** For `'invalid-argument'`: the parameter or option at fault (`'shape'`, `'epsilon'`, `'scale'`). */
  readonly argument?: string;
  /** The error that caused this one, if any. */
  readonly cause?: unknown;
}

/**
 * The one error type this library throws: bad arguments, a destroyed instance, a missing
 * WebGPU where `fallback: 'error'` was asked for, a lost device, and WebGPU validation and
 * out-of-memory errors raised by its own GPU work. The message is one sentence naming the
 * argument and what was expected; `code` says what kind of failure it is.
 *
 * @example
 * try {
 *   await norm.run(x, [1, 3, 4, 4], { epsilion: 1e-5 });
 * } catch (e) {
 *   if (e instanceof InstanceNormError && e.code === 'invalid-argument') console.warn(e.argument, e.message);
 * }
 */
export class InstanceNormError extends Error {
  /** The kind of failure. */
  readonly code: InstanceNormErrorCode;
  /** For `'invalid-argument'`: the parameter or option at fault, e.g. `'epsilon'`; otherwise undefined. */
  readonly argument?: string;

  constructor(message: string, options: InstanceNormErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'InstanceNormError';
    this.code = options.code;
    if (options.argument !== undefined) this.argument = options.argument;
  }
}

/** An `'invalid-argument'` error about `argument`. */
export function argumentError(argument: string, message: string): InstanceNormError {
  return new InstanceNormError(message, { code: 'invalid-argument', argument });
}

/** An `'unsupported'` error. */
export function unsupportedError(message: string): InstanceNormError {
  return new InstanceNormError(message, { code: 'unsupported' });
}

/** A WebGPU error raised by the library's own work in `method`, as an InstanceNormError. */
export function gpuError(method: string, error: GPUError): InstanceNormError {
  const code = Object.prototype.toString.call(error) === '[object GPUOutOfMemoryError]' ? 'out-of-memory' : 'gpu-validation';
  return new InstanceNormError(`WebGPU error in InstanceNorm.${method}: ${sentence(error.message)}`, { code, cause: error });
}

/** A message from elsewhere, made a clause of ours: trailing full stops and whitespace dropped. */
export function sentence(message: string): string {
  return message.trim().replace(/[.\s]+$/, '');
}
