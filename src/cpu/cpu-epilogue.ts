import type { CheckedEpilogue } from '../core/checked-call.js';
import type { Activation } from '../core/options.js';

/** The epilogue of one element on the CPU: `value` is the affine map's result, `index` its place in the tensor. */
export type CpuEpilogue = (value: number, index: number) => number;

/**
 * The fused epilogue of shaders/epilogue.wgsl in float64: the activation, and the residual
 * added after or before it. Undefined where there is nothing to do, so the plain path pays nothing.
 */
export function cpuEpilogue(epilogue: CheckedEpilogue, residual: Float32Array | undefined): CpuEpilogue | undefined {
  const activate = activationFunction(epilogue.activation, epilogue.activationAlpha);
  if (!residual) return activate && ((v) => activate(v));
  if (epilogue.residualPosition === 'before-activation') {
    return activate ? (v, i) => activate(v + residual[i]) : (v, i) => v + residual[i];
  }
  return activate ? (v, i) => activate(v) + residual[i] : (v, i) => v + residual[i];
}

/** The activation in float64; undefined for 'none'. NaN stays NaN. */
export function activationFunction(activation: Activation, alpha: number): ((v: number) => number) | undefined {
  switch (activation) {
    case 'none':
      return undefined;
    case 'relu':
      return (v) => Math.max(v, 0);
    case 'leakyRelu':
      return (v) => (v < 0 ? v * alpha : v);
    case 'silu':
      return (v) => v / (1 + Math.exp(-v));
    case 'gelu':
      return (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
  }
}
