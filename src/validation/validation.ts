import type { CallOptions, CheckedCall, CheckedEpilogue, CheckedRunning, TensorArray } from '../core/checked-call.js';
import { describe, describeKind } from '../core/describe-value.js';
import { argumentError, InstanceNormError, unsupportedError } from '../core/errors.js';
import {
  type Activation,
  type DataType,
  DEFAULT_ACTIVATION_ALPHA,
  DEFAULT_EPSILON,
  type EpsilonPlacement,
  type InstanceStats,
  type Layout,
  type ResidualPosition,
} from '../core/options.js';
import { type OptionKeys, type OwnOptions, ownOptions } from '../core/own-options.js';
import { RunningStats } from '../core/running-stats.js';
import { arrayTypeName, type TensorGeometry, tensorGeometry } from '../core/tensor-geometry.js';
import { isFloat32Array, isGpuBuffer, isUint16Array } from '../core/value-kinds.js';
import { FORWARD_KEYS, SAVED_STATS_KEYS } from './option-keys.js';
import { canonicalOptions } from './option-names.js';

// Every check on arguments, run before anything touches the GPU. Messages name the argument,
// what was expected and what was given; errors carry the argument's name too.

const LAYOUTS: readonly Layout[] = ['nchw', 'nhwc'];
const ACTIVATIONS: readonly Activation[] = ['none', 'relu', 'leakyRelu', 'silu', 'gelu'];
const RESIDUAL_POSITIONS: readonly ResidualPosition[] = ['after-activation', 'before-activation'];
const EPSILON_PLACEMENTS: readonly EpsilonPlacement[] = ['variance', 'std'];

// Byte sizes and offsets of GPU buffers are handled as u32 here: a tensor holds at most 2^32 bytes.
const MAX_BYTES = 2 ** 32;

// The kernels hold epsilon in an f32.
const FLOAT32_MAX = 3.4028234663852886e38;

/** A call's shape and options: `keys` are the option keys the entry point takes. */
export function validateCall(shape: unknown, options: unknown, keys: OptionKeys = FORWARD_KEYS): CheckedCall {
  return checkCall(shape, ownOptions(options, keys));
}

/** A call's shape and its options as ownOptions() read them. */
export function checkCall(shape: unknown, own: OwnOptions): CheckedCall {
  const opts = canonicalOptions(own) as CallOptions;
  const layout = validateLayout(opts.layout);
  const geometry = tensorGeometry(validateShape(shape, layout), layout, validateDataType(opts.dataType));
  const epsilon = validateEpsilon(opts.epsilon ?? DEFAULT_EPSILON);
  const running = validateRunning(opts, geometry);
  return {
    options: opts,
    geometry,
    epsilon,
    epsilonPlacement: validateEpsilonPlacement(opts.epsilonPlacement),
    epilogue: validateEpilogue(opts),
    running,
    groupChannels: validateGroups(opts, geometry),
  };
}

/** Channels per group from the `groups` option: C / groups, 1 where it is absent. */
function validateGroups(opts: CallOptions, geometry: TensorGeometry): number {
  const groups = opts.groups;
  if (groups === undefined) return 1;
  if (typeof groups !== 'number' || !Number.isInteger(groups) || groups < 1 || geometry.channels % groups !== 0) {
    throw argumentError('groups', `groups must be a positive integer dividing C = ${geometry.channels}, got ${describe(groups)}`);
  }
  if (groups !== geometry.channels && opts.runningStats !== undefined) {
    throw unsupportedError('groups and runningStats cannot be combined: GroupNorm keeps no running statistics');
  }
  return geometry.channels / groups;
}

/** runningStats, training and momentum: undefined where the call has no running statistics. */
function validateRunning(opts: CallOptions, geometry: TensorGeometry): CheckedRunning | undefined {
  const training = opts.training ?? true;
  if (typeof training !== 'boolean') throw argumentError('training', `training must be a boolean, got ${describe(training)}`);
  const momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
  if (momentum !== null && (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1))) {
    throw argumentError('momentum', `momentum must be a number from 0 to 1, or null, got ${describe(momentum)}`);
  }
  const stats = opts.runningStats;
  if (stats === undefined) return undefined;
  if (!(stats instanceof RunningStats)) {
    throw argumentError('runningStats', `runningStats must be a RunningStats, got ${describe(stats)}`);
  }
  if (stats.isDestroyed) throw new InstanceNormError('runningStats were destroyed', { code: 'destroyed' });
  if (stats.channels !== geometry.channels) {
    throw argumentError('runningStats', `runningStats follow ${stats.channels} channels, expected C = ${geometry.channels}`);
  }
  if (training && geometry.spatialSize === 1) {
    throw argumentError(
      'runningStats',
      `training with runningStats needs more than one value per instance (the unbiased variance of one value is undefined), got shape ${describe(geometry.shape)}`,
    );
  }
  return { stats, use: training ? 'update' : 'normalize-with', momentum };
}

export function validateEpilogue(opts: CallOptions): CheckedEpilogue {
  const activation = opts.activation ?? 'none';
  if (!ACTIVATIONS.includes(activation)) {
    throw argumentError(
      'activation',
      `activation must be one of ${ACTIVATIONS.map(describe).join(', ')}, got ${describe(activation)}`,
    );
  }
  const activationAlpha = opts.activationAlpha ?? DEFAULT_ACTIVATION_ALPHA;
  if (typeof activationAlpha !== 'number' || !Number.isFinite(activationAlpha)) {
    throw argumentError('activationAlpha', `activationAlpha must be a finite number, got ${describe(activationAlpha)}`);
  }
  if (Math.abs(activationAlpha) > FLOAT32_MAX) {
    throw argumentError(
      'activationAlpha',
      `activationAlpha must be within float32's range, ±3.4e38, got ${describe(activationAlpha)}`,
    );
  }
  const residualPosition = opts.residualPosition ?? 'after-activation';
  if (!RESIDUAL_POSITIONS.includes(residualPosition)) {
    throw argumentError(
      'residualPosition',
      `residualPosition must be one of ${RESIDUAL_POSITIONS.map(describe).join(', ')}, got ${describe(residualPosition)}`,
    );
  }
  if (opts.perInstanceAffine !== undefined && typeof opts.perInstanceAffine !== 'boolean') {
    throw argumentError('perInstanceAffine', `perInstanceAffine must be a boolean, got ${describe(opts.perInstanceAffine)}`);
  }
  return { activation, activationAlpha, residualPosition };
}

function validateDataType(dataType: unknown): DataType {
  if (dataType === undefined) return 'float32';
  if (dataType !== 'float32' && dataType !== 'float16') {
    throw argumentError('dataType', `dataType must be 'float32' or 'float16', got ${describe(dataType)}`);
  }
  return dataType;
}

function validateLayout(layout: unknown): Layout {
  if (layout === undefined) return 'nchw';
  if (typeof layout !== 'string' || !LAYOUTS.includes(layout as Layout)) {
    throw argumentError('layout', `layout must be 'nchw' or 'nhwc', got ${describe(layout)}`);
  }
  return layout as Layout;
}

/**
 * A shape of rank 3 to 5 (1 to 3 spatial dimensions) of positive integers, copied: every index
 * is read once (a hole is undefined, and refused), so a later change to the caller's array
 * changes nothing.
 */
export function validateShape(shape: unknown, layout: Layout, name = 'shape'): readonly number[] {
  if (!Array.isArray(shape)) {
    throw argumentError(name, `${name} must be an array of positive integers, got ${describe(shape)}`);
  }
  const sizes: unknown[] = [];
  for (let axis = 0; axis < shape.length && axis < 6; axis++) sizes.push(shape[axis]);
  const expected = layout === 'nchw' ? '[N, C, ...spatial]' : '[N, ...spatial, C]';
  if (shape.length < 3 || shape.length > 5) {
    throw argumentError(
      name,
      `${name} must have rank 3, 4 or 5 (${expected} with 1 to 3 spatial dimensions), got rank ${shape.length}: ${describe(sizes)}`,
    );
  }
  sizes.forEach((size, axis) => {
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) {
      throw argumentError(name, `${name}[${axis}] must be a positive integer, got ${describe(size)} in ${describe(sizes)}`);
    }
  });
  const checked = sizes as number[];
  const elementCount = checked.reduce((a, b) => a * b, 1);
  if (elementCount * 4 > MAX_BYTES) {
    throw argumentError(
      name,
      `${name} ${describe(checked)} has ${elementCount} elements, ${elementCount * 4} bytes as float32: more than the 2^32 bytes a tensor may hold`,
    );
  }
  return checked;
}

function validateEpsilonPlacement(placement: unknown): EpsilonPlacement {
  if (placement === undefined) return 'variance';
  if (!EPSILON_PLACEMENTS.includes(placement as EpsilonPlacement)) {
    throw argumentError(
      'epsilonPlacement',
      `epsilonPlacement must be one of ${EPSILON_PLACEMENTS.map(describe).join(', ')}, got ${describe(placement)}`,
    );
  }
  return placement as EpsilonPlacement;
}

function validateEpsilon(epsilon: unknown): number {
  if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon < 0) {
    throw argumentError('epsilon', `epsilon must be a finite number ≥ 0, got ${describe(epsilon)}`);
  }
  if (epsilon > FLOAT32_MAX) {
    throw argumentError('epsilon', `epsilon must be at most float32's largest number, 3.4e38, got ${describe(epsilon)}`);
  }
  return epsilon;
}

export function isTensorArray(value: unknown): value is TensorArray {
  return isFloat32Array(value) || isUint16Array(value);
}

/** A typed array of the tensor's data type: Float32Array, or Uint16Array for 'float16'. */
function checkArrayType(value: unknown, geometry: TensorGeometry, name: string): TensorArray {
  const half = geometry.dataType === 'float16';
  if (!(half ? isUint16Array(value) : isFloat32Array(value))) {
    const hint = half
      ? " (half bits, for dataType 'float16')"
      : isUint16Array(value)
        ? " (a Uint16Array needs dataType 'float16')"
        : '';
    throw argumentError(name, `${name} must be a ${arrayTypeName(geometry)}${hint}, got ${describeKind(value)}`);
  }
  return value as TensorArray;
}

export function validateInputArray(value: unknown, geometry: TensorGeometry, name = 'input'): TensorArray {
  const input = checkArrayType(value, geometry, name);
  if (input.length !== geometry.elementCount) {
    throw argumentError(
      name,
      `${name} has length ${input.length}, expected ${geometry.elementCount} for shape ${describe(geometry.shape)}`,
    );
  }
  return input;
}

/** Saved statistics for a typed-array backward: InstanceStats of N × C values each, read as own properties. */
export function validateSavedStats(value: unknown, geometry: TensorGeometry): InstanceStats<ArrayBufferLike> {
  const expected = `{ mean, invStd } of Float32Array(N × C = ${geometry.instanceCount}) each, as stats() returns`;
  if (value === null || typeof value !== 'object') {
    throw argumentError('savedStats', `savedStats must be ${expected}, got ${describe(value)}`);
  }
  const { mean, invStd } = ownOptions(value, SAVED_STATS_KEYS, 'savedStats');
  const ok = (a: unknown) => isFloat32Array(a) && a.length === geometry.instanceCount;
  if (!ok(mean) || !ok(invStd)) {
    throw argumentError(
      'savedStats',
      `savedStats must be ${expected}, got { mean: ${describeKind(mean)}, invStd: ${describeKind(invStd)} }`,
    );
  }
  return { mean, invStd } as InstanceStats<ArrayBufferLike>;
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
  // The forward's options that adain() sets itself, or has no use for.
  for (const name of ['scale', 'bias', 'perInstanceAffine', 'runningStats', 'groups', 'saveStats'] as const) {
    if (content.options[name] !== undefined) {
      throw argumentError(name, `adain takes no ${name} option: the style's statistics are the scale and bias`);
    }
  }
  const { layout, dataType } = content.geometry;
  const style = tensorGeometry(validateShape(styleShape, layout, 'styleShape'), layout, dataType);
  const c = content.geometry;
  if (style.channels !== c.channels) {
    throw argumentError(
      'styleShape',
      `style shape ${describe(style.shape)} has C = ${style.channels}, expected the content's C = ${c.channels} (${layout})`,
    );
  }
  if (style.batch !== c.batch && style.batch !== 1) {
    throw argumentError(
      'styleShape',
      `style shape ${describe(style.shape)} has N = ${style.batch}, expected the content's N = ${c.batch} or 1`,
    );
  }
  return { content, style };
}

/** scale or bias as a Float32Array of length C, or N × C (per instance). */
export function validateAffineArray(name: 'scale' | 'bias', value: Float32Array, geometry: TensorGeometry): Float32Array {
  if (value.length !== geometry.channels && value.length !== geometry.instanceCount) {
    const perInstance = geometry.batch > 1 ? ` or N × C = ${geometry.instanceCount}` : '';
    throw argumentError(name, `${name} has length ${value.length}, expected C = ${geometry.channels}${perInstance}`);
  }
  return value;
}

/** A residual array: the input's type and element count. */
export function validateResidualArray(value: unknown, geometry: TensorGeometry): TensorArray {
  const residual = checkArrayType(value, geometry, 'residual');
  if (residual.length !== geometry.elementCount) {
    throw argumentError(
      'residual',
      `residual has length ${residual.length}, expected ${geometry.elementCount}, the input's, for shape ${describe(geometry.shape)}`,
    );
  }
  return residual;
}

/**
 * A GPUBuffer argument: STORAGE usage, not mapped, and at least `bytes` long.
 * `argument` names it in the error, `what` in messages ('input buffer', 'scale', ...).
 */
export function validateStorageBuffer(
  argument: string,
  what: string,
  buffer: GPUBuffer,
  bytes: number,
  detail: string,
): GPUBuffer {
  if ((buffer.usage & GPUBufferUsage.STORAGE) === 0) {
    throw argumentError(argument, `${what} must have GPUBufferUsage.STORAGE usage, got usage 0x${buffer.usage.toString(16)}`);
  }
  if (buffer.size < bytes) {
    throw argumentError(argument, `${what} has ${buffer.size} bytes, expected at least ${bytes} (${detail})`);
  }
  if (buffer.mapState !== 'unmapped') {
    throw argumentError(argument, `${what} is ${buffer.mapState}; unmap it before use`);
  }
  return buffer;
}

/** "12 float32 values for shape [1, 3, 4]": the size a tensor's buffer needs, for messages. */
export function tensorDetail(g: TensorGeometry): string {
  return `${g.elementCount} ${g.dataType} values for shape ${describe(g.shape)}`;
}

/** A GPUBuffer argument named `name`, of STORAGE usage and at least `bytes` long. */
export function checkedBuffer(name: string, value: unknown, bytes: number, detail: string): GPUBuffer {
  if (!isGpuBuffer(value)) throw argumentError(name, `${name} must be a GPUBuffer, got ${describeKind(value)}`);
  return validateStorageBuffer(name, `${name} buffer`, value, bytes, detail);
}

/** A buffer a call binds, by the argument that names it, and whether the call writes it. */
export interface BoundBuffer {
  readonly name: string;
  readonly buffer: GPUBuffer | undefined;
  readonly writes: boolean;
}

/**
 * Buffers the call writes may not be bound by any other of its arguments: WebGPU refuses a
 * buffer that one dispatch both writes and reads (or writes twice) at the app's submit, where
 * the library could no longer say which argument was at fault. Read-only buffers may repeat
 * (the residual may be the input).
 */
export function checkDistinctBuffers(bound: readonly BoundBuffer[]): void {
  bound.forEach((a, i) => {
    if (!a.buffer) return;
    for (const b of bound.slice(i + 1)) {
      if (b.buffer === a.buffer && (a.writes || b.writes)) {
        const written = b.writes ? b : a;
        const other = written === b ? a : b;
        throw argumentError(
          written.name,
          `${other.name} and ${written.name} are the same buffer: ${written.name} is written while ${other.name} is ${other.writes ? 'written' : 'read'}; give each a buffer of its own`,
        );
      }
    }
  });
}

export type { CallOptions, CheckedCall, CheckedEpilogue, CheckedRunning, TensorArray } from '../core/checked-call.js';
export { describe, describeKind };
