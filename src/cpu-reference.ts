import { InstanceNormError } from './errors';
import type { InstanceNormOptions } from './options';
import type { TensorGeometry } from './tensor-geometry';
import { describeKind, validateAffineArray, validateCall, validateInputArray } from './validation';

/**
 * Instance normalization on the CPU: the reference the GPU is tested against and the
 * fallback where WebGPU is missing. For every instance (n, c): mean and biased variance
 * over the spatial positions, accumulated in float64 in two passes, then
 * `y = (x - mean) / sqrt(var + epsilon) * scale[c] + bias[c]`. Synchronous.
 *
 * @param input - the tensor, `shape` in row-major order.
 * @param shape - `[N, C, ...spatial]` ('nchw') or `[N, ...spatial, C]` ('nhwc'), 1 to 3 spatial dimensions.
 * @returns a new Float32Array of the input's shape.
 * @throws InstanceNormError on bad arguments.
 *
 * @example
 * const y = instanceNormCpu(new Float32Array([1, 2, 3, 4]), [1, 1, 4]); // ≈ [-1.34, -0.45, 0.45, 1.34]
 */
export function instanceNormCpu(input: Float32Array, shape: readonly number[], options?: InstanceNormOptions): Float32Array {
  const { geometry, epsilon } = validateCall(shape, options);
  validateInputArray(input, geometry);
  const scale = cpuAffine('scale', options?.scale, geometry);
  const bias = cpuAffine('bias', options?.bias, geometry);
  const output = new Float32Array(geometry.elementCount);
  if (geometry.layout === 'nchw') {
    normalizeChannelsFirst(input, output, geometry, epsilon, scale, bias);
  } else {
    normalizeChannelsLast(input, output, geometry, epsilon, scale, bias);
  }
  return output;
}

function cpuAffine(name: 'scale' | 'bias', value: unknown, geometry: TensorGeometry): Float32Array | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Float32Array)) {
    throw new InstanceNormError(
      `${name} must be a Float32Array of length C = ${geometry.channels} on the CPU backend, got ${describeKind(value)}`,
    );
  }
  return validateAffineArray(name, value, geometry);
}

// Each instance is a contiguous run of spatialSize elements.
function normalizeChannelsFirst(
  input: Float32Array, output: Float32Array, g: TensorGeometry, epsilon: number,
  scale: Float32Array | undefined, bias: Float32Array | undefined,
): void {
  const size = g.spatialSize;
  for (let instance = 0; instance < g.instanceCount; instance++) {
    const start = instance * size;
    const end = start + size;
    let sum = 0;
    for (let i = start; i < end; i++) sum += input[i];
    const mean = sum / size;
    let squares = 0;
    for (let i = start; i < end; i++) {
      const d = input[i] - mean;
      squares += d * d;
    }
    const c = instance % g.channels;
    const factor = (scale ? scale[c] : 1) / Math.sqrt(squares / size + epsilon);
    const offset = bias ? bias[c] : 0;
    for (let i = start; i < end; i++) output[i] = (input[i] - mean) * factor + offset;
  }
}

// The C instances of one image interleave: accumulate all channels of a position together.
function normalizeChannelsLast(
  input: Float32Array, output: Float32Array, g: TensorGeometry, epsilon: number,
  scale: Float32Array | undefined, bias: Float32Array | undefined,
): void {
  const C = g.channels;
  const size = g.spatialSize;
  const mean = new Float64Array(C);
  const factor = new Float64Array(C);
  for (let n = 0; n < g.batch; n++) {
    const start = n * size * C;
    const end = start + size * C;
    mean.fill(0);
    for (let i = start; i < end; i += C) for (let c = 0; c < C; c++) mean[c] += input[i + c];
    for (let c = 0; c < C; c++) mean[c] /= size;
    factor.fill(0);
    for (let i = start; i < end; i += C) {
      for (let c = 0; c < C; c++) {
        const d = input[i + c] - mean[c];
        factor[c] += d * d;
      }
    }
    for (let c = 0; c < C; c++) factor[c] = (scale ? scale[c] : 1) / Math.sqrt(factor[c] / size + epsilon);
    for (let i = start; i < end; i += C) {
      for (let c = 0; c < C; c++) output[i + c] = (input[i + c] - mean[c]) * factor[c] + (bias ? bias[c] : 0);
    }
  }
}
