import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { EpsilonPlacement } from '../index.js';
import { groupNorm, instanceNorm } from './ops.js';
import { argumentError, type DataFormat, describe, TFJS_DEFAULT_EPSILON } from './options.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;
type Initializer = ReturnType<typeof tfl.initializers.ones>;
type Regularizer = ReturnType<typeof tfl.regularizers.l1l2>;
type Constraint = ReturnType<typeof tfl.constraints.nonNeg>;
type Kwargs = Parameters<tfl.layers.Layer['call']>[1];
type ShapeArg = Parameters<tfl.layers.Layer['computeOutputShape']>[0];

/**
 * An initializer, regularizer or constraint as Keras configs and TF.js code give one: an
 * object of TF.js (`tf.initializers.ones()`), a Keras config (`{ className: 'Ones', config: {} }`,
 * as `tf.loadLayersModel` hands it on), or a name (`'ones'`, `'glorotUniform'`, `'glorot_uniform'`).
 */
export type SerializableLike = tf.serialization.Serializable | tf.serialization.ConfigDict | string;

/** The config of the normalization layers: Keras's fields (in TF.js's camelCase), with Keras's defaults. */
export interface NormalizationLayerArgs extends LayerArgs {
  /**
   * The channel axis: -1 or rank − 1 for channels-last, 1 for channels-first. keras-contrib's
   * `InstanceNormalization` also takes `null`, its default: one group of all channels and
   * positions, with a single γ and β. Default -1 for the other layers.
   */
  axis?: number | null;
  /**
   * Default 1e-3. Added to the variance, y = (x − mean) / sqrt(var + ε), except in keras-contrib's
   * `InstanceNormalization`, which adds it to the standard deviation: y = (x − mean) / (sqrt(var) + ε).
   */
  epsilon?: number;
  /** Whether the layer has β (default true). */
  center?: boolean;
  /** Whether the layer has γ (default true). */
  scale?: boolean;
  /**
   * GroupNorm's G (default 32; -1: one group per channel). `Addons>InstanceNormalization` accepts
   * and ignores it, as TensorFlow Addons does; keras-contrib's `InstanceNormalization` has none.
   */
  groups?: number;
  /** Default `'zeros'`. */
  betaInitializer?: SerializableLike;
  /** Default `'ones'`. */
  gammaInitializer?: SerializableLike;
  /** Default none. */
  betaRegularizer?: SerializableLike | null;
  /** Default none. */
  gammaRegularizer?: SerializableLike | null;
  /** Default none. */
  betaConstraint?: SerializableLike | null;
  /** Default none. */
  gammaConstraint?: SerializableLike | null;
}

const BASE_KEYS = ['name', 'trainable', 'dtype', 'inputShape', 'batchInputShape', 'batchSize', 'weights', 'inputDType'];
const NORMALIZATION_KEYS = [
  'axis',
  'epsilon',
  'center',
  'scale',
  'betaInitializer',
  'gammaInitializer',
  'betaRegularizer',
  'gammaRegularizer',
  'betaConstraint',
  'gammaConstraint',
];

/** A Keras-config object (initializer, regularizer, constraint) of TF.js from what a config holds. */
function deserialized<T>(value: unknown, field: string, kind: string): T {
  if (value instanceof tf.serialization.Serializable) return value as T;
  const classes = tf.serialization.SerializationMap.getMap().classNameMap;
  let className: unknown;
  let config: unknown = {};
  if (typeof value === 'string') {
    const camel = value.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
    className = camel.charAt(0).toUpperCase() + camel.slice(1);
  } else if (value !== null && typeof value === 'object' && 'className' in value) {
    className = (value as { className: unknown }).className;
    config = (value as { config?: unknown }).config ?? {};
  }
  const entry = typeof className === 'string' ? classes[className] : undefined;
  if (!entry) {
    throw argumentError(field, `${field} must name a ${kind} TF.js knows (a registered class), got ${JSON.stringify(value)}`);
  }
  const [cls, fromConfig] = entry;
  return fromConfig(cls, config as tf.serialization.ConfigDict) as T;
}

function serialized(value: tf.serialization.Serializable | null): tf.serialization.ConfigDict | null {
  return value && { className: value.getClassName(), config: value.getConfig() };
}

function checkedBoolean(args: Record<string, unknown>, field: string): boolean {
  const value = args[field] ?? true;
  if (typeof value !== 'boolean') throw argumentError(field, `${field} must be true or false, got ${describe(value)}`);
  return value;
}

let layerCount = 0;

/**
 * What the four normalization layers share: Keras's config, γ then β (each of shape [C]), the
 * channel axis checked against the input, and the op of this entry point in call().
 */
abstract class NormalizationLayer extends tfl.layers.Layer {
  /** The channel axis as configured (-1, 1, rank − 1, or null: all channels and positions). */
  readonly axis: number | null;
  /** Added to the variance, or to the standard deviation (see `epsilonPlacement`). */
  readonly epsilon: number;
  /** Where the layer's library adds epsilon: keras-contrib to the standard deviation, the others to the variance. */
  readonly epsilonPlacement: EpsilonPlacement;
  /** Whether the layer has β. */
  readonly center: boolean;
  /** Whether the layer has γ. */
  readonly scale: boolean;
  /** GroupNorm's G as configured (-1: one per channel); undefined for instance norm layers. */
  readonly groups: number | undefined;
  private readonly betaInitializer: Initializer;
  private readonly gammaInitializer: Initializer;
  private readonly betaRegularizer: Regularizer | null;
  private readonly gammaRegularizer: Regularizer | null;
  private readonly betaConstraint: Constraint | null;
  private readonly gammaConstraint: Constraint | null;
  private gamma?: tfl.LayerVariable;
  private beta?: tfl.LayerVariable;
  private dataFormat: DataFormat = 'channelsLast';
  private effectiveGroups = 0;
  private channels = 0;

  protected constructor(
    args: NormalizationLayerArgs | undefined,
    defaults: {
      groups?: number;
      allowNullAxis: boolean;
      acceptsGroups: boolean;
      baseName: string;
      /** The axis where the config has none: keras-contrib's null, -1 for the others. */
      axis: number | null;
      epsilonPlacement: EpsilonPlacement;
    },
  ) {
    const own: Record<string, unknown> = { ...(args ?? {}) };
    // tf.loadLayersModel hands the deserialization's custom objects on with the config.
    delete own.customObjects;
    // TF.js names a layer after its class name, which for 'Addons>…' is no valid tensor name.
    own.name ??= `${defaults.baseName}_${++layerCount}`;
    const keys = [...BASE_KEYS, ...NORMALIZATION_KEYS, ...(defaults.acceptsGroups ? ['groups'] : [])];
    for (const key of Object.keys(own)) {
      if (!keys.includes(key))
        throw argumentError(key, `the layer's config has an unknown field '${key}'; its fields are ${keys.join(', ')}`);
    }
    // Keras 3 writes the dtype as a policy ({ className: 'DTypePolicy', config: { name: 'float32' } }).
    const dtype = own.dtype as { config?: { name?: unknown } } | string | undefined;
    if (dtype !== undefined && typeof dtype === 'object') own.dtype = dtype.config?.name;
    if (own.dtype !== undefined && own.dtype !== 'float32') {
      throw argumentError('dtype', `dtype must be 'float32', got ${describe(own.dtype)}`);
    }
    super(own as LayerArgs);
    const axis = own.axis === undefined ? defaults.axis : own.axis;
    if (!(axis === null && defaults.allowNullAxis) && !Number.isInteger(axis)) {
      throw argumentError(
        'axis',
        `axis must be a whole number${defaults.allowNullAxis ? ' or null' : ''}, got ${describe(axis)}`,
      );
    }
    this.axis = axis as number | null;
    const epsilon = own.epsilon ?? TFJS_DEFAULT_EPSILON;
    if (typeof epsilon !== 'number' || !(epsilon >= 0))
      throw argumentError('epsilon', `epsilon must be a number ≥ 0, got ${describe(epsilon)}`);
    this.epsilon = epsilon;
    this.epsilonPlacement = defaults.epsilonPlacement;
    this.center = checkedBoolean(own, 'center');
    this.scale = checkedBoolean(own, 'scale');
    if (defaults.acceptsGroups) {
      const groups = own.groups ?? defaults.groups ?? -1;
      if (typeof groups !== 'number' || !Number.isInteger(groups) || (groups < 1 && groups !== -1)) {
        throw argumentError('groups', `groups must be a whole number ≥ 1, or -1 (one per channel), got ${describe(groups)}`);
      }
      this.groups = groups;
    }
    this.betaInitializer = deserialized(own.betaInitializer ?? 'zeros', 'betaInitializer', 'initializer');
    this.gammaInitializer = deserialized(own.gammaInitializer ?? 'ones', 'gammaInitializer', 'initializer');
    this.betaRegularizer =
      own.betaRegularizer == null ? null : deserialized(own.betaRegularizer, 'betaRegularizer', 'regularizer');
    this.gammaRegularizer =
      own.gammaRegularizer == null ? null : deserialized(own.gammaRegularizer, 'gammaRegularizer', 'regularizer');
    this.betaConstraint = own.betaConstraint == null ? null : deserialized(own.betaConstraint, 'betaConstraint', 'constraint');
    this.gammaConstraint =
      own.gammaConstraint == null ? null : deserialized(own.gammaConstraint, 'gammaConstraint', 'constraint');
    this.supportsMasking = true;
  }

  /** G for C channels; instance norm layers have one group per channel. */
  protected abstract groupsFor(channels: number): number;

  override build(inputShape: ShapeArg): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as (number | null)[];
    const rank = shape.length;
    if (rank < 3 || rank > 5) {
      throw argumentError(
        'inputShape',
        `inputShape must have rank 3 to 5 (N, 1 to 3 spatial dimensions, C), got [${shape.join(', ')}]`,
      );
    }
    const axis = this.axis === null ? rank - 1 : this.axis < 0 ? this.axis + rank : this.axis;
    if (axis !== rank - 1 && axis !== 1) {
      throw argumentError(
        'axis',
        `axis must be the channel axis, -1 or ${rank - 1} (channels last) or 1 (channels first), for an input of rank ${rank}; got ${this.axis}`,
      );
    }
    this.dataFormat = axis === rank - 1 ? 'channelsLast' : 'channelsFirst';
    const channels = shape[axis];
    if (channels === null || channels === undefined)
      throw argumentError('inputShape', `the channel axis ${axis} of the input shape must be known, got [${shape.join(', ')}]`);
    this.channels = channels;
    this.effectiveGroups = this.axis === null ? 1 : this.groupsFor(channels);
    const parameterShape = this.axis === null ? [1] : [channels];
    if (this.scale) {
      this.gamma = this.addWeight(
        'gamma',
        parameterShape,
        'float32',
        this.gammaInitializer,
        this.gammaRegularizer ?? undefined,
        true,
        this.gammaConstraint ?? undefined,
      );
    }
    if (this.center) {
      this.beta = this.addWeight(
        'beta',
        parameterShape,
        'float32',
        this.betaInitializer,
        this.betaRegularizer ?? undefined,
        true,
        this.betaConstraint ?? undefined,
      );
    }
    this.inputSpec = [new tfl.InputSpec({ ndim: rank, axes: { [axis]: channels } })];
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      // keras-contrib's axis=None: one γ and β for all channels.
      const perChannel = (v: tfl.LayerVariable | undefined) => {
        const t = v?.read();
        return t && this.axis === null ? tf.tile(t, [this.channels]) : t;
      };
      const options = {
        gamma: perChannel(this.gamma),
        beta: perChannel(this.beta),
        epsilon: this.epsilon,
        epsilonPlacement: this.epsilonPlacement,
        dataFormat: this.dataFormat,
      };
      return this.effectiveGroups === this.channels ? instanceNorm(x, options) : groupNorm(x, this.effectiveGroups, options);
    });
  }

  override computeOutputShape(inputShape: ShapeArg): ShapeArg {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      axis: this.axis,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      ...(this.groups === undefined ? {} : { groups: this.groups }),
      betaInitializer: serialized(this.betaInitializer),
      gammaInitializer: serialized(this.gammaInitializer),
      betaRegularizer: serialized(this.betaRegularizer),
      gammaRegularizer: serialized(this.gammaRegularizer),
      betaConstraint: serialized(this.betaConstraint),
      gammaConstraint: serialized(this.gammaConstraint),
    };
    return { ...super.getConfig(), ...config };
  }
}

function groupsDividing(groups: number, channels: number): number {
  const g = groups === -1 ? channels : groups;
  if (g > channels || channels % g !== 0) {
    throw argumentError('groups', `groups must divide the number of channels C = ${channels} (and be at most C), got ${g}`);
  }
  return g;
}

/**
 * keras-contrib's `InstanceNormalization` (`keras_contrib.layers.InstanceNormalization`), under
 * its class name `'InstanceNormalization'`, computing what keras-contrib computes:
 * `(x − K.mean(x)) / (K.std(x) + epsilon) · γ + β`, that is y = (x − mean) / (sqrt(var) + ε) · γ + β
 * with the biased variance: epsilon is added to the standard deviation, not to the variance.
 * With `axis` -1 (or 1 for channels-first) it normalizes each instance (image, channel) with γ and
 * β per channel; `axis: null`, keras-contrib's default, normalizes over all channels and positions
 * of an image with a single γ and β.
 *
 * @example
 * const layer = new InstanceNormalization({ axis: -1, epsilon: 1e-3 });
 */
export class InstanceNormalization extends NormalizationLayer {
  /** The class name Keras models are saved with. */
  static readonly className = 'InstanceNormalization';
  /** Makes the layer from its config. */
  constructor(args?: NormalizationLayerArgs) {
    super(args, {
      allowNullAxis: true,
      acceptsGroups: false,
      baseName: 'instance_normalization',
      axis: null,
      epsilonPlacement: 'std',
    });
  }
  protected groupsFor(channels: number): number {
    return channels;
  }
}

/**
 * TensorFlow Addons' `tfa.layers.InstanceNormalization`, class name `'Addons>InstanceNormalization'`:
 * y = (x − mean) / sqrt(var + ε) · γ + β (its `tf.nn.batch_normalization`), GroupNorm with one group per channel (its `groups`, -1 or C in saved configs, is ignored, as
 * TensorFlow Addons ignores it).
 *
 * @example
 * const layer = new AddonsInstanceNormalization({ axis: 3 });
 */
export class AddonsInstanceNormalization extends NormalizationLayer {
  /** The class name Keras models are saved with. */
  static readonly className = 'Addons>InstanceNormalization';
  /** Makes the layer from its config. */
  constructor(args?: NormalizationLayerArgs) {
    super(args, {
      groups: -1,
      allowNullAxis: false,
      acceptsGroups: true,
      baseName: 'instance_normalization',
      axis: -1,
      epsilonPlacement: 'variance',
    });
  }
  protected groupsFor(channels: number): number {
    return channels;
  }
}

/**
 * TensorFlow Addons' `tfa.layers.GroupNormalization`, class name `'Addons>GroupNormalization'`:
 * y = (x − mean) / sqrt(var + ε) · γ + β over `groups` (default 32) groups of adjacent channels.
 *
 * @example
 * const layer = new AddonsGroupNormalization({ groups: 8 });
 */
export class AddonsGroupNormalization extends NormalizationLayer {
  /** The class name Keras models are saved with. */
  static readonly className = 'Addons>GroupNormalization';
  /** Makes the layer from its config. */
  constructor(args?: NormalizationLayerArgs) {
    super(args, {
      groups: 32,
      allowNullAxis: false,
      acceptsGroups: true,
      baseName: 'group_normalization',
      axis: -1,
      epsilonPlacement: 'variance',
    });
  }
  protected groupsFor(channels: number): number {
    return groupsDividing(this.groups as number, channels);
  }
}

/**
 * Keras 3's `keras.layers.GroupNormalization`, class name `'GroupNormalization'`:
 * y = (x − mean) · rsqrt(var + ε) · γ + β over `groups` (default 32) groups of adjacent channels.
 *
 * @example
 * const layer = new GroupNormalization({ groups: 32, epsilon: 1e-5 });
 */
export class GroupNormalization extends NormalizationLayer {
  /** The class name Keras models are saved with. */
  static readonly className = 'GroupNormalization';
  /** Makes the layer from its config. */
  constructor(args?: NormalizationLayerArgs) {
    super(args, {
      groups: 32,
      allowNullAxis: false,
      acceptsGroups: true,
      baseName: 'group_normalization',
      axis: -1,
      epsilonPlacement: 'variance',
    });
  }
  protected groupsFor(channels: number): number {
    return groupsDividing(this.groups as number, channels);
  }
}

/** Registers the four layers with TF.js's serialization, under their Keras class names (once, on import). */
export function registerLayers(): void {
  for (const cls of [InstanceNormalization, AddonsInstanceNormalization, AddonsGroupNormalization, GroupNormalization]) {
    tf.serialization.registerClass(cls as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
  }
}
