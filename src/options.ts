/** Memory layout of a tensor: channels first (`[N, C, ...spatial]`) or last (`[N, ...spatial, C]`). */
export type Layout = 'nchw' | 'nhwc';

/**
 * Options of one normalization, the same for the GPU and the CPU.
 *
 * @example
 * const options: InstanceNormOptions = { layout: 'nhwc', epsilon: 1e-5, scale: gamma, bias: beta };
 */
export interface InstanceNormOptions {
  /** Memory layout of input and output. Default `'nchw'`. */
  layout?: Layout;
  /** Added to the variance before the square root; finite and ≥ 0. Default `1e-5`. */
  epsilon?: number;
  /** Per-channel factor (γ), length C. Default: all ones. A `GPUBuffer` on the WebGPU backend only. */
  scale?: Float32Array | GPUBuffer;
  /** Per-channel offset (β), length C. Default: all zeros. A `GPUBuffer` on the WebGPU backend only. */
  bias?: Float32Array | GPUBuffer;
}

/** Default epsilon, as in PyTorch, ONNX and WebNN. */
export const DEFAULT_EPSILON = 1e-5;

/**
 * Per-instance statistics, index `n * C + c`: the mean and 1 / sqrt(variance + epsilon), with the
 * biased variance, as the normalization uses them.
 */
export interface InstanceStats {
  /** Mean of each instance. */
  readonly mean: Float32Array;
  /** 1 / sqrt(var + epsilon) of each instance. */
  readonly invStd: Float32Array;
}
