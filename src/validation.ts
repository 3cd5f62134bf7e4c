import { describe, describeKind } from './describe-value';
import { InstanceNormError } from './errors';
import { canonicalOptions } from './option-names';
import {
  type Activation,
  type DataType,
  DEFAULT_ACTIVATION_ALPHA,
  DEFAULT_EPSILON,
  type InstanceNormOptions,
  type InstanceStats,
  type Layout,
  type ResidualPosition,
} from './options';
import type { RunningStatsUse } from './planner';
import { RunningStats } from './running-stats';
import { arrayTypeName, type TensorGeometry, tensorGeometry } from './tensor-geometry';

// Every check on arguments, run before anything touches the GPU. Messages name the argument,
// what was expected and what was given.

const LAYOUTS: readonly Layout[] = ['nchw', 'nhwc'];
const ACTIVATIONS: readonly Activation[] = ['none', 'relu', 'leakyRelu', 'silu', 'gelu'];
const RESIDUAL_POSITIONS: readonly ResidualPosition[] = ['after-activation', 'before-activation'];

// Byte sizes and offsets of GPU buffers are handled as u32 here: a tensor holds at most 2^32 bytes.
const MAX_BYTES = 2 ** 32;

/** The epilogue's options, checked; whether there is a residual is the residual argument's business. */
export interface CheckedEpilogue {
  readonly activation: Activation;
  readonly activationAlpha: number;
  readonly residualPosition: ResidualPosition;
}

/** How a call uses its running statistics, checked. */
export interface CheckedRunning {
  readonly stats: RunningStats;
  readonly use: RunningStatsUse;
  /** The batch's weight in the update: momentum, or 1 / (updates so far + 1) for momentum null. */
  readonly momentum: number | null;
}

/** The backend-independent part of a call: shape, layout, epsilon, epilogue, running statistics, checked. */
export interface CheckedCall {
  readonly geometry: TensorGeometry;
  readonly epsilon: number;
  readonly epilogue: CheckedEpilogue;
  readonly running?: CheckedRunning;
  /** Channels per normalization group: 1 for instance norm, C / groups for GroupNorm. */
  readonly groupChannels: number;
}

export function validateCall(shape: unknown, options: unknown): CheckedCall {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new InstanceNormError(`options must be an object or undefined, got ${describe(options)}`);
  }
  const opts = canonicalOptions((options ?? {}) as InstanceNormOptions) ?? {};
  const layout = validateLayout(opts.layout);
  const geometry = tensorGeometry(validateShape(shape, layout), layout, validateDataType(opts.dataType));
  const epsilon = validateEpsilon(opts.epsilon ?? DEFAULT_EPSILON);
  const running = validateRunning(opts, geometry);
  return { geometry, epsilon, epilogue: validateEpilogue(opts), running, groupChannels: validateGroups(opts, geometry) };
}

/** Channels per group from the `groups` option: C / groups, 1 where it is absent. */
function validateGroups(opts: InstanceNormOptions, geometry: TensorGeometry): number {
  const groups = opts.groups;
  if (groups === undefined) return 1;
  if (typeof groups !== 'number' || !Number.isInteger(groups) || groups < 1 || geometry.channels % groups !== 0) {
    throw new InstanceNormError(`groups must be a positive integer dividing C = ${geometry.channels}, got ${describe(groups)}`);
  }
  if (groups !== geometry.channels && opts.runningStats !== undefined) {
    throw new InstanceNormError('groups and runningStats cannot be combined: GroupNorm keeps no running statistics');
  }
  return geometry.channels / groups;
}

/** runningStats, training and momentum: undefined where the call has no running statistics. */
function validateRunning(opts: InstanceNormOptions, geometry: TensorGeometry): CheckedRunning | undefined {
  const training = opts.training ?? true;
  if (typeof training !== 'boolean') throw new InstanceNormError(`training must be a boolean, got ${describe(training)}`);
  const momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
  if (momentum !== null && (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1))) {
    throw new InstanceNormError(`momentum must be a number from 0 to 1, or null, got ${describe(momentum)}`);
  }
  const stats = opts.runningStats;
  if (stats === undefined) return undefined;
  if (!(stats instanceof RunningStats)) {
    throw new InstanceNormError(`runningStats must be a RunningStats, got ${describe(stats)}`);
  }
  if (stats.channels !== geometry.channels) {
    throw new InstanceNormError(`runningStats follow ${stats.channels} channels, expected C = ${geometry.channels}`);
  }
  if (training && geometry.spatialSize === 1) {
    throw new InstanceNormError(
      `training with runningStats needs more than one value per instance (the unbiased variance of one value is undefined), got shape ${describe(geometry.shape)}`,
    );
  }
  return { stats, use: training ? 'update' : 'normalize-with', momentum };
}

export function validateEpilogue(opts: InstanceNormOptions): CheckedEpilogue {
  const activation = opts.activation ?? 'none';
  if (!ACTIVATIONS.includes(activation)) {
    throw new InstanceNormError(`activation must be one of ${ACTIVATIONS.map(describe).join(', ')}, got ${describe(activation)}`);
  }
  const activationAlpha = opts.activationAlpha ?? DEFAULT_ACTIVATION_ALPHA;
  if (typeof activationAlpha !== 'number' || !Number.isFinite(activationAlpha)) {
    throw new InstanceNormError(`activationAlpha must be a finite number, got ${describe(activationAlpha)}`);
  }
  const residualPosition = opts.residualPosition ?? 'after-activation';
  if (!RESIDUAL_POSITIONS.includes(residualPosition)) {
    throw new InstanceNormError(
      `residualPosition must be one of ${RESIDUAL_POSITIONS.map(describe).join(', ')}, got ${describe(residualPosition)}`,
    );
  }
  if (opts.perInstanceAffine !== undefined && typeof opts.perInstanceAffine !== 'boolean') {
    throw new InstanceNormError(`perInstanceAffine must be a boolean, got ${describe(opts.perInstanceAffine)}`);
  }
  return { activation, activationAlpha, residualPosition };
}

function validateDataType(dataType: unknown): DataType {
  if (dataType === undefined) return 'float32';
  if (dataType !== 'float32' && dataType !== 'float16') {
    throw new InstanceNormError(`dataType must be 'float32' or 'float16', got ${describe(dataType)}`);
  }
  return dataType;
}

export function validateLayout(layout: unknown): Layout {
  if (layout === undefined) return 'nchw';
  if (typeof layout !== 'string' || !LAYOUTS.includes(layout as Layout)) {
    throw new InstanceNormError(`layout must be 'nchw' or 'nhwc', got ${describe(layout)}`);
  }
  return layout as Layout;
}

/** A shape of rank 3 to 5 (1 to 3 spatial dimensions) of positive integers. */
export function validateShape(shape: unknown, layout: Layout): readonly number[] {
  if (!Array.isArray(shape)) {
    throw new InstanceNormError(`shape must be an array of positive integers, got ${describe(shape)}`);
  }
  const expected = layout === 'nchw' ? '[N, C, ...spatial]' : '[N, ...spatial, C]';
  if (shape.length < 3 || shape.length > 5) {
    throw new InstanceNormError(
      `shape must have rank 3, 4 or 5 (${expected} with 1 to 3 spatial dimensions), got rank ${shape.length}: ${describe(shape)}`,
    );
  }
  shape.forEach((size: unknown, axis) => {
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) {
      throw new InstanceNormError(`shape[${axis}] must be a positive integer, got ${describe(size)} in ${describe(shape)}`);
    }
  });
  const elementCount = (shape as number[]).reduce((a, b) => a * b, 1);
  if (elementCount * 4 > MAX_BYTES) {
    throw new InstanceNormError(
      `shape ${describe(shape)} has ${elementCount} elements, ${elementCount * 4} bytes as float32: more than the 2^32 bytes a tensor may hold`,
    );
  }
  return shape as number[];
}

export function validateEpsilon(epsilon: unknown): number {
  if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon < 0) {
    throw new InstanceNormError(`epsilon must be a finite number ≥ 0, got ${describe(epsilon)}`);
  }
  return epsilon;
}

/** A tensor on the CPU: a Float32Array, or for `dataType: 'float16'` a Uint16Array of half bits. */
export type TensorArray = Float32Array | Uint16Array;

/** A typed array of the tensor's data type: Float32Array, or Uint16Array for 'float16'. */
function checkArrayType(value: unknown, geometry: TensorGeometry, name: string): TensorArray {
  const half = geometry.dataType === 'float16';
  if (!(half ? value instanceof Uint16Array : value instanceof Float32Array)) {
    const hint = half
      ? " (half bits, for dataType 'float16')"
      : value instanceof Uint16Array
        ? " (a Uint16Array needs dataType 'float16')"
        : '';
    throw new InstanceNormError(`${name} must be a ${arrayTypeName(geometry)}${hint}, got ${describeKind(value)}`);
  }
  return value as TensorArray;
}

/** Saved statistics for a typed-array backward: InstanceStats of N × C values each. */
export function validateSavedStats(value: unknown, geometry: TensorGeometry): InstanceStats<ArrayBufferLike> {
  const stats = value as Partial<InstanceStats> | null;
  const ok = (a: unknown) => a instanceof Float32Array && a.length === geometry.instanceCount;
  if (stats === null || typeof stats !== 'object' || !ok(stats.mean) || !ok(stats.invStd)) {
    throw new InstanceNormError(
      `savedStats must be { mean, invStd } of Float32Array(N × C = ${geometry.instanceCount}) each, as stats() returns, got ${describe(value)}`,
    );
  }
  return stats as InstanceStats<ArrayBufferLike>;
}

export function isTensorArray(value: unknown): value is TensorArray {
  return value instanceof Float32Array || value instanceof Uint16Array;
}

export function validateInputArray(value: unknown, geometry: TensorGeometry, name = 'input'): TensorArray {
  const input = checkArrayType(value, geometry, name);
  if (input.length !== geometry.elementCount) {
    throw new InstanceNormError(
      `${name} has length ${input.length}, expected ${geometry.elementCount} for shape ${describe(geometry.shape)}`,
    );
  }
  return input;
}

/**
 * The shapes and options of adain(): the content's call, and the style's geometry (same layout
 * and C, N equal to the content's or 1, any spatial size).
 */
export function validateAdain(
  contentShape: unknown,
  styleShape: unknown,
  options: unknown,
): { content: CheckedCall; style: TensorGeometry } {
  const content = validateCall(contentShape, options);
  for (const name of ['scale', 'weight', 'bias', 'perInstanceAffine', 'runningStats', 'groups', 'saveStats'] as const) {
    if ((options as Record<string, unknown> | undefined)?.[name] !== undefined) {
      throw new InstanceNormError(`adain takes no ${name} option: the style's statistics are the scale and bias`);
    }
  }
  const { layout, dataType } = content.geometry;
  const style = tensorGeometry(validateShape(styleShape, layout), layout, dataType);
  const c = content.geometry;
  if (style.channels !== c.channels) {
    throw new InstanceNormError(
      `style shape ${describe(style.shape)} has C = ${style.channels}, expected the content's C = ${c.channels} (${layout})`,
    );
  }
  if (style.batch !== c.batch && style.batch !== 1) {
    throw new InstanceNormError(
      `style shape ${describe(style.shape)} has N = ${style.batch}, expected the content's N = ${c.batch} or 1`,
    );
  }
  return { content, style };
}

/** scale or bias as a Float32Array of length C, or N × C (per instance). */
export function validateAffineArray(name: 'scale' | 'bias', value: Float32Array, geometry: TensorGeometry): Float32Array {
  if (value.length !== geometry.channels && value.length !== geometry.instanceCount) {
    const perInstance = geometry.batch > 1 ? ` or N × C = ${geometry.instanceCount}` : '';
    throw new InstanceNormError(`${name} has length ${value.length}, expected C = ${geometry.channels}${perInstance}`);
  }
  return value;
}

/** A residual array: the input's type and element count. */
export function validateResidualArray(value: unknown, geometry: TensorGeometry): TensorArray {
  const residual = checkArrayType(value, geometry, 'residual');
  if (residual.length !== geometry.elementCount) {
    throw new InstanceNormError(
      `residual has length ${residual.length}, expected ${geometry.elementCount}, the input's, for shape ${describe(geometry.shape)}`,
    );
  }
  return residual;
}

/**
 * A GPUBuffer argument: STORAGE usage, not mapped, and at least `bytes` long.
 * `what` names it in messages ('input buffer', 'scale', ...).
 */
export function validateStorageBuffer(what: string, buffer: GPUBuffer, bytes: number, detail: string): GPUBuffer {
  if ((buffer.usage & GPUBufferUsage.STORAGE) === 0) {
    throw new InstanceNormError(`${what} must have GPUBufferUsage.STORAGE usage, got usage 0x${buffer.usage.toString(16)}`);
  }
  if (buffer.size < bytes) {
    throw new InstanceNormError(`${what} has ${buffer.size} bytes, expected at least ${bytes} (${detail})`);
  }
  if (buffer.mapState !== 'unmapped') {
    throw new InstanceNormError(`${what} is ${buffer.mapState}; unmap it before use`);
  }
  return buffer;
}

export function isGpuBuffer(value: unknown): value is GPUBuffer {
  return typeof GPUBuffer !== 'undefined' && value instanceof GPUBuffer;
}

export { describe, describeKind };
