import { argumentError } from '../core/errors.js';
import type { InstanceStats } from '../core/options.js';
import type { TensorGeometry } from '../core/tensor-geometry.js';
import { tensorBytes } from '../core/tensor-geometry.js';
import { isFloat32Array, isGpuBuffer, isGpuCommandEncoder } from '../core/value-kinds.js';
import type { AffineSource } from '../gpu/gpu-backend.js';
import type { CheckedBackward } from './backward-options.js';
import {
  type BoundBuffer,
  type CallOptions,
  type CheckedCall,
  checkDistinctBuffers,
  checkedBuffer,
  describeKind,
  isTensorArray,
  type TensorArray,
  tensorDetail,
  validateAffineArray,
  validateResidualArray,
  validateSavedStats,
  validateStorageBuffer,
} from './validation.js';

// The checks of a GPU call's buffers, beside validation.ts's checks of shapes and options: all
// of them run before the library touches the caller's encoder.

/** scale and bias checked for the GPU, with whether each holds N × C values. */
export interface GpuAffine {
  readonly scale?: AffineSource;
  readonly bias?: AffineSource;
  readonly scalePerInstance: boolean;
  readonly biasPerInstance: boolean;
}

/** The caller's command encoder: a GPUCommandEncoder (not a pass encoder, not null). */
export function checkedEncoder(encoder: unknown): GPUCommandEncoder {
  if (!isGpuCommandEncoder(encoder)) {
    throw argumentError('encoder', `encoder must be a GPUCommandEncoder, got ${describeKind(encoder)}`);
  }
  return encoder;
}

/**
 * scale and bias checked for the GPU: Float32Array of C or N × C values (per instance), or
 * GPUBuffer of C values, N × C with `perInstanceAffine`.
 */
export function gpuAffine(geometry: TensorGeometry, options: CallOptions): GpuAffine {
  const perInstanceBuffers = options.perInstanceAffine === true;
  const bufferFloats = perInstanceBuffers ? geometry.instanceCount : geometry.channels;
  const bufferDetail = perInstanceBuffers ? `N × C = ${bufferFloats} float32 values` : `C = ${bufferFloats} float32 values`;
  const check = (name: 'scale' | 'bias', value: unknown): Float32Array | GPUBuffer | undefined => {
    if (value === undefined) return undefined;
    if (isFloat32Array(value)) return validateAffineArray(name, value, geometry);
    if (isGpuBuffer(value)) return validateStorageBuffer(name, name, value, bufferFloats * 4, bufferDetail);
    throw argumentError(
      name,
      `${name} must be a Float32Array or GPUBuffer of length C = ${geometry.channels} (or N × C), got ${describeKind(value)}`,
    );
  };
  const perInstance = (value: Float32Array | GPUBuffer | undefined) =>
    isFloat32Array(value) ? value.length !== geometry.channels : value !== undefined && perInstanceBuffers;
  const scale = check('scale', options.scale);
  const bias = check('bias', options.bias);
  return { scale, bias, scalePerInstance: perInstance(scale), biasPerInstance: perInstance(bias) };
}

/** Floats of the gradients of scale then bias, for the backward's gradAffine. */
function gradAffineLength(g: TensorGeometry, affine: GpuAffine): { scale: number; bias: number } {
  return {
    scale: affine.scalePerInstance ? g.instanceCount : g.channels,
    bias: affine.biasPerInstance ? g.instanceCount : g.channels,
  };
}

/** The input (or content) and output buffers of a normalization: both the tensor's size. */
export function checkInputOutput(
  input: unknown,
  output: unknown,
  g: TensorGeometry,
  inputName: string,
  outputName = 'output',
): { input: GPUBuffer; output: GPUBuffer } {
  const checked = {
    input: checkedBuffer(inputName, input, tensorBytes(g), tensorDetail(g)),
    output: checkedBuffer(outputName, output, tensorBytes(g), tensorDetail(g)),
  };
  if (checked.input === checked.output) {
    throw argumentError(
      outputName,
      `${inputName} and ${outputName} are the same buffer: in-place normalization is not supported`,
    );
  }
  return checked;
}

/** A residual buffer of the input's size. */
function gpuResidual(geometry: TensorGeometry, value: unknown): GPUBuffer {
  if (!isGpuBuffer(value)) {
    throw argumentError(
      'residual',
      `residual must be a GPUBuffer for encode() (run() also takes a Float32Array), got ${describeKind(value)}`,
    );
  }
  return validateStorageBuffer('residual', 'residual', value, tensorBytes(geometry), tensorDetail(geometry));
}

/** A buffer of a call's statistics (saveStats, savedStats): 2 × N × C floats. */
export function statsBuffer(name: string, value: unknown, g: TensorGeometry): GPUBuffer {
  const count = g.instanceCount;
  return checkedBuffer(
    name,
    value,
    2 * count * 4,
    `2 × N × C = ${2 * count} float32 values: means, then 1 / sqrt(var + epsilon)`,
  );
}

/** The forward's saveStats buffer, where the forward has batch statistics to save. */
function gpuSaveStats(call: CheckedCall): GPUBuffer | undefined {
  const value = call.options.saveStats;
  if (value === undefined) return undefined;
  if (call.groupChannels > 1) {
    throw argumentError('saveStats', 'saveStats and groups cannot be combined: GroupNorm has no backward yet');
  }
  if (call.running?.use === 'normalize-with') {
    throw argumentError(
      'saveStats',
      'saveStats in eval mode: the forward uses the running statistics, which the backward reads itself',
    );
  }
  return statsBuffer('saveStats', value, call.geometry);
}

/** The running statistics' buffer on `device`, where the call has them. */
function gpuRunning(call: CheckedCall, device: GPUDevice): GPUBuffer | undefined {
  return call.running?.stats.gpuBufferOn(device);
}

/** A forward call's sources, checked for the GPU. */
export interface GpuSources extends GpuAffine {
  /** A residual buffer of the caller's. */
  readonly residual?: GPUBuffer;
  /** A residual array (run()), to upload. */
  readonly residualArray?: TensorArray;
  readonly saveStats?: GPUBuffer;
  /** The running statistics' buffer on the device, where the call has them. */
  readonly runningBuffer?: GPUBuffer;
}

/**
 * A forward call's scale, bias, residual, saveStats and running statistics checked for the GPU
 * (a typed-array residual only where the call `uploads` it, as run() does), and no buffer the
 * call writes being any other of its buffers, `tensors` (input and output) included.
 */
export function gpuSources(call: CheckedCall, device: GPUDevice, tensors: readonly BoundBuffer[], uploads: boolean): GpuSources {
  const g = call.geometry;
  const affine = gpuAffine(g, call.options);
  const given = call.options.residual;
  const residualArray = uploads && isTensorArray(given) ? validateResidualArray(given, g) : undefined;
  const residual = given === undefined || residualArray ? undefined : gpuResidual(g, given);
  const saveStats = gpuSaveStats(call);
  const runningBuffer = gpuRunning(call, device);
  checkDistinctBuffers([
    ...tensors,
    { name: 'scale', buffer: asBuffer(affine.scale), writes: false },
    { name: 'bias', buffer: asBuffer(affine.bias), writes: false },
    { name: 'residual', buffer: residual, writes: false },
    { name: 'saveStats', buffer: saveStats, writes: true },
    { name: 'runningStats', buffer: runningBuffer, writes: true },
  ]);
  return { ...affine, residual, residualArray, saveStats, runningBuffer };
}

/** A backward call's sources, checked for the GPU. */
export interface GpuBackwardSources extends GpuAffine {
  /** The forward's statistics in a buffer of the caller's. */
  readonly savedStats?: GPUBuffer;
  /** The forward's statistics as arrays (backward()), to upload as [means; invStds]. */
  readonly savedArray?: Float32Array;
  /** The buffer of the caller's that receives the gradients of scale then bias (encodeBackward()). */
  readonly gradAffine?: GPUBuffer;
  /** Floats of the scale gradient and of the bias gradient. */
  readonly gradLengths: { readonly scale: number; readonly bias: number };
}

/**
 * A backward call's scale, saved statistics (arrays only where the call `uploads` them) and
 * eval mode's running statistics checked for the GPU, and its written buffers distinct from
 * every other, `tensors` included.
 */
export function gpuBackwardSources(
  checked: CheckedBackward,
  device: GPUDevice,
  tensors: readonly BoundBuffer[],
  uploads: boolean,
  gradAffineBuffer?: unknown,
): GpuBackwardSources {
  const { call } = checked;
  const g = call.geometry;
  const affine = gpuAffine(g, call.options);
  const gradLengths = gradAffineLength(g, affine);
  const floats = gradLengths.scale + gradLengths.bias;
  const gradAffine =
    gradAffineBuffer === undefined
      ? undefined
      : checkedBuffer(
          'gradAffine',
          gradAffineBuffer,
          floats * 4,
          `${floats} float32 values: the scale gradient, then the bias gradient`,
        );
  const saved = call.options.savedStats;
  if (!uploads && saved !== undefined && !isGpuBuffer(saved)) {
    throw argumentError(
      'savedStats',
      `savedStats must be a GPUBuffer for encodeBackward() (backward() also takes stats() arrays), got ${describeKind(saved)}`,
    );
  }
  const savedStats = isGpuBuffer(saved) ? statsBuffer('savedStats', saved, g) : undefined;
  const savedArray = saved !== undefined && !savedStats ? concatStats(validateSavedStats(saved, g)) : undefined;
  const running = checked.evalMode ? gpuRunning(call, device) : undefined;
  checkDistinctBuffers([
    ...tensors,
    { name: 'gradAffine', buffer: gradAffine, writes: true },
    { name: 'scale', buffer: asBuffer(affine.scale), writes: false },
    { name: 'savedStats', buffer: savedStats, writes: true },
    { name: 'runningStats', buffer: running, writes: true },
  ]);
  return { ...affine, gradAffine, savedStats, savedArray, gradLengths };
}

/** The buffer behind an affine source, where it is one of the caller's. */
function asBuffer(value: unknown): GPUBuffer | undefined {
  return isGpuBuffer(value) ? value : undefined;
}

/** [means; invStds] of saved statistics, as the forward's saveStats buffer holds them. */
function concatStats(stats: InstanceStats<ArrayBufferLike>): Float32Array {
  const out = new Float32Array(2 * stats.mean.length);
  out.set(stats.mean);
  out.set(stats.invStd, stats.mean.length);
  return out;
}
