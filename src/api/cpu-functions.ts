import type { TensorArray } from '../core/checked-call.js';
import type { AdainOptions, BackwardOptions, BackwardResult, InstanceNormOptions, InstanceStats } from '../core/options.js';
import { adainOnCpu, backwardOnCpu, normalizeOnCpu, statsOnCpu } from '../cpu/cpu-backend.js';
import { validateBackward } from '../validation/backward-options.js';
import { cpuBackward, cpuCall } from '../validation/cpu-validation.js';
import { validateAdain, validateCall, validateInputArray } from '../validation/validation.js';

// The CPU functions of the public API: each validates its arguments once and hands the checked
// call to the CPU backend (src/cpu/).

/**
 * Instance normalization on the CPU: the reference the GPU is tested against and the
 * fallback where WebGPU is missing. For every instance (n, c): mean and biased variance
 * over the spatial positions, accumulated in float64 in two passes, then
 * `y = (x - mean) / sqrt(var + epsilon) * scale[c] + bias[c]` (or `scale[n * C + c]`; with
 * `epsilonPlacement: 'std'`, `/ (sqrt(var) + epsilon)`), then the activation and residual of the
 * options, all in float64. Synchronous. Its loops run in
 * WebAssembly SIMD where the engine allows it (the same float64 arithmetic), else in JavaScript.
 *
 * @param input - the tensor, `shape` in row-major order.
 * @param shape - `[N, C, ...spatial]` ('nchw') or `[N, ...spatial, C]` ('nhwc'), 1 to 3 spatial dimensions.
 * @returns a new Float32Array of the input's shape.
 * @throws InstanceNormError on bad arguments.
 *
 * @example
 * const y = instanceNormCpu(new Float32Array([1, 2, 3, 4]), [1, 1, 4]); // ≈ [-1.34, -0.45, 0.45, 1.34]
 */
export function instanceNormCpu(
  input: Float32Array,
  shape: readonly number[],
  options?: InstanceNormOptions,
): Float32Array<ArrayBuffer>;
/**
 * Instance normalization on the CPU of a tensor of halves (`dataType: 'float16'`): a Uint16Array
 * of IEEE half bits in, and out, each result the float64 value rounded once to the nearest half.
 */
export function instanceNormCpu(
  input: Uint16Array,
  shape: readonly number[],
  options: InstanceNormOptions & { dataType: 'float16' },
): Uint16Array<ArrayBuffer>;
/** Instance normalization on the CPU of either array type, as `options.dataType` says. */
export function instanceNormCpu(input: TensorArray, shape: readonly number[], options?: InstanceNormOptions): TensorArray;
export function instanceNormCpu(input: TensorArray, shape: readonly number[], options?: InstanceNormOptions): TensorArray {
  const call = cpuCall(validateCall(shape, options));
  return normalizeOnCpu(call, validateInputArray(input, call.geometry));
}

/**
 * The statistics of every instance on the CPU, float64 two-pass, as {@link instanceNormCpu}
 * uses them; with `groups`, each channel's are its group's. `scale` and `bias` in the options
 * are ignored.
 *
 * @returns mean and 1 / sqrt(var + epsilon) (1 / (sqrt(var) + epsilon) with `epsilonPlacement: 'std'`)
 *   per instance, index `n * C + c`.
 * @example
 * const { mean, invStd } = instanceStatsCpu(style, [1, 3, 256, 256]);
 */
export function instanceStatsCpu(input: TensorArray, shape: readonly number[], options?: InstanceNormOptions): InstanceStats {
  const call = validateCall(shape, options);
  return statsOnCpu(call, validateInputArray(input, call.geometry));
}

/**
 * Adaptive instance normalization on the CPU: `content` normalized per instance, then scaled by
 * the standard deviation sqrt(var + epsilon) and shifted by the mean of the same instance of
 * `style` (of its only image where the style has N = 1), then the epilogue. Float64 statistics.
 *
 * @example
 * const y = adainCpu(content, [1, 3, 64, 64], style, [1, 3, 128, 128]);
 */
export function adainCpu(
  content: Float32Array,
  contentShape: readonly number[],
  style: Float32Array,
  styleShape: readonly number[],
  options?: AdainOptions,
): Float32Array<ArrayBuffer>;
/** AdaIN on the CPU of tensors of halves (`dataType: 'float16'`): Uint16Arrays of half bits in and out. */
export function adainCpu(
  content: Uint16Array,
  contentShape: readonly number[],
  style: Uint16Array,
  styleShape: readonly number[],
  options: AdainOptions & { dataType: 'float16' },
): Uint16Array<ArrayBuffer>;
/** AdaIN on the CPU of either array type, as `options.dataType` says. */
export function adainCpu(
  content: TensorArray,
  contentShape: readonly number[],
  style: TensorArray,
  styleShape: readonly number[],
  options?: AdainOptions,
): TensorArray;
export function adainCpu(
  content: TensorArray,
  contentShape: readonly number[],
  style: TensorArray,
  styleShape: readonly number[],
  options?: AdainOptions,
): TensorArray {
  const { content: checked, style: styleGeometry } = validateAdain(contentShape, styleShape, options);
  const call = cpuCall(checked);
  validateInputArray(content, call.geometry, 'content');
  return adainOnCpu(call, content, validateInputArray(style, styleGeometry, 'style'), styleGeometry);
}

/**
 * The backward pass on the CPU, in float64: with x̂ the normalized input and g = dy · scale, per
 * instance `dx = (g - mean(g) - x̂ · mean(g · x̂)) / sqrt(var + eps)`; in eval mode (running
 * statistics) the affine map's `dx = g / sqrt(running var + eps)`. With scale, bias or
 * `affine: true` also `gradScale = Σ dy · x̂` and `gradBias = Σ dy`, summed over N (per instance
 * for a per-instance scale).
 *
 * @example
 * const { gradInput, gradScale, gradBias } = instanceNormBackwardCpu(dy, x, [2, 64, 32, 32], { scale: gamma });
 */
export function instanceNormBackwardCpu(
  gradOutput: Float32Array,
  input: Float32Array,
  shape: readonly number[],
  options?: BackwardOptions,
): BackwardResult {
  const checked = cpuBackward(validateBackward(shape, options));
  const g = checked.call.geometry;
  return backwardOnCpu(
    checked,
    validateInputArray(gradOutput, g, 'gradOutput') as Float32Array,
    validateInputArray(input, g) as Float32Array,
  );
}
