import type { CpuEpilogue } from './cpu-epilogue.js';

/** What follows the statistics: scale and bias (length C or N × C) and the fused epilogue. */
export interface OutputMap {
  readonly scale: Float32Array | undefined;
  readonly bias: Float32Array | undefined;
  readonly finish: CpuEpilogue | undefined;
  /** Whether `finish` is SiLU alone (no residual), which the WebAssembly kernels compute themselves. */
  readonly silu?: boolean;
}

/** scale or bias of instance (n, c): per channel, or per instance where the array holds N × C. */
export function affineAt(values: Float32Array | undefined, fallback: number, n: number, c: number, channels: number): number {
  if (!values) return fallback;
  return values.length === channels ? values[c] : values[n * channels + c];
}

/** What x - mean of instance (n, c) is multiplied by: its scale times {@link inverseStd}. */
export function affineFactor(
  scale: Float32Array | undefined,
  n: number,
  c: number,
  channels: number,
  variance: number,
  epsilon: number,
): number {
  return affineAt(scale, 1, n, c, channels) * inverseStd(variance, epsilon);
}

// float32's smallest normal number.
const FLOAT32_MIN_NORMAL = 2 ** -126;

/**
 * 1 / sqrt(variance + epsilon) in float64, defined as the GPU's kernels define it where float32
 * cannot hold var + epsilon (shaders/moments.wgsl, laneInverseStd): 0 where var + epsilon, as
 * float32, is below its smallest normal number 2^-126 (PyTorch's InvStd is 0 at 0; GPUs may
 * flush subnormals to 0), so a constant instance with epsilon 0 gives the bias; NaN where it
 * overflows float32 (deviations from the mean beyond about 1.8e19) or is NaN.
 */
export function inverseStd(variance: number, epsilon: number): number {
  const v = variance + epsilon;
  const single = Math.fround(v);
  if (single < FLOAT32_MIN_NORMAL) return 0;
  return single === Number.POSITIVE_INFINITY ? Number.NaN : 1 / Math.sqrt(v);
}

/** sqrt(variance + epsilon) by the same rule: 0 where {@link inverseStd} is 0, NaN where it is NaN. */
export function standardDeviation(variance: number, epsilon: number): number {
  const inverse = inverseStd(variance, epsilon);
  return inverse === 0 || Number.isNaN(inverse) ? inverse : Math.sqrt(variance + epsilon);
}
