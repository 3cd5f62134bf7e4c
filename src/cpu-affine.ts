import type { CpuEpilogue } from './cpu-epilogue';

/** What follows the statistics: scale and bias (length C or N × C) and the fused epilogue. */
export interface OutputMap {
  readonly scale: Float32Array | undefined;
  readonly bias: Float32Array | undefined;
  readonly finish: CpuEpilogue | undefined;
}

/** scale or bias of instance (n, c): per channel, or per instance where the array holds N × C. */
export function affineAt(values: Float32Array | undefined, fallback: number, n: number, c: number, channels: number): number {
  if (!values) return fallback;
  return values.length === channels ? values[c] : values[n * channels + c];
}

/** What x - mean of instance (n, c) is multiplied by: its scale over sqrt(variance + epsilon). */
export function affineFactor(
  scale: Float32Array | undefined,
  n: number,
  c: number,
  channels: number,
  variance: number,
  epsilon: number,
): number {
  return affineAt(scale, 1, n, c, channels) / Math.sqrt(variance + epsilon);
}
