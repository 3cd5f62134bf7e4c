import * as tf from '@tensorflow/tfjs-core';
import { type Activation, type EpsilonPlacement, InstanceNormError, type Layout, type ResidualPosition } from '../index.js';

/** Where the channels are, in TF.js's words: `'channelsLast'` (`[N, ...spatial, C]`, TF.js's default) or `'channelsFirst'` (`[N, C, ...spatial]`). */
export type DataFormat = 'channelsLast' | 'channelsFirst';

/**
 * The activation applied in the pass that writes the output: `'linear'` (none, the default),
 * `'relu'`, `'leakyrelu'` (slope `leakyreluAlpha` below zero), `'silu'` (x · sigmoid(x)) and
 * `'gelu'` (the tanh form, Keras's `gelu(approximate=True)`). TF.js's fused ops use the same names.
 */
export type TfjsActivation = 'linear' | 'relu' | 'leakyrelu' | 'silu' | 'gelu';

/** A tensor, or what `tf.tensor()` takes (a nested array or a typed array), of float32 values. */
export type TensorOrLike = tf.Tensor | tf.TensorLike;

/** The options every op of this entry point takes. */
export interface NormalizationOpOptions {
  /** Added to the variance, default 1e-3 (Keras's and `tf.batchNorm`'s default), or to the standard deviation (`epsilonPlacement`). */
  epsilon?: number;
  /**
   * `'variance'` (default): y = (x − mean) / sqrt(var + ε), as Keras, TensorFlow Addons and
   * `tf.batchNorm`; `'std'`: y = (x − mean) / (sqrt(var) + ε), as keras-contrib's `InstanceNormalization`.
   */
  epsilonPlacement?: EpsilonPlacement;
  /** Default `'channelsLast'`. */
  dataFormat?: DataFormat;
  /** Default `'linear'` (no activation). */
  activation?: TfjsActivation;
  /** The slope of `'leakyrelu'` below zero, default 0.2 (as `tf.leakyRelu`). */
  leakyreluAlpha?: number;
  /** A tensor of the input's shape added to the result: after the activation (default) or before it. */
  residual?: tf.Tensor;
  /** `'after-activation'` (default: y = act(norm(x)) + r) or `'before-activation'` (y = act(norm(x) + r)). */
  residualPosition?: ResidualPosition;
}

/** Options of {@link instanceNorm} and {@link groupNorm}: those of every op, and the affine map. */
export interface InstanceNormOpOptions extends NormalizationOpOptions {
  /** The per-channel scale γ: shape `[C]`, or `[N, C]` for one per instance. Default all ones. */
  scale?: TensorOrLike;
  /** Keras's name of `scale`; give one of the two. */
  gamma?: TensorOrLike;
  /** The per-channel offset β: shape `[C]` or `[N, C]`. Default all zeros. */
  bias?: TensorOrLike;
  /** Keras's name of `bias`; give one of the two. */
  beta?: TensorOrLike;
}

/** Options of {@link groupNorm}: those of {@link instanceNorm}. */
export type GroupNormOpOptions = InstanceNormOpOptions;

/** Options of {@link adaIn}: those of every op (scale and bias come from the style). */
export type AdaInOpOptions = NormalizationOpOptions;

/** The default epsilon of this entry point's ops and layers: TF.js's and Keras's 1e-3. */
export const TFJS_DEFAULT_EPSILON = 1e-3;
/** The default slope of `'leakyrelu'`: TF.js's 0.2. */
export const TFJS_DEFAULT_LEAKYRELU_ALPHA = 0.2;

const COMMON_KEYS = ['epsilon', 'epsilonPlacement', 'dataFormat', 'activation', 'leakyreluAlpha', 'residual', 'residualPosition'];
const AFFINE_KEYS = ['scale', 'gamma', 'bias', 'beta'];
const ACTIVATIONS: Record<TfjsActivation, Activation> = {
  linear: 'none',
  relu: 'relu',
  leakyrelu: 'leakyRelu',
  silu: 'silu',
  gelu: 'gelu',
};

/** The attributes of the forward kernels, as TF.js hands them to the kernel and to its gradient. */
export interface ForwardAttrs {
  layout: Layout;
  epsilon: number;
  epsilonPlacement: EpsilonPlacement;
  /** 0: one group per channel (instance norm). */
  groups: number;
  activation: Activation;
  activationAlpha: number;
  residualPosition: ResidualPosition;
  hasScale: boolean;
  hasBias: boolean;
  hasResidual: boolean;
  perInstanceAffine: boolean;
}

/** The attributes of the backward kernel. */
export interface BackwardAttrs {
  layout: Layout;
  epsilon: number;
  epsilonPlacement: EpsilonPlacement;
  /**
   * Whether dL/dscale and dL/dbias are wanted: a second output, `[2, K]` (K = C, or N × C per
   * instance). Per instance, the kernel is given both scale and bias (the library's gradient of
   * each has the length of its own parameter).
   */
  affine: boolean;
  perInstanceAffine: boolean;
}

export function argumentError(argument: string, message: string): InstanceNormError {
  return new InstanceNormError(message, { code: 'invalid-argument', argument });
}

/** The options object read once as its own properties, unknown keys refused by name. */
function ownOptions(options: unknown, keys: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw argumentError('options', `options must be a plain object, got ${describe(options)}`);
  }
  const own: Record<string, unknown> = {};
  for (const key of Object.keys(options)) {
    if (!keys.includes(key)) {
      throw argumentError(key, `options has an unknown key '${key}'; the keys are ${keys.map((k) => `'${k}'`).join(', ')}`);
    }
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined) own[key] = value;
  }
  return own;
}

export function describe(value: unknown): string {
  if (value instanceof tf.Tensor) return `a ${value.dtype} tensor of shape [${value.shape.join(', ')}]`;
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return `[${value.join(', ')}]`;
  return String(value);
}

/** The input tensor checked: float32, rank 3 to 5. */
export function checkedInput(x: unknown, name: string): tf.Tensor {
  if (!(x instanceof tf.Tensor)) throw argumentError(name, `${name} must be a tf.Tensor, got ${describe(x)}`);
  if (x.dtype !== 'float32') throw argumentError(name, `${name} must be a float32 tensor, got ${describe(x)}`);
  if (x.rank < 3 || x.rank > 5) {
    throw argumentError(name, `${name} must have rank 3 to 5 (N, 1 to 3 spatial dimensions, C), got ${describe(x)}`);
  }
  return x;
}

export function layoutOf(dataFormat: unknown): Layout {
  if (dataFormat === undefined || dataFormat === 'channelsLast') return 'nhwc';
  if (dataFormat === 'channelsFirst') return 'nchw';
  throw argumentError('dataFormat', `dataFormat must be 'channelsLast' or 'channelsFirst', got ${describe(dataFormat)}`);
}

export function channelsOf(shape: readonly number[], layout: Layout): number {
  return layout === 'nhwc' ? shape[shape.length - 1] : shape[1];
}

/** The common options checked into kernel attributes, and the residual tensor. */
function checkedCommon(own: Record<string, unknown>, x: tf.Tensor, layout: Layout) {
  const epsilon = own.epsilon ?? TFJS_DEFAULT_EPSILON;
  if (typeof epsilon !== 'number' || !(epsilon >= 0) || epsilon > 3.4e38) {
    throw argumentError('epsilon', `epsilon must be a number from 0 to 3.4e38, got ${describe(epsilon)}`);
  }
  const epsilonPlacement = own.epsilonPlacement ?? 'variance';
  if (epsilonPlacement !== 'variance' && epsilonPlacement !== 'std') {
    throw argumentError('epsilonPlacement', `epsilonPlacement must be 'variance' or 'std', got ${describe(epsilonPlacement)}`);
  }
  const activationName = own.activation ?? 'linear';
  if (typeof activationName !== 'string' || !Object.hasOwn(ACTIVATIONS, activationName)) {
    throw argumentError(
      'activation',
      `activation must be one of ${Object.keys(ACTIVATIONS)
        .map((a) => `'${a}'`)
        .join(', ')}, got ${describe(activationName)}`,
    );
  }
  const activationAlpha = own.leakyreluAlpha ?? TFJS_DEFAULT_LEAKYRELU_ALPHA;
  if (typeof activationAlpha !== 'number' || !Number.isFinite(activationAlpha)) {
    throw argumentError('leakyreluAlpha', `leakyreluAlpha must be a finite number, got ${describe(activationAlpha)}`);
  }
  const residualPosition = own.residualPosition ?? 'after-activation';
  if (residualPosition !== 'after-activation' && residualPosition !== 'before-activation') {
    throw argumentError(
      'residualPosition',
      `residualPosition must be 'after-activation' or 'before-activation', got ${describe(residualPosition)}`,
    );
  }
  const residual = own.residual;
  if (residual !== undefined) {
    if (!(residual instanceof tf.Tensor) || residual.dtype !== 'float32' || !sameShape(residual.shape, x.shape)) {
      throw argumentError(
        'residual',
        `residual must be a float32 tensor of the input's shape [${x.shape.join(', ')}], got ${describe(residual)}`,
      );
    }
  }
  return {
    residual: residual as tf.Tensor | undefined,
    attrs: {
      layout,
      epsilon,
      epsilonPlacement: epsilonPlacement as EpsilonPlacement,
      activation: ACTIVATIONS[activationName as TfjsActivation],
      activationAlpha,
      residualPosition: residualPosition as ResidualPosition,
      hasResidual: residual !== undefined,
    },
  };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Scale or bias: a tensor (or tensor-like, converted here and owned by the caller's `created`) of shape [C] or [N, C]. */
function checkedAffine(
  own: Record<string, unknown>,
  names: readonly [string, string],
  x: tf.Tensor,
  layout: Layout,
  created: tf.Tensor[],
): tf.Tensor | undefined {
  const [name, alias] = names;
  if (own[name] !== undefined && own[alias] !== undefined) {
    throw argumentError(alias, `options has both '${name}' and '${alias}', which name the same thing; give one`);
  }
  const key = own[name] !== undefined ? name : alias;
  const value = own[key];
  if (value === undefined) return undefined;
  let tensor: tf.Tensor;
  if (value instanceof tf.Tensor) tensor = value;
  else {
    try {
      tensor = tf.tensor(value as tf.TensorLike, undefined, 'float32');
    } catch (error) {
      throw argumentError(key, `${key} must be a tensor or an array of numbers, got ${describe(value)} (${String(error)})`);
    }
    created.push(tensor);
  }
  const channels = channelsOf(x.shape, layout);
  const n = x.shape[0];
  const perChannel = tensor.rank === 1 && tensor.shape[0] === channels;
  const perInstance = tensor.rank === 2 && tensor.shape[0] === n && tensor.shape[1] === channels;
  if (tensor.dtype !== 'float32' || !(perChannel || perInstance)) {
    throw argumentError(
      key,
      `${key} must be a float32 tensor of shape [${channels}] (C) or [${n}, ${channels}] (N, C), got ${describe(tensor)}`,
    );
  }
  return tensor;
}

/** The forward kernels' inputs, in this order (their gradients save them by these names). */
export const NORMALIZATION_INPUTS = ['x', 'scale', 'bias', 'residual'] as const;
/** The AdaIN kernel's inputs, in this order. */
export const ADAIN_INPUTS = ['content', 'style', 'residual'] as const;

/**
 * The forward kernels' inputs with every name present: TF.js saves a kernel's inputs for its
 * gradient by name, and cannot save one that is missing. An absent input is a scalar placeholder
 * (its values never leave the CPU), which the attributes mark as absent (hasScale, hasBias,
 * hasResidual); placeholders made here go into `created`, for the caller to dispose.
 */
export function withPlaceholders(map: Record<string, tf.Tensor | undefined>, created: tf.Tensor[]): tf.NamedTensorMap {
  const inputs: tf.NamedTensorMap = {};
  for (const [name, tensor] of Object.entries(map)) {
    if (tensor) inputs[name] = tensor;
    else {
      const placeholder = tf.scalar(0);
      created.push(placeholder);
      inputs[name] = placeholder;
    }
  }
  return inputs;
}

/** instanceNorm() and groupNorm(): their options checked into the kernel's inputs and attributes. */
export function checkedNormalization(
  x: tf.Tensor,
  groups: number,
  options: unknown,
  created: tf.Tensor[],
): { inputs: tf.NamedTensorMap; attrs: ForwardAttrs } {
  const own = ownOptions(options, [...COMMON_KEYS, ...AFFINE_KEYS]);
  const layout = layoutOf(own.dataFormat);
  const common = checkedCommon(own, x, layout);
  const scale = checkedAffine(own, ['scale', 'gamma'], x, layout, created);
  const bias = checkedAffine(own, ['bias', 'beta'], x, layout, created);
  if (scale && bias && scale.rank !== bias.rank) {
    throw argumentError(
      'bias',
      `scale and bias must both be per channel or both per instance, got ${describe(scale)} and ${describe(bias)}`,
    );
  }
  return {
    inputs: withPlaceholders({ x, scale, bias, residual: common.residual }, created),
    attrs: {
      ...common.attrs,
      groups,
      hasScale: scale !== undefined,
      hasBias: bias !== undefined,
      perInstanceAffine: (scale ?? bias)?.rank === 2,
    },
  };
}

/** groupNorm()'s groups: an integer from 1 to C dividing C. */
export function checkedGroups(groups: unknown, channels: number): number {
  if (typeof groups !== 'number' || !Number.isInteger(groups) || groups < 1 || channels % groups !== 0) {
    throw argumentError(
      'groups',
      `groups must be a whole number from 1 to C = ${channels} that divides C, got ${describe(groups)}`,
    );
  }
  return groups;
}

/** adaIn(): content, style and options checked. */
export function checkedAdaIn(
  content: tf.Tensor,
  style: tf.Tensor,
  options: unknown,
  created: tf.Tensor[],
): { inputs: tf.NamedTensorMap; attrs: Omit<ForwardAttrs, 'groups' | 'hasScale' | 'hasBias' | 'perInstanceAffine'> } {
  const own = ownOptions(options, COMMON_KEYS);
  const layout = layoutOf(own.dataFormat);
  const common = checkedCommon(own, content, layout);
  const c = channelsOf(content.shape, layout);
  if (
    style.rank !== content.rank ||
    channelsOf(style.shape, layout) !== c ||
    (style.shape[0] !== content.shape[0] && style.shape[0] !== 1)
  ) {
    throw argumentError(
      'style',
      `style must have the content's rank ${content.rank}, C = ${c} and N = ${content.shape[0]} or 1, got ${describe(style)}`,
    );
  }
  return { inputs: withPlaceholders({ content, style, residual: common.residual }, created), attrs: common.attrs };
}
