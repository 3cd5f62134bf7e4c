import type { TensorGeometry } from '../core/tensor-geometry.js';
import { affineAt, affineFactor, type OutputMap, type SpreadRule } from './cpu-affine.js';
import { mergeGroupMoments } from './cpu-group-moments.js';
import { CPU_KERNELS_WASM_BASE64 } from './cpu-kernels-wasm.js';

// The CPU fallback's loops in WebAssembly SIMD (wasm/cpu-kernels.wat), where the engine has
// it: float64 lanes two at a time where JavaScript has one. The arithmetic is that of
// cpu-reference.ts's loops, so results match them up to the order of float64 additions.
// The tensor goes through the module's memory in chunks of whole instances (nchw) or whole
// images (nhwc): copied in, its statistics taken, normalized there, copied out.

/** The exports of wasm/cpu-kernels.wat; addresses and strides in bytes. */
interface CpuKernels {
  readonly memory: WebAssembly.Memory;
  sum8(p: number, end: number, stride: number, acc: number): void;
  square8(p: number, end: number, stride: number, means: number, acc: number): void;
  write8(p: number, end: number, stride: number, lanes: number): void;
  write8Silu(p: number, end: number, stride: number, lanes: number): void;
  contiguousMoments(p: number, instances: number, size: number, stats: number, scratch: number): void;
  contiguousWrite(p: number, instances: number, size: number, stats: number, scratch: number, silu: number): void;
}

// Bytes per tile of the nhwc passes (256 KiB): every block of lanes finds the tile in cache.
const TILE_BYTES = 262144;
// Values per chunk (1 MiB), unless one instance or image is larger: the chunk stays in cache
// between the passes, and the module's memory stays small.
const CHUNK_VALUES = 262144;
// A call that needed more memory than this (one huge instance) leaves the instance behind.
const KEPT_MEMORY_BYTES = 16 * 2 ** 20;
// Above this the chunk does not fit a 32-bit memory with room to spare: JavaScript's loops.
const MAX_CHUNK_BYTES = 2 ** 30;

// Memory map: scratch lanes for the contiguous kernels, then the statistics, then the chunk.
const SCRATCH = 0;
const SCRATCH_BYTES = 192;
const STATS = SCRATCH_BYTES;
// Per instance of the contiguous kernels, float64: mean and sum of squared deviations, then
// mean, factor and offset.
const CONTIGUOUS_STATS_BYTES = 24;
// Per block of eight nhwc lanes (at most C blocks): lanes of sums, squares, means, factors,
// offsets (float64).
const BLOCK_STATS_BYTES = 320;
const SUMS = 0;
const SQUARES = 64;
const MEANS = 128;
const FACTORS = 192;
const OFFSETS = 256;

let compiled: WebAssembly.Module | null | undefined;
let kept: CpuKernels | undefined;
let enabled = true;

/**
 * Normalizes `input` into `output` with the SIMD kernels where they apply: float32 output, no
 * epilogue or SiLU alone, and an engine with WebAssembly SIMD.
 * False where they do not, having written nothing.
 */
export function normalizeWithSimd(
  input: Float32Array,
  output: Float32Array | Float64Array,
  g: TensorGeometry,
  rule: SpreadRule,
  map: OutputMap,
  groupChannels = 1,
): boolean {
  if (!(output instanceof Float32Array) || (map.finish && !map.silu)) return false;
  const contiguous = g.layout === 'nchw' || g.channels === 1;
  const unitValues = contiguous ? g.spatialSize : g.spatialSize * g.channels;
  // nchw chunks of whole groups (a group is groupChannels consecutive instances).
  const unit = contiguous ? groupChannels : 1;
  const unitsPerChunk = unit * Math.max(1, Math.floor(CHUNK_VALUES / (unitValues * unit)));
  const chunkBytes = unitsPerChunk * unitValues * 4;
  if (chunkBytes > MAX_CHUNK_BYTES) return false;
  const statsBytes = contiguous ? unitsPerChunk * CONTIGUOUS_STATS_BYTES : g.channels * BLOCK_STATS_BYTES;
  const data = Math.ceil((STATS + statsBytes) / 64) * 64;
  const k = kernelsWithMemory(data + chunkBytes);
  if (!k) return false;
  const units = contiguous ? g.instanceCount : g.batch;
  const C = g.channels;
  const perChannel = {
    means: new Float64Array(C),
    squares: new Float64Array(C),
    factors: new Float64Array(C),
    offsets: new Float64Array(C),
  };
  for (let first = 0; first < units; first += unitsPerChunk) {
    const count = Math.min(unitsPerChunk, units - first);
    const values = count * unitValues;
    const heap = new Float32Array(k.memory.buffer);
    heap.set(input.subarray(first * unitValues, first * unitValues + values), data / 4);
    if (contiguous) {
      normalizeContiguousInstances(k, data, first, count, g, rule, map, groupChannels);
    } else {
      for (let image = 0; image < count; image++) {
        normalizeImage(k, data + image * unitValues * 4, first + image, g, rule, map, perChannel, groupChannels);
      }
    }
    output.set(heap.subarray(data / 4, data / 4 + values), first * unitValues);
  }
  if (k.memory.buffer.byteLength > KEPT_MEMORY_BYTES) kept = undefined;
  return true;
}

/** Runs `run` with the SIMD kernels switched off: the JavaScript loops, for tests to compare. */
export function withoutSimd<T>(run: () => T): T {
  const before = enabled;
  enabled = false;
  try {
    return run();
  } finally {
    enabled = before;
  }
}

/** Whether this engine runs the SIMD kernels (WebAssembly with SIMD, not switched off). */
export function simdAvailable(): boolean {
  return enabled && compiledKernels() !== null;
}

// `count` nchw instances from instance `first`, contiguous at `data`, normalized in place.
function normalizeContiguousInstances(
  k: CpuKernels,
  data: number,
  first: number,
  count: number,
  g: TensorGeometry,
  rule: SpreadRule,
  { scale, bias, silu }: OutputMap,
  groupChannels: number,
): void {
  const size = g.spatialSize;
  const C = g.channels;
  k.contiguousMoments(data, count, size, STATS, SCRATCH);
  const stats = new Float64Array(k.memory.buffer, STATS, count * 3);
  // Variances in place of the sums of squares, each group's moments given to its instances.
  for (let i = 0; i < count; i++) stats[3 * i + 1] /= size;
  for (let i = 0; groupChannels > 1 && i < count; i += groupChannels) {
    mergeGroupMoments(stats, 3 * i, stats, 3 * i + 1, 3, groupChannels);
  }
  for (let i = 0; i < count; i++) {
    const c = (first + i) % C;
    const n = (first + i - c) / C;
    stats[3 * i + 1] = affineFactor(scale, n, c, C, stats[3 * i + 1], rule);
    stats[3 * i + 2] = affineAt(bias, 0, n, c, C);
  }
  k.contiguousWrite(data, count, size, STATS, SCRATCH, silu ? 1 : 0);
}

// nhwc image n at `image`, normalized in place. Read as a contiguous run, the image repeats
// its channels every `period` = lcm(C, 8) values: lane k of block b (values 8b .. 8b + 7 of a
// period) always holds channel (8b + k) mod C. So the eight-lane kernels step one period at a
// time, one block after another, and the lanes of a channel are added up afterwards; the last
// positions that do not fill a period (fewer than 8) are done here. Each pass goes over the
// image tile by tile, every block visiting a tile while it is in cache. No closures: a new
// function per call kept V8 from optimizing the loops that called it.
function normalizeImage(
  k: CpuKernels,
  image: number,
  n: number,
  g: TensorGeometry,
  rule: SpreadRule,
  map: OutputMap,
  perChannel: PerChannel,
  groupChannels: number,
): void {
  const C = g.channels;
  const size = g.spatialSize;
  const period = (C * 8) / Math.min(8, C & -C);
  const blocks = period / 8;
  const stride = period * 4;
  const end = image + size * C * 4;
  const periodsEnd = image + Math.floor((size * C) / period) * stride;
  const tile = Math.max(1, Math.floor(TILE_BYTES / stride)) * stride;
  const values = new Float32Array(k.memory.buffer);
  const lanes = new Float64Array(k.memory.buffer);
  const { means, squares, factors, offsets } = perChannel;
  lanes.fill(0, STATS / 8, (STATS + blocks * BLOCK_STATS_BYTES) / 8);
  for (let t = image; t < periodsEnd; t += tile) {
    for (let b = 0; b < blocks; b++) k.sum8(t + 32 * b, Math.min(periodsEnd, t + tile), stride, blockField(b, SUMS));
  }
  gatherLanes(lanes, blocks, SUMS, C, means);
  for (let i = periodsEnd / 4, c = 0; i < end / 4; i++, c = (c + 1) % C) means[c] += values[i];
  for (let c = 0; c < C; c++) means[c] /= size;
  scatterLanes(lanes, blocks, MEANS, C, means);
  for (let t = image; t < periodsEnd; t += tile) {
    for (let b = 0; b < blocks; b++) {
      k.square8(t + 32 * b, Math.min(periodsEnd, t + tile), stride, blockField(b, MEANS), blockField(b, SQUARES));
    }
  }
  gatherLanes(lanes, blocks, SQUARES, C, squares);
  for (let i = periodsEnd / 4, c = 0; i < end / 4; i++, c = (c + 1) % C) squares[c] += (values[i] - means[c]) ** 2;
  for (let c = 0; c < C; c++) squares[c] /= size;
  if (groupChannels > 1) {
    // Each channel its group's mean (the write below subtracts it) and variance.
    for (let c = 0; c < C; c += groupChannels) mergeGroupMoments(means, c, squares, c, 1, groupChannels);
    scatterLanes(lanes, blocks, MEANS, C, means);
  }
  for (let c = 0; c < C; c++) {
    factors[c] = affineFactor(map.scale, n, c, C, squares[c], rule);
    offsets[c] = affineAt(map.bias, 0, n, c, C);
  }
  scatterLanes(lanes, blocks, FACTORS, C, factors);
  scatterLanes(lanes, blocks, OFFSETS, C, offsets);
  const write8 = map.silu ? k.write8Silu : k.write8;
  for (let t = image; t < periodsEnd; t += tile) {
    for (let b = 0; b < blocks; b++) write8(t + 32 * b, Math.min(periodsEnd, t + tile), stride, blockField(b, MEANS));
  }
  // The last positions, fewer than a period: SiLU as the epilogue computes it.
  for (let i = periodsEnd / 4, c = 0; i < end / 4; i++, c = (c + 1) % C) {
    const v = (values[i] - means[c]) * factors[c] + offsets[c];
    values[i] = map.silu ? v / (1 + Math.exp(-v)) : v;
  }
}

/** normalizeImage's float64 arrays of C values, made once per call (a typed array per image measured slower). */
interface PerChannel {
  readonly means: Float64Array;
  readonly squares: Float64Array;
  readonly factors: Float64Array;
  readonly offsets: Float64Array;
}

// The address of the lanes of `field` of block b.
function blockField(block: number, field: number): number {
  return STATS + block * BLOCK_STATS_BYTES + field;
}

// perChannel[c] = the sum of the lanes of `field` that hold channel c.
function gatherLanes(lanes: Float64Array, blocks: number, field: number, C: number, perChannel: Float64Array): void {
  perChannel.fill(0);
  for (let b = 0; b < blocks; b++) {
    const first = blockField(b, field) / 8;
    for (let lane = 0; lane < 8; lane++) perChannel[(8 * b + lane) % C] += lanes[first + lane];
  }
}

// Each lane of `field` = perChannel of the channel it holds.
function scatterLanes(lanes: Float64Array, blocks: number, field: number, C: number, perChannel: Float64Array): void {
  for (let b = 0; b < blocks; b++) {
    const first = blockField(b, field) / 8;
    for (let lane = 0; lane < 8; lane++) lanes[first + lane] = perChannel[(8 * b + lane) % C];
  }
}

// The kernels with at least `bytes` of memory; undefined where there are none (no WebAssembly
// SIMD, switched off, or the memory could not grow).
function kernelsWithMemory(bytes: number): CpuKernels | undefined {
  if (!enabled) return undefined;
  const module = compiledKernels();
  if (!module) return undefined;
  try {
    kept ??= new WebAssembly.Instance(module).exports as unknown as CpuKernels;
    const missing = bytes - kept.memory.buffer.byteLength;
    if (missing > 0) kept.memory.grow(Math.ceil(missing / 65536));
    return kept;
  } catch {
    return undefined;
  }
}

// Compiled once; null where the engine has no WebAssembly, no SIMD, or forbids compiling it (a
// content security policy without 'wasm-unsafe-eval').
function compiledKernels(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  compiled = null;
  if (typeof WebAssembly === 'undefined') return compiled;
  const bytes = Uint8Array.from(atob(CPU_KERNELS_WASM_BASE64), (ch) => ch.charCodeAt(0));
  try {
    if (WebAssembly.validate(bytes)) compiled = new WebAssembly.Module(bytes);
  } catch {
    compiled = null;
  }
  return compiled;
}
