import type { CheckedCall } from '../core/checked-call.js';
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

/** Epsilon and where it is added: what turns a variance into the spread an instance is divided by. */
export type SpreadRule = Pick<CheckedCall, 'epsilon' | 'epsilonPlacement'>;

/** What x - mean of instance (n, c) is multiplied by: its scale times {@link inverseStd}. */
export function affineFactor(
  scale: Float32Array | undefined,
  n: number,
  c: number,
  channels: number,
  variance: number,
  rule: SpreadRule,
): number {
  return affineAt(scale, 1, n, c, channels) * inverseStd(variance, rule);
}

// float32's smallest normal number.
const FLOAT32_MIN_NORMAL = 2 ** -126;

/**
 * The spread an instance of `variance` is divided by, in float64: sqrt(var + epsilon), or
 * sqrt(var) + epsilon for the 'std' placement (a var below float32's smallest normal number
 * 2^-126 counting as 0 there, as GPUs may flush it), defined as the GPU's kernels define it
 * where float32 cannot hold it (shaders/math/moments.wgsl, laneInverseSpread): 0 where var +
 * epsilon, or the 'std' spread, is below 2^-126 as float32 (PyTorch's InvStd is 0 at 0; GPUs may
 * flush subnormals to 0), so a constant instance with epsilon 0 gives the bias; NaN where var or
 * var + epsilon overflows float32 (deviations from the mean beyond about 1.8e19) or is NaN.
 */
export function spread(variance: number, { epsilon, epsilonPlacement }: SpreadRule): number {
  if (epsilonPlacement === 'variance') {
    const v = variance + epsilon;
    const single = Math.fround(v);
    if (single < FLOAT32_MIN_NORMAL) return 0;
    return single === Number.POSITIVE_INFINITY ? Number.NaN : Math.sqrt(v);
  }
  const single = Math.fround(variance);
  if (!(single < Number.POSITIVE_INFINITY)) return Number.NaN;
  const d = (single < FLOAT32_MIN_NORMAL ? 0 : Math.sqrt(variance)) + epsilon;
  if (Math.fround(d) < FLOAT32_MIN_NORMAL) return 0;
  return Math.fround(d) === Number.POSITIVE_INFINITY ? Number.NaN : d;
}

/** 1 / {@link spread}: 0 where the spread is 0, NaN where it is NaN. */
export function inverseStd(variance: number, rule: SpreadRule): number {
  const d = spread(variance, rule);
  return d === 0 ? 0 : 1 / d;
}

/**
 * What the backward multiplies x̂ · mean(g · x̂) by: 1 for sqrt(var + eps); for the 'std'
 * placement d / σ (d = σ + eps = 1 / invStd, σ = sqrt(var)), since d moves with x as σ does,
 * and 0 where σ is 0 (x̂ is 0 there). From invStd, so that saved statistics serve too.
 */
export function spreadSlope(invStd: number, { epsilon, epsilonPlacement }: SpreadRule): number {
  if (epsilonPlacement === 'variance') return 1;
  const rest = 1 - epsilon * invStd; // σ / d
  return rest > 0 ? 1 / rest : 0;
}
