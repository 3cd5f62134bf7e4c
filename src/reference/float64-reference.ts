import { fromFloat16Bits, toFloat16Bits } from '../core/float16.js';
import type { AdainOptions, BackwardOptions, BackwardResult, InstanceNormOptions, InstanceStats } from '../core/options.js';
import type { TensorGeometry } from '../core/tensor-geometry.js';
import { isUint16Array } from '../core/value-kinds.js';
import { validateBackward } from '../validation/backward-options.js';
import {
  type CheckedCall,
  type CheckedRunning,
  type TensorArray,
  validateAdain,
  validateCall,
  validateInputArray,
  validateSavedStats,
} from '../validation/validation.js';

// The definition that the GPU kernels and the CPU fallback are tested against: every operation
// in float64, two passes, plain loops over (n, c, s), written to be checked against the formulas
// in a minute rather than to be fast. Not part of the package's API; tests import it.
//
// For every instance (n, c), or every group of C / G adjacent channels with GroupNorm:
//   mean = Σ x / count,  var = Σ (x - mean)² / count  (biased),
//   y = act((x - mean) · invStd(var) · scale + bias) + residual  (or act(… + residual)),
// with invStd(var) = 1 / spread(var), spread = sqrt(var + eps) (epsilonPlacement 'variance') or
// sqrt(var) + eps ('std', keras-contrib's), where var below float32's smallest normal number
// counts as 0; invStd is defined as 0 where the spread (var + eps for 'variance') is below that
// number (PyTorch's InvStd is 0 at 0: a constant instance gives the bias) and as NaN where
// var, or var + eps, overflows float32.

/** Index of value (n, c, s) in the tensor: s is the position among the spatial ones. */
function at(g: TensorGeometry, n: number, c: number, s: number): number {
  return g.layout === 'nchw' ? (n * g.channels + c) * g.spatialSize + s : (n * g.spatialSize + s) * g.channels + c;
}

type Spread = Pick<CheckedCall, 'epsilon' | 'epsilonPlacement'>;

/** What an instance of variance `variance` is divided by; 0 or NaN where invStd is (see the top). */
function spread(variance: number, { epsilon, epsilonPlacement }: Spread): number {
  if (epsilonPlacement === 'variance') {
    const v = variance + epsilon;
    if (Math.fround(v) < 2 ** -126) return 0;
    return Math.fround(v) === Number.POSITIVE_INFINITY ? Number.NaN : Math.sqrt(v);
  }
  if (!(Math.fround(variance) < Number.POSITIVE_INFINITY)) return Number.NaN;
  const d = (Math.fround(variance) < 2 ** -126 ? 0 : Math.sqrt(variance)) + epsilon;
  if (Math.fround(d) < 2 ** -126) return 0;
  return Math.fround(d) === Number.POSITIVE_INFINITY ? Number.NaN : d;
}

function inverseStd(variance: number, rule: Spread): number {
  const d = spread(variance, rule);
  return d === 0 ? 0 : 1 / d;
}

function activate(v: number, activation: string, alpha: number): number {
  if (activation === 'relu') return Math.max(v, 0);
  if (activation === 'leakyRelu') return v < 0 ? v * alpha : v;
  if (activation === 'silu') return v / (1 + Math.exp(-v));
  if (activation === 'gelu') return 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
  return v;
}

const values = (array: TensorArray): Float32Array => (isUint16Array(array) ? fromFloat16Bits(array) : array);

/** scale or bias of instance (n, c): per channel, or per instance where it holds N × C values. */
function affine(array: Float32Array | undefined, fallback: number, g: TensorGeometry, n: number, c: number): number {
  if (!array) return fallback;
  return array.length === g.channels ? array[c] : array[n * g.channels + c];
}

/** Mean and biased variance of every instance, index n * C + c; with groups, each channel gets its group's. */
function moments(x: Float32Array, g: TensorGeometry, groupChannels: number): { mean: number[]; variance: number[] } {
  const mean: number[] = [];
  const variance: number[] = [];
  for (let n = 0; n < g.batch; n++) {
    for (let first = 0; first < g.channels; first += groupChannels) {
      const group: number[] = [];
      for (let c = first; c < first + groupChannels; c++) {
        for (let s = 0; s < g.spatialSize; s++) group.push(x[at(g, n, c, s)]);
      }
      const m = group.reduce((sum, v) => sum + v, 0) / group.length;
      const v = group.reduce((sum, value) => sum + (value - m) ** 2, 0) / group.length;
      for (let c = first; c < first + groupChannels; c++) {
        mean[n * g.channels + c] = m;
        variance[n * g.channels + c] = v;
      }
    }
  }
  return { mean, variance };
}

/** Each instance's mean and invStd as the call normalizes with them: the batch's, or eval mode's running ones. */
function statistics(x: Float32Array, call: CheckedCall): { mean: number[]; invStd: number[] } {
  const g = call.geometry;
  if (call.running?.use === 'normalize-with') {
    const running = call.running.stats.cpuValues();
    const mean: number[] = [];
    const invStd: number[] = [];
    for (let i = 0; i < g.instanceCount; i++) {
      mean[i] = running[i % g.channels];
      invStd[i] = inverseStd(running[g.channels + (i % g.channels)], call);
    }
    return { mean, invStd };
  }
  const { mean, variance } = moments(x, g, call.groupChannels);
  return { mean, invStd: variance.map((v) => inverseStd(v, call)) };
}

/** The reference of instanceNormCpu() and InstanceNorm.run(): same arguments, same result type. */
export function referenceInstanceNorm(input: Float32Array, shape: readonly number[], options?: InstanceNormOptions): Float32Array;
export function referenceInstanceNorm(
  input: Uint16Array,
  shape: readonly number[],
  options: InstanceNormOptions & { dataType: 'float16' },
): Uint16Array;
export function referenceInstanceNorm(input: TensorArray, shape: readonly number[], options?: InstanceNormOptions): TensorArray;
export function referenceInstanceNorm(input: TensorArray, shape: readonly number[], options?: InstanceNormOptions): TensorArray {
  const call = validateCall(shape, options);
  const g = call.geometry;
  const x = values(validateInputArray(input, g));
  const { scale, bias, residual } = call.options as { scale?: Float32Array; bias?: Float32Array; residual?: TensorArray };
  const r = residual && values(residual);
  const { activation, activationAlpha, residualPosition } = call.epilogue;
  const { mean, invStd } = statistics(x, call);
  const y = new Float64Array(g.elementCount);
  for (let n = 0; n < g.batch; n++) {
    for (let c = 0; c < g.channels; c++) {
      const i = n * g.channels + c;
      for (let s = 0; s < g.spatialSize; s++) {
        const k = at(g, n, c, s);
        let v = (x[k] - mean[i]) * invStd[i] * affine(scale, 1, g, n, c) + affine(bias, 0, g, n, c);
        if (r && residualPosition === 'before-activation') v = activate(v + r[k], activation, activationAlpha);
        else v = activate(v, activation, activationAlpha) + (r ? r[k] : 0);
        y[k] = v;
      }
    }
  }
  if (call.running?.use === 'update') updateRunning(x, g, call.running);
  return g.dataType === 'float16' ? toFloat16Bits(y) : new Float32Array(y);
}

/**
 * PyTorch's running statistics update: per channel, the batch's mean and unbiased variance
 * averaged over N, blended in with weight momentum (1 / (batches so far + 1) for momentum null).
 */
function updateRunning(x: Float32Array, g: TensorGeometry, running: CheckedRunning): void {
  const state = running.stats.cpuValues();
  const { mean, variance } = moments(x, g, 1);
  const momentum = running.momentum ?? 1 / (running.stats.batchesTracked + 1);
  for (let c = 0; c < g.channels; c++) {
    let batchMean = 0;
    let batchVariance = 0;
    for (let n = 0; n < g.batch; n++) {
      batchMean += mean[n * g.channels + c] / g.batch;
      batchVariance += (variance[n * g.channels + c] * g.spatialSize) / (g.spatialSize - 1) / g.batch;
    }
    state[c] = (1 - momentum) * state[c] + momentum * batchMean;
    state[g.channels + c] = (1 - momentum) * state[g.channels + c] + momentum * batchVariance;
  }
  running.stats.batchesTracked++;
}

/** The reference of instanceStatsCpu() and InstanceNorm.stats(). */
export function referenceStats(input: TensorArray, shape: readonly number[], options?: InstanceNormOptions): InstanceStats {
  const call = validateCall(shape, options);
  const { mean, invStd } = statistics(values(validateInputArray(input, call.geometry)), { ...call, running: undefined });
  return { mean: new Float32Array(mean), invStd: new Float32Array(invStd) };
}

/**
 * The reference of adainCpu() and InstanceNorm.adain(): the content normalized with scale the
 * spread (sqrt(var + eps), or sqrt(var) + eps) and bias mean of the same instance of the style (of its one image where N = 1).
 */
export function referenceAdain(
  content: Float32Array,
  contentShape: readonly number[],
  style: Float32Array,
  styleShape: readonly number[],
  options?: AdainOptions,
): Float32Array;
export function referenceAdain(
  content: Uint16Array,
  contentShape: readonly number[],
  style: Uint16Array,
  styleShape: readonly number[],
  options: AdainOptions & { dataType: 'float16' },
): Uint16Array;
export function referenceAdain(
  content: TensorArray,
  contentShape: readonly number[],
  style: TensorArray,
  styleShape: readonly number[],
  options?: AdainOptions,
): TensorArray {
  const { content: call, style: styleGeometry } = validateAdain(contentShape, styleShape, options);
  const { mean, variance } = moments(values(validateInputArray(style, styleGeometry, 'style')), styleGeometry, 1);
  const std = variance.map((v) => spread(v, call));
  return referenceInstanceNorm(content, contentShape, {
    ...call.options,
    scale: new Float32Array(std),
    bias: new Float32Array(mean),
  });
}

/**
 * The reference of instanceNormBackwardCpu() and InstanceNorm.backward(): with x̂ = (x - mean) ·
 * invStd and g = dy · scale, per instance dx = invStd · (g - mean(g) - x̂ · mean(g · x̂)); in eval
 * mode dx = invStd · g. gradScale = Σ dy · x̂ and gradBias = Σ dy, summed over N for per-channel ones.
 * With epsilonPlacement 'std' the spread d = σ + eps (σ = sqrt(var)) moves with x by
 * dd/dx = (x - mean) / (count · σ), so x̂ · mean(g · x̂) becomes (x - mean) / σ · mean(g · x̂); where
 * σ = 0 every x - mean is 0 and that term is taken as 0.
 */
export function referenceBackward(
  gradOutput: Float32Array,
  input: Float32Array,
  shape: readonly number[],
  options?: BackwardOptions,
): BackwardResult {
  const { call, affine: wantsAffine, evalMode } = validateBackward(shape, options);
  const g = call.geometry;
  const dy = validateInputArray(gradOutput, g, 'gradOutput');
  const x = values(validateInputArray(input, g));
  const { scale, bias, savedStats } = call.options as { scale?: Float32Array; bias?: Float32Array; savedStats?: unknown };
  const stats = savedStats === undefined || evalMode ? statistics(x, call) : validateSavedStats(savedStats, g);
  const gradInput = new Float32Array(g.elementCount);
  const gradScale = new Float64Array(scale?.length ?? g.channels);
  const gradBias = new Float64Array(bias?.length ?? g.channels);
  for (let n = 0; n < g.batch; n++) {
    for (let c = 0; c < g.channels; c++) {
      const i = n * g.channels + c;
      const xhat = (s: number) => (x[at(g, n, c, s)] - stats.mean[i]) * stats.invStd[i];
      // What x̂ · mean(g · x̂) is multiplied by: d / σ for the 'std' placement (d = 1 / invStd).
      const sigma = stats.invStd[i] === 0 ? 0 : 1 / stats.invStd[i] - call.epsilon;
      const slope = call.epsilonPlacement === 'variance' ? 1 : sigma > 0 ? 1 / (stats.invStd[i] * sigma) : 0;
      let sumDy = 0;
      let sumDyXhat = 0;
      for (let s = 0; s < g.spatialSize; s++) {
        sumDy += dy[at(g, n, c, s)];
        sumDyXhat += dy[at(g, n, c, s)] * xhat(s);
      }
      const factor = affine(scale, 1, g, n, c) * stats.invStd[i];
      for (let s = 0; s < g.spatialSize; s++) {
        const k = at(g, n, c, s);
        gradInput[k] = evalMode
          ? factor * dy[k]
          : factor * (dy[k] - sumDy / g.spatialSize - (xhat(s) * slope * sumDyXhat) / g.spatialSize);
      }
      gradScale[gradScale.length === g.channels ? c : i] += sumDyXhat;
      gradBias[gradBias.length === g.channels ? c : i] += sumDy;
    }
  }
  if (!wantsAffine) return { gradInput };
  return { gradInput, gradScale: new Float32Array(gradScale), gradBias: new Float32Array(gradBias) };
}
