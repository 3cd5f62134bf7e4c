import type { CheckedCall } from '../core/checked-call.js';
import { argumentError, unsupportedError } from '../core/errors.js';
import { arrayTypeName, type TensorGeometry } from '../core/tensor-geometry.js';
import { isFloat32Array } from '../core/value-kinds.js';
import type { CpuBackward, CpuCall } from '../cpu/cpu-backend.js';
import type { CheckedBackward } from './backward-options.js';
import {
  describeKind,
  isTensorArray,
  type TensorArray,
  validateAffineArray,
  validateResidualArray,
  validateSavedStats,
} from './validation.js';

// The checks of a call that the CPU backend adds to validation.ts's: its sources are arrays,
// and its running statistics live on the CPU.

/** A call checked for the CPU backend. */
export function cpuCall(call: CheckedCall): CpuCall {
  const g = call.geometry;
  const { scale, bias, residual, saveStats } = call.options;
  if (saveStats !== undefined) {
    throw unsupportedError('saveStats needs the WebGPU backend; on the CPU, stats() gives the statistics for the backward');
  }
  call.running?.stats.cpuValues(); // throws where they live on a GPU device
  return { ...call, scale: cpuAffine('scale', scale, g), bias: cpuAffine('bias', bias, g), residual: cpuResidual(residual, g) };
}

/** A backward call checked for the CPU backend: with its saved statistics as arrays. */
export function cpuBackward(checked: CheckedBackward): CpuBackward {
  const saved = checked.call.options.savedStats;
  return {
    ...checked,
    call: cpuCall(checked.call),
    savedStats: saved === undefined ? undefined : validateSavedStats(saved, checked.call.geometry),
  };
}

function cpuAffine(name: 'scale' | 'bias', value: unknown, geometry: TensorGeometry): Float32Array | undefined {
  if (value === undefined) return undefined;
  if (!isFloat32Array(value)) {
    throw argumentError(
      name,
      `${name} must be a Float32Array of length C = ${geometry.channels} on the CPU backend, got ${describeKind(value)}`,
    );
  }
  return validateAffineArray(name, value, geometry);
}

function cpuResidual(value: unknown, geometry: TensorGeometry): TensorArray | undefined {
  if (value === undefined) return undefined;
  if (!isTensorArray(value)) {
    throw argumentError(
      'residual',
      `residual must be a ${arrayTypeName(geometry)} on the CPU backend, got ${describeKind(value)}`,
    );
  }
  return validateResidualArray(value, geometry);
}
