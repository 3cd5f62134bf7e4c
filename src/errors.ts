/**
 * The one error type this library throws: bad arguments, a destroyed instance, a missing
 * WebGPU where `fallback: 'error'` was asked for, and WebGPU validation errors raised by its
 * own GPU work. The message names the argument and what was expected.
 *
 * @example
 * try { await norm.run(x, [1, 3, 4, 4]); }
 * catch (e) { if (e instanceof InstanceNormError) console.warn(e.message); }
 */
export class InstanceNormError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InstanceNormError';
  }
}
