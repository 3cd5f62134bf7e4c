import { argumentError } from '../core/errors';
import type { TensorGeometry } from '../core/tensor-geometry';
import { tensorBytes } from '../core/tensor-geometry';
import { isFloat32Array, isGpuBuffer, isGpuCommandEncoder } from '../core/value-kinds';
import type { AffineSource } from '../gpu/gpu-backend';
import {
  type CallOptions,
  type CheckedCall,
  checkedBuffer,
  describeKind,
  tensorDetail,
  validateAffineArray,
  validateStorageBuffer,
} from './validation';

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
export function gradAffineLength(g: TensorGeometry, affine: GpuAffine): { scale: number; bias: number } {
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
export function gpuResidual(geometry: TensorGeometry, value: unknown): GPUBuffer {
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
export function gpuSaveStats(call: CheckedCall): GPUBuffer | undefined {
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
export function gpuRunning(call: CheckedCall, device: GPUDevice): GPUBuffer | undefined {
  return call.running?.stats.gpuBufferOn(device);
}
