import type { CheckedCall, CheckedRunning, TensorArray } from '../core/checked-call.js';
import { fromFloat16Bits, toFloat16Bits } from '../core/float16.js';
import type { BackwardResult, InstanceStats } from '../core/options.js';
import type { TensorGeometry } from '../core/tensor-geometry.js';
import { isUint16Array } from '../core/value-kinds.js';
import { affineAt, affineFactor, inverseStd, type OutputMap, type SpreadRule, spread, spreadSlope } from './cpu-affine.js';
import { type CpuEpilogue, cpuEpilogue } from './cpu-epilogue.js';
import { mergeGroupMoments } from './cpu-group-moments.js';
import { normalizeWithSimd } from './cpu-simd.js';

// The CPU backend: the fallback where WebGPU is missing. It takes calls validation checked
// (src/validation/cpu-validation.ts) and checks nothing again; the public functions of
// src/api/cpu-functions.ts validate and hand over.

/** A call checked for the CPU: scale and bias as arrays (C or N × C values), the residual as the input's array type. */
export interface CpuCall extends CheckedCall {
  readonly scale?: Float32Array;
  readonly bias?: Float32Array;
  readonly residual?: TensorArray;
}

/** A backward call checked for the CPU. */
export interface CpuBackward {
  readonly call: CpuCall;
  /** Whether the gradients of scale and bias are wanted. */
  readonly affine: boolean;
  /** The forward normalized with running statistics. */
  readonly evalMode: boolean;
  /** The forward's statistics, where given. */
  readonly savedStats?: InstanceStats<ArrayBufferLike>;
}

/**
 * Instance normalization of a checked call on the CPU, in float64: for every instance (n, c)
 * the mean and biased variance over its positions in two passes, then
 * y = (x - mean) · invStd · scale + bias, then the epilogue; halves rounded once from float64.
 * Its loops run in WebAssembly SIMD where the engine allows it (the same arithmetic), else in JavaScript.
 */
export function normalizeOnCpu(call: CpuCall, input: TensorArray): TensorArray {
  const { geometry, epilogue, running, groupChannels } = call;
  const values = float32Values(input);
  const map: OutputMap = {
    scale: call.scale,
    bias: call.bias,
    finish: cpuEpilogue(epilogue, call.residual && float32Values(call.residual)),
    silu: epilogue.activation === 'silu' && !call.residual,
  };
  // Halves are rounded once, from float64.
  const half = geometry.dataType === 'float16';
  const output = half ? new Float64Array(geometry.elementCount) : new Float32Array(geometry.elementCount);
  if (running?.use === 'normalize-with') {
    normalizeWithStatistics(values, output, geometry, runningStatistics(geometry, call, running.stats.cpuValues()), map);
  } else if (groupChannels > 1) {
    // The SIMD loops merge each group's moments themselves where they apply (cpu-simd.ts).
    if (!normalizeWithSimd(values, output, geometry, call, map, groupChannels)) {
      const { mean, variance } = groupMoments(values, geometry, groupChannels);
      normalizeWithStatistics(values, output, geometry, { mean, invStd: variance.map((v) => inverseStd(v, call)) }, map);
    }
  } else {
    normalizeInstances(values, output, geometry, call, map);
  }
  if (running?.use === 'update') updateRunningStats(values, geometry, running);
  return half ? toFloat16Bits(output) : (output as Float32Array);
}

// Each instance's own statistics: by the WebAssembly SIMD loops where they apply (cpu-simd.ts),
// else by JavaScript's below, which compute the same.
function normalizeInstances(
  input: Float32Array,
  output: Float32Array | Float64Array,
  g: TensorGeometry,
  rule: SpreadRule,
  map: OutputMap,
): void {
  if (normalizeWithSimd(input, output, g, rule, map)) return;
  if (g.layout === 'nchw' || g.channels === 1) {
    // With one channel, nhwc and nchw lie alike in memory.
    normalizeChannelsFirst(input, output, g, rule, map);
  } else {
    normalizeChannelsLast(input, output, g, rule, map);
  }
}

/** A tensor's values as float32: half bits converted exactly. */
function float32Values(array: TensorArray): Float32Array {
  return isUint16Array(array) ? fromFloat16Bits(array) : array;
}

/**
 * PyTorch's running statistics update in float64: per channel, the batch's mean and unbiased
 * variance averaged over N, blended in with weight momentum (1 / updates for momentum null).
 */
function updateRunningStats(input: Float32Array, g: TensorGeometry, running: CheckedRunning): void {
  const values = running.stats.cpuValues();
  const { mean, variance } = instanceMoments(input, g);
  const momentum = running.momentum ?? 1 / (running.stats.batchesTracked + 1);
  const unbias = g.spatialSize / (g.spatialSize - 1);
  const C = g.channels;
  for (let c = 0; c < C; c++) {
    let meanSum = 0;
    let varianceSum = 0;
    for (let n = 0; n < g.batch; n++) {
      meanSum += mean[n * C + c];
      varianceSum += variance[n * C + c] * unbias;
    }
    values[c] = (1 - momentum) * values[c] + (momentum * meanSum) / g.batch;
    values[C + c] = (1 - momentum) * values[C + c] + (momentum * varianceSum) / g.batch;
  }
  running.stats.batchesTracked++;
}

/**
 * y = (x - mean) · invStd · scale + bias, then the epilogue, with given statistics per instance
 * (index n * C + c): eval mode's running statistics, GroupNorm's group statistics. By instance:
 * a contiguous run each in nchw; in nhwc position by position, the image's channels in arrays.
 */
function normalizeWithStatistics(
  input: Float32Array,
  output: Float32Array | Float64Array,
  g: TensorGeometry,
  { mean, invStd }: { mean: Float64Array; invStd: Float64Array },
  { scale, bias, finish }: OutputMap,
): void {
  const C = g.channels;
  const size = g.spatialSize;
  if (g.layout === 'nchw' || C === 1) {
    for (let instance = 0; instance < g.instanceCount; instance++) {
      const c = instance % C;
      const n = (instance - c) / C;
      const m = mean[instance];
      const factor = invStd[instance] * affineAt(scale, 1, n, c, C);
      const offset = affineAt(bias, 0, n, c, C);
      const end = (instance + 1) * size;
      if (finish) {
        for (let i = instance * size; i < end; i++) output[i] = finish((input[i] - m) * factor + offset, i);
      } else {
        for (let i = instance * size; i < end; i++) output[i] = (input[i] - m) * factor + offset;
      }
    }
    return;
  }
  const means = new Float64Array(C);
  const factors = new Float64Array(C);
  const offsets = new Float64Array(C);
  for (let n = 0; n < g.batch; n++) {
    for (let c = 0; c < C; c++) {
      means[c] = mean[n * C + c];
      factors[c] = invStd[n * C + c] * affineAt(scale, 1, n, c, C);
      offsets[c] = affineAt(bias, 0, n, c, C);
    }
    writeImage(input, output, n * size * C, (n + 1) * size * C, C, means, factors, offsets, finish);
  }
}

// One nhwc image from `start` to `end`, its channels' statistics in arrays; a function of its
// own, without closures, so that V8 optimizes its loops (normalizeChannelsLast).
function writeImage(
  input: Float32Array,
  output: Float32Array | Float64Array,
  start: number,
  end: number,
  C: number,
  means: Float64Array,
  factors: Float64Array,
  offsets: Float64Array,
  finish: CpuEpilogue | undefined,
): void {
  for (let p = start; p < end; p += C) {
    if (finish) {
      for (let c = 0; c < C; c++) output[p + c] = finish((input[p + c] - means[c]) * factors[c] + offsets[c], p + c);
    } else {
      for (let c = 0; c < C; c++) output[p + c] = (input[p + c] - means[c]) * factors[c] + offsets[c];
    }
  }
}

/** Eval mode's statistics: each instance those of its channel's running mean and variance. */
function runningStatistics(
  g: TensorGeometry,
  rule: SpreadRule,
  running: Float32Array,
): { mean: Float64Array; invStd: Float64Array } {
  const C = g.channels;
  const mean = new Float64Array(g.instanceCount);
  const invStd = new Float64Array(g.instanceCount);
  for (let instance = 0; instance < g.instanceCount; instance++) {
    const c = instance % C;
    mean[instance] = running[c];
    invStd[instance] = inverseStd(running[C + c], rule);
  }
  return { mean, invStd };
}

/**
 * GroupNorm's statistics, given to each instance of a group: the mean and biased variance over
 * all values of the group's channels, combined exactly from the per-channel ones (equal counts:
 * the variance is the mean variance plus the variance of the means).
 */
function groupMoments(
  input: Float32Array,
  g: TensorGeometry,
  groupChannels: number,
): { mean: Float64Array; variance: Float64Array } {
  const { mean, variance } = instanceMoments(input, g);
  for (let first = 0; groupChannels > 1 && first < g.instanceCount; first += groupChannels) {
    mergeGroupMoments(mean, first, variance, first, 1, groupChannels);
  }
  return { mean, variance };
}

/** The statistics of every instance of a checked call (each channel's its group's with groups), float64 two-pass. */
export function statsOnCpu(call: CheckedCall, input: TensorArray): InstanceStats {
  const { mean, variance } = groupMoments(float32Values(input), call.geometry, call.groupChannels);
  return { mean: new Float32Array(mean), invStd: new Float32Array(variance.map((v) => inverseStd(v, call))) };
}

/**
 * Mean and biased variance of every instance (n, c), index n * C + c: float64, two passes. In
 * nhwc each pass goes over an image once, position by position, adding to every channel's sum.
 */
function instanceMoments(input: Float32Array, g: TensorGeometry): { mean: Float64Array; variance: Float64Array } {
  const mean = new Float64Array(g.instanceCount);
  const variance = new Float64Array(g.instanceCount);
  const C = g.channels;
  const size = g.spatialSize;
  if (g.layout === 'nchw' || C === 1) {
    for (let instance = 0; instance < g.instanceCount; instance++) {
      const first = instance * size;
      const end = first + size;
      let sum = 0;
      for (let i = first; i < end; i++) sum += input[i];
      const m = sum / size;
      let squares = 0;
      for (let i = first; i < end; i++) squares += (input[i] - m) ** 2;
      mean[instance] = m;
      variance[instance] = squares / size;
    }
    return { mean, variance };
  }
  for (let n = 0; n < g.batch; n++) {
    const image = mean.subarray(n * C, (n + 1) * C);
    const squares = variance.subarray(n * C, (n + 1) * C);
    addImageSums(input, n * size * C, (n + 1) * size * C, C, image);
    for (let c = 0; c < C; c++) image[c] /= size;
    addImageSquares(input, n * size * C, (n + 1) * size * C, C, image, squares);
    for (let c = 0; c < C; c++) squares[c] /= size;
  }
  return { mean, variance };
}

function addImageSums(input: Float32Array, start: number, end: number, C: number, sums: Float64Array): void {
  for (let p = start; p < end; p += C) {
    for (let c = 0; c < C; c++) sums[c] += input[p + c];
  }
}

function addImageSquares(
  input: Float32Array,
  start: number,
  end: number,
  C: number,
  means: Float64Array,
  squares: Float64Array,
): void {
  for (let p = start; p < end; p += C) {
    for (let c = 0; c < C; c++) squares[c] += (input[p + c] - means[c]) ** 2;
  }
}

/**
 * AdaIN of a checked call on the CPU: `content` normalized with the spread sqrt(var + epsilon)
 * (or sqrt(var) + epsilon) and the mean of the same instance of `style` (of its only image where the
 * style has N = 1) as scale and bias, then the epilogue. Float64 statistics.
 */
export function adainOnCpu(call: CpuCall, content: TensorArray, style: TensorArray, styleGeometry: TensorGeometry): TensorArray {
  const { mean, variance } = instanceMoments(float32Values(style), styleGeometry);
  const std = variance.map((v) => spread(v, call));
  return normalizeOnCpu({ ...call, scale: new Float32Array(std), bias: new Float32Array(mean) }, content);
}

// Each instance is a contiguous run of spatialSize elements. Four partial sums per pass let
// the CPU overlap the additions (float64: the order is immaterial to the result).
function normalizeChannelsFirst(
  input: Float32Array,
  output: Float32Array | Float64Array,
  g: TensorGeometry,
  rule: SpreadRule,
  { scale, bias, finish }: OutputMap,
): void {
  const size = g.spatialSize;
  const tail = size % 4;
  for (let instance = 0; instance < g.instanceCount; instance++) {
    const start = instance * size;
    const end = start + size;
    const blocksEnd = end - tail;
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0;
    for (let i = start; i < blocksEnd; i += 4) {
      s0 += input[i];
      s1 += input[i + 1];
      s2 += input[i + 2];
      s3 += input[i + 3];
    }
    for (let i = blocksEnd; i < end; i++) s0 += input[i];
    const mean = (s0 + s1 + s2 + s3) / size;
    let q0 = 0,
      q1 = 0,
      q2 = 0,
      q3 = 0;
    for (let i = start; i < blocksEnd; i += 4) {
      const d0 = input[i] - mean,
        d1 = input[i + 1] - mean,
        d2 = input[i + 2] - mean,
        d3 = input[i + 3] - mean;
      q0 += d0 * d0;
      q1 += d1 * d1;
      q2 += d2 * d2;
      q3 += d3 * d3;
    }
    for (let i = blocksEnd; i < end; i++) q0 += (input[i] - mean) ** 2;
    const c = instance % g.channels;
    const n = (instance - c) / g.channels;
    const factor = affineFactor(scale, n, c, g.channels, (q0 + q1 + q2 + q3) / size, rule);
    const offset = affineAt(bias, 0, n, c, g.channels);
    if (finish) {
      for (let i = start; i < end; i++) output[i] = finish((input[i] - mean) * factor + offset, i);
    } else {
      for (let i = start; i < end; i++) output[i] = (input[i] - mean) * factor + offset;
    }
  }
}

// Values per tile of the nhwc passes with C >= 8: 256 KB, so that every block of channels finds
// the tile in cache.
const NHWC_TILE_VALUES = 65536;

// The C instances of an image interleave with stride C. Eight adjacent channels per loop (four
// where C < 8), kept in locals, read 32 contiguous bytes per position, where one channel at a
// time would read a cache line per value. Past the last multiple, a final block overlaps
// channels already done (and writes the same values again); C = 2 or 3 have a loop of their own.
// With C >= 8 each pass goes over the image in tiles, every block of channels visiting a tile
// while it is in cache, and each loop is a small function of its own, called many times per
// call: V8 optimizes those fully within a call or two, where one function holding three long
// loops ran in on-stack-replacement code, deoptimizing at each loop's end, for ten calls or
// more. No closures reach the loops (a new call target each call deoptimized them too).
function normalizeChannelsLast(
  input: Float32Array,
  output: Float32Array | Float64Array,
  g: TensorGeometry,
  rule: SpreadRule,
  map: OutputMap,
): void {
  const C = g.channels;
  if (C >= 8) {
    normalizeInBlocksOfEight(input, output, g, rule, map);
    return;
  }
  for (let n = 0; n < g.batch; n++) {
    if (C === 2 || C === 3) {
      normalizeFewChannels(input, output, n, g, rule, map);
    } else {
      normalizeFourChannels(input, output, n, 0, g, rule, map);
      if (C > 4) normalizeFourChannels(input, output, n, C - 4, g, rule, map);
    }
  }
}

// nhwc with C >= 8: per image, sums, then squared deviations, then the output, each pass in
// tiles. Lane k of block b (channel blockChannel(b) + k) keeps its moments at index 8b + k.
function normalizeInBlocksOfEight(
  input: Float32Array,
  output: Float32Array | Float64Array,
  g: TensorGeometry,
  rule: SpreadRule,
  { scale, bias, finish }: OutputMap,
): void {
  const C = g.channels;
  const size = g.spatialSize;
  const blocks = Math.ceil(C / 8);
  const sums = new Float64Array(8 * blocks);
  const squares = new Float64Array(8 * blocks);
  const means = new Float64Array(8 * blocks);
  const factors = new Float64Array(8 * blocks);
  const offsets = new Float64Array(8 * blocks);
  const tile = Math.max(1, Math.floor(NHWC_TILE_VALUES / C)) * C;
  for (let n = 0; n < g.batch; n++) {
    const start = n * size * C;
    const end = start + size * C;
    sums.fill(0);
    squares.fill(0);
    for (let t = start; t < end; t += tile) {
      for (let b = 0; b < blocks; b++) sumEight(input, t + blockChannel(b, C), Math.min(end, t + tile), C, sums, 8 * b);
    }
    for (let k = 0; k < 8 * blocks; k++) means[k] = sums[k] / size;
    for (let t = start; t < end; t += tile) {
      for (let b = 0; b < blocks; b++) {
        squareEight(input, t + blockChannel(b, C), Math.min(end, t + tile), C, means, squares, 8 * b);
      }
    }
    for (let b = 0; b < blocks; b++) {
      for (let lane = 8 * b, c = blockChannel(b, C); lane < 8 * b + 8; lane++, c++) {
        factors[lane] = affineFactor(scale, n, c, C, squares[lane] / size, rule);
        offsets[lane] = affineAt(bias, 0, n, c, C);
      }
    }
    for (let t = start; t < end; t += tile) {
      for (let b = 0; b < blocks; b++) {
        const lanes = { means, factors, offsets, lane: 8 * b };
        writeEight(input, output, t + blockChannel(b, C), Math.min(end, t + tile), C, lanes, finish);
      }
    }
  }
}

// The first of block b's eight channels: the last block ends at channel C - 1, overlapping.
function blockChannel(block: number, channels: number): number {
  return Math.min(8 * block, channels - 8);
}

// Adds the values of eight adjacent channels at positions first, first + C, ... below end to
// sums[lane .. lane + 7].
function sumEight(input: Float32Array, first: number, end: number, C: number, sums: Float64Array, lane: number): void {
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0,
    s4 = 0,
    s5 = 0,
    s6 = 0,
    s7 = 0;
  for (let i = first; i < end; i += C) {
    s0 += input[i];
    s1 += input[i + 1];
    s2 += input[i + 2];
    s3 += input[i + 3];
    s4 += input[i + 4];
    s5 += input[i + 5];
    s6 += input[i + 6];
    s7 += input[i + 7];
  }
  sums[lane] += s0;
  sums[lane + 1] += s1;
  sums[lane + 2] += s2;
  sums[lane + 3] += s3;
  sums[lane + 4] += s4;
  sums[lane + 5] += s5;
  sums[lane + 6] += s6;
  sums[lane + 7] += s7;
}

// As sumEight, for the squared deviations from means[lane .. lane + 7].
function squareEight(
  input: Float32Array,
  first: number,
  end: number,
  C: number,
  means: Float64Array,
  squares: Float64Array,
  lane: number,
): void {
  const m0 = means[lane],
    m1 = means[lane + 1],
    m2 = means[lane + 2],
    m3 = means[lane + 3],
    m4 = means[lane + 4],
    m5 = means[lane + 5],
    m6 = means[lane + 6],
    m7 = means[lane + 7];
  let q0 = 0,
    q1 = 0,
    q2 = 0,
    q3 = 0,
    q4 = 0,
    q5 = 0,
    q6 = 0,
    q7 = 0;
  for (let i = first; i < end; i += C) {
    const d0 = input[i] - m0,
      d1 = input[i + 1] - m1,
      d2 = input[i + 2] - m2,
      d3 = input[i + 3] - m3,
      d4 = input[i + 4] - m4,
      d5 = input[i + 5] - m5,
      d6 = input[i + 6] - m6,
      d7 = input[i + 7] - m7;
    q0 += d0 * d0;
    q1 += d1 * d1;
    q2 += d2 * d2;
    q3 += d3 * d3;
    q4 += d4 * d4;
    q5 += d5 * d5;
    q6 += d6 * d6;
    q7 += d7 * d7;
  }
  squares[lane] += q0;
  squares[lane + 1] += q1;
  squares[lane + 2] += q2;
  squares[lane + 3] += q3;
  squares[lane + 4] += q4;
  squares[lane + 5] += q5;
  squares[lane + 6] += q6;
  squares[lane + 7] += q7;
}

/** Per lane of a block of eight channels: mean, factor and offset, from index `lane`. */
interface EightLanes {
  readonly means: Float64Array;
  readonly factors: Float64Array;
  readonly offsets: Float64Array;
  readonly lane: number;
}

// y = (x - mean) · factor + offset, then the epilogue, for eight adjacent channels at positions
// first, first + C, ... below end.
function writeEight(
  input: Float32Array,
  output: Float32Array | Float64Array,
  first: number,
  end: number,
  C: number,
  { means, factors, offsets, lane }: EightLanes,
  finish: CpuEpilogue | undefined,
): void {
  const m0 = means[lane],
    m1 = means[lane + 1],
    m2 = means[lane + 2],
    m3 = means[lane + 3],
    m4 = means[lane + 4],
    m5 = means[lane + 5],
    m6 = means[lane + 6],
    m7 = means[lane + 7];
  const f0 = factors[lane],
    f1 = factors[lane + 1],
    f2 = factors[lane + 2],
    f3 = factors[lane + 3],
    f4 = factors[lane + 4],
    f5 = factors[lane + 5],
    f6 = factors[lane + 6],
    f7 = factors[lane + 7];
  const o0 = offsets[lane],
    o1 = offsets[lane + 1],
    o2 = offsets[lane + 2],
    o3 = offsets[lane + 3],
    o4 = offsets[lane + 4],
    o5 = offsets[lane + 5],
    o6 = offsets[lane + 6],
    o7 = offsets[lane + 7];
  if (finish) {
    for (let i = first; i < end; i += C) {
      output[i] = finish((input[i] - m0) * f0 + o0, i);
      output[i + 1] = finish((input[i + 1] - m1) * f1 + o1, i + 1);
      output[i + 2] = finish((input[i + 2] - m2) * f2 + o2, i + 2);
      output[i + 3] = finish((input[i + 3] - m3) * f3 + o3, i + 3);
      output[i + 4] = finish((input[i + 4] - m4) * f4 + o4, i + 4);
      output[i + 5] = finish((input[i + 5] - m5) * f5 + o5, i + 5);
      output[i + 6] = finish((input[i + 6] - m6) * f6 + o6, i + 6);
      output[i + 7] = finish((input[i + 7] - m7) * f7 + o7, i + 7);
    }
  } else {
    for (let i = first; i < end; i += C) {
      output[i] = (input[i] - m0) * f0 + o0;
      output[i + 1] = (input[i + 1] - m1) * f1 + o1;
      output[i + 2] = (input[i + 2] - m2) * f2 + o2;
      output[i + 3] = (input[i + 3] - m3) * f3 + o3;
      output[i + 4] = (input[i + 4] - m4) * f4 + o4;
      output[i + 5] = (input[i + 5] - m5) * f5 + o5;
      output[i + 6] = (input[i + 6] - m6) * f6 + o6;
      output[i + 7] = (input[i + 7] - m7) * f7 + o7;
    }
  }
}

// Channels c to c + 3 of image n (nhwc).
function normalizeFourChannels(
  input: Float32Array,
  output: Float32Array | Float64Array,
  n: number,
  c: number,
  g: TensorGeometry,
  rule: SpreadRule,
  { scale, bias, finish }: OutputMap,
): void {
  const C = g.channels;
  const size = g.spatialSize;
  const start = n * size * C;
  const end = start + size * C;
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
  for (let i = start + c; i < end; i += C) {
    s0 += input[i];
    s1 += input[i + 1];
    s2 += input[i + 2];
    s3 += input[i + 3];
  }
  const m0 = s0 / size,
    m1 = s1 / size,
    m2 = s2 / size,
    m3 = s3 / size;
  let q0 = 0,
    q1 = 0,
    q2 = 0,
    q3 = 0;
  for (let i = start + c; i < end; i += C) {
    const d0 = input[i] - m0,
      d1 = input[i + 1] - m1,
      d2 = input[i + 2] - m2,
      d3 = input[i + 3] - m3;
    q0 += d0 * d0;
    q1 += d1 * d1;
    q2 += d2 * d2;
    q3 += d3 * d3;
  }
  const f0 = affineFactor(scale, n, c, C, q0 / size, rule),
    f1 = affineFactor(scale, n, c + 1, C, q1 / size, rule),
    f2 = affineFactor(scale, n, c + 2, C, q2 / size, rule),
    f3 = affineFactor(scale, n, c + 3, C, q3 / size, rule);
  const o0 = affineAt(bias, 0, n, c, C),
    o1 = affineAt(bias, 0, n, c + 1, C),
    o2 = affineAt(bias, 0, n, c + 2, C),
    o3 = affineAt(bias, 0, n, c + 3, C);
  if (finish) {
    for (let i = start + c; i < end; i += C) {
      output[i] = finish((input[i] - m0) * f0 + o0, i);
      output[i + 1] = finish((input[i + 1] - m1) * f1 + o1, i + 1);
      output[i + 2] = finish((input[i + 2] - m2) * f2 + o2, i + 2);
      output[i + 3] = finish((input[i + 3] - m3) * f3 + o3, i + 3);
    }
  } else {
    for (let i = start + c; i < end; i += C) {
      output[i] = (input[i] - m0) * f0 + o0;
      output[i + 1] = (input[i + 1] - m1) * f1 + o1;
      output[i + 2] = (input[i + 2] - m2) * f2 + o2;
      output[i + 3] = (input[i + 3] - m3) * f3 + o3;
    }
  }
}

// C = 2 or 3 channels of image n (nhwc) in one pass over the positions, as the blocks of four
// do (one channel per pass reads the image C times): a lane of value per channel, the missing
// third read as the second again when C = 2 (its results are written first and overwritten).
function normalizeFewChannels(
  input: Float32Array,
  output: Float32Array | Float64Array,
  n: number,
  g: TensorGeometry,
  rule: SpreadRule,
  { scale, bias, finish }: OutputMap,
): void {
  const C = g.channels;
  const size = g.spatialSize;
  const start = n * size * C;
  const end = start + size * C;
  const last = C - 1; // channel of the third lane: 2, or 1 again when C = 2
  let s0 = 0,
    s1 = 0,
    s2 = 0;
  for (let i = start; i < end; i += C) {
    s0 += input[i];
    s1 += input[i + 1];
    s2 += input[i + last];
  }
  const m0 = s0 / size,
    m1 = s1 / size,
    m2 = s2 / size;
  let q0 = 0,
    q1 = 0,
    q2 = 0;
  for (let i = start; i < end; i += C) {
    const d0 = input[i] - m0,
      d1 = input[i + 1] - m1,
      d2 = input[i + last] - m2;
    q0 += d0 * d0;
    q1 += d1 * d1;
    q2 += d2 * d2;
  }
  const f0 = affineFactor(scale, n, 0, C, q0 / size, rule),
    f1 = affineFactor(scale, n, 1, C, q1 / size, rule),
    f2 = affineFactor(scale, n, last, C, q2 / size, rule);
  const o0 = affineAt(bias, 0, n, 0, C),
    o1 = affineAt(bias, 0, n, 1, C),
    o2 = affineAt(bias, 0, n, last, C);
  if (finish) {
    for (let i = start; i < end; i += C) {
      output[i + last] = finish((input[i + last] - m2) * f2 + o2, i + last);
      output[i] = finish((input[i] - m0) * f0 + o0, i);
      output[i + 1] = finish((input[i + 1] - m1) * f1 + o1, i + 1);
    }
  } else {
    for (let i = start; i < end; i += C) {
      output[i + last] = (input[i + last] - m2) * f2 + o2;
      output[i] = (input[i] - m0) * f0 + o0;
      output[i + 1] = (input[i + 1] - m1) * f1 + o1;
    }
  }
}

/**
 * The backward pass of a checked call on the CPU, in float64: with x̂ the normalized input and
 * g = dy · scale, per instance dx = (g - mean(g) - x̂ · slope · mean(g · x̂)) / d with d the spread
 * sqrt(var + eps) (slope 1) or sqrt(var) + eps (slope d / sqrt(var): spreadSlope); in eval mode the
 * affine map's dx = g / d of the running variance. gradScale = Σ dy · x̂ and gradBias = Σ dy, summed
 * over N (per instance for per-instance ones), where the call asks for them.
 */
export function backwardOnCpu(checked: CpuBackward, gradOutput: Float32Array, input: Float32Array): BackwardResult {
  const { call, affine, evalMode } = checked;
  const g = call.geometry;
  const { scale, bias } = call;
  const biasLength = bias?.length ?? g.channels;
  const statistics = backwardStatistics(input, g, call, checked.savedStats);
  const C = g.channels;
  const S = g.spatialSize;
  const stride = g.layout === 'nhwc' ? C : 1;
  const gradInput = new Float32Array(g.elementCount);
  const gradScale = new Float64Array(scale?.length ?? C);
  const gradBias = new Float64Array(biasLength);
  for (let instance = 0; instance < g.instanceCount; instance++) {
    const n = Math.floor(instance / C);
    const c = instance % C;
    const first = g.layout === 'nhwc' ? n * S * C + c : instance * S;
    const mean = statistics.mean[instance];
    const invStd = statistics.invStd[instance];
    let sumDy = 0;
    let sumDyXhat = 0;
    for (let k = 0, i = first; k < S; k++, i += stride) {
      sumDy += gradOutput[i];
      sumDyXhat += gradOutput[i] * (input[i] - mean) * invStd;
    }
    const factor = affineAt(scale, 1, n, c, C) * invStd;
    const meanDy = evalMode ? 0 : sumDy / S;
    const meanDyXhat = evalMode ? 0 : (sumDyXhat / S) * spreadSlope(invStd, call);
    for (let k = 0, i = first; k < S; k++, i += stride) {
      gradInput[i] = factor * (gradOutput[i] - meanDy - (input[i] - mean) * invStd * meanDyXhat);
    }
    gradScale[gradScale.length === C ? c : instance] += sumDyXhat;
    gradBias[gradBias.length === C ? c : instance] += sumDy;
  }
  if (!affine) return { gradInput };
  return { gradInput, gradScale: new Float32Array(gradScale), gradBias: new Float32Array(gradBias) };
}

/** Each instance's mean and 1 / spread for the backward: saved, running (eval) or computed in float64. */
function backwardStatistics(
  input: Float32Array,
  g: TensorGeometry,
  call: CheckedCall,
  saved: InstanceStats<ArrayBufferLike> | undefined,
): { mean: ArrayLike<number>; invStd: ArrayLike<number> } {
  if (call.running?.use === 'normalize-with') return runningStatistics(g, call, call.running.stats.cpuValues());
  if (saved !== undefined) return saved;
  const { mean, variance } = instanceMoments(input, g);
  return { mean, invStd: variance.map((v) => inverseStd(v, call)) };
}
