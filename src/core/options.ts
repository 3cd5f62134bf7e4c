import type { RunningStats } from './running-stats.js';

/**
 * How a normalization is carried out on the GPU:
 * - 'fused-per-thread': one dispatch, one invocation per instance, no barrier. Small instances.
 * - 'fused-per-workgroup': one dispatch, one workgroup per instance. Medium instances.
 * - 'split': partial moments over chunks, a combine, then an elementwise normalize: three
 *   dispatches, so that a few large instances spread over the whole device.
 *
 * For GroupNorm the fused strategies take a group where an instance is named; where a group's
 * channels are not whole kernel instances on this device (nhwc groups across channel groups of
 * four, on a GPU), GroupNorm takes 'split' whatever is forced.
 */
export type Strategy = 'fused-per-thread' | 'fused-per-workgroup' | 'split';

export const STRATEGIES: readonly Strategy[] = ['fused-per-thread', 'fused-per-workgroup', 'split'];

/** How tensor values are stored: IEEE float32, or float16 (halves; computed in f32 on the GPU). */
export type DataType = 'float32' | 'float16';

/**
 * Where epsilon enters the spread an instance is divided by: `'variance'` gives sqrt(var + ε),
 * `'std'` gives sqrt(var) + ε (keras-contrib's `K.std(x) + epsilon`).
 */
export type EpsilonPlacement = 'variance' | 'std';

/** Memory layout of a tensor: channels first (`[N, C, ...spatial]`) or last (`[N, ...spatial, C]`). */
export type Layout = 'nchw' | 'nhwc';

/**
 * Options of one normalization, the same for the GPU and the CPU.
 *
 * @example
 * const options: InstanceNormOptions = { layout: 'nhwc', epsilon: 1e-5, scale: gamma, bias: beta };
 */
export interface InstanceNormOptions {
  /** Memory layout of input and output. Default `'nchw'`. */
  layout?: Layout;
  /**
   * Storage of input, output and residual: `'float32'` (Float32Array), or `'float16'`: IEEE half
   * bits in a Uint16Array, or GPU buffers of halves packed two per 4-byte word, with statistics and
   * arithmetic in f32. Scale and bias stay float32. Default `'float32'`.
   */
  dataType?: DataType;
  /** Added to the variance before the square root (or to the standard deviation, see `epsilonPlacement`); finite and ≥ 0. Default `1e-5`. */
  epsilon?: number;
  /**
   * Where `epsilon` is added: `'variance'`, y = (x − mean) / sqrt(var + ε), as PyTorch, ONNX,
   * WebNN, Keras and TensorFlow Addons do; or `'std'`, y = (x − mean) / (sqrt(var) + ε), as
   * keras-contrib's `InstanceNormalization` does. Statistics (`invStd`), AdaIN's spread, eval
   * mode and the backward follow it. Default `'variance'`.
   */
  epsilonPlacement?: EpsilonPlacement;
  /**
   * Factor (γ): length C (per channel), or N × C (per instance, index `n * C + c`: conditional
   * instance norm, AdaIN). Default: all ones. A `GPUBuffer` on the WebGPU backend only; a
   * buffer is read as C values unless `perInstanceAffine` is set.
   */
  scale?: Float32Array | GPUBuffer;
  /** Offset (β): length C or N × C, as `scale`. Default: all zeros. */
  bias?: Float32Array | GPUBuffer;
  /** Read `scale` and `bias` buffers as N × C values. Default: false; arrays say it by their length. */
  perInstanceAffine?: boolean;
  /** Applied after the affine map, in the same pass over memory. Default `'none'`. */
  activation?: Activation;
  /** Slope of `'leakyRelu'` below zero. Default `0.01`, as in PyTorch. */
  activationAlpha?: number;
  /**
   * A tensor of the input's shape and layout added to the output, in the same pass. A
   * `GPUBuffer` for encode(); run() takes either.
   */
  residual?: Float32Array | Uint16Array | GPUBuffer;
  /**
   * Where the residual is added: `'after-activation'`, y = act(norm(x)) + r (the residual
   * blocks of style transfer networks), or `'before-activation'`, y = act(norm(x) + r) (ResNet).
   * Default `'after-activation'`.
   */
  residualPosition?: ResidualPosition;
  /**
   * Running statistics of this layer's channels ({@link RunningStats}): updated from the batch
   * in training mode, used instead of the batch's statistics with `training: false`.
   */
  runningStats?: RunningStats;
  /**
   * Training mode, as PyTorch's `module.training`: normalize with the batch's statistics and
   * update `runningStats`. `false` (eval) normalizes with `runningStats` where given. Default true.
   */
  training?: boolean;
  /**
   * Weight of the batch in the running statistics update, in [0, 1]. Default `0.1`, as in
   * PyTorch; `null` averages over all batches so far (PyTorch's `momentum=None`).
   */
  momentum?: number | null;
  /**
   * GroupNorm: normalize over groups of C / `groups` adjacent channels (and all positions)
   * instead of single channels; it must divide C. `groups` = C is instance norm (the default),
   * `groups` = 1 is layer norm over (C, spatial). Scale and bias stay per channel.
   * Not with `runningStats` (PyTorch's GroupNorm has none).
   */
  groups?: number;
  /**
   * A GPU buffer (STORAGE, 2 × N × C float32) that receives each instance's mean, then its
   * 1 / sqrt(var + epsilon), as the forward computes them: pass it to the backward as
   * `savedStats`. The forward then takes the split plan. Not with `groups` or in eval mode.
   */
  saveStats?: GPUBuffer;

  // PyTorch's names for the same things (InstanceNorm2d); one name of each pair at a time.
  /** PyTorch's name for `epsilon`. */
  eps?: number;
  /** PyTorch's name for `scale`. */
  weight?: Float32Array | GPUBuffer;
  /** PyTorch's `affine`: `false` says there is no scale or bias (and none may be given). Default true. */
  affine?: boolean;
  /** PyTorch's `track_running_stats`: `true` requires `runningStats`, `false` forbids it. */
  trackRunningStats?: boolean;
}

/**
 * The activation of the fused epilogue: `'relu'` max(v, 0); `'leakyRelu'` v below zero times
 * `activationAlpha`; `'silu'` v · sigmoid(v); `'gelu'` the tanh approximation
 * 0.5 v (1 + tanh(√(2/π) (v + 0.044715 v³))), PyTorch's `approximate='tanh'`. NaN stays NaN.
 */
export type Activation = 'none' | 'relu' | 'leakyRelu' | 'silu' | 'gelu';

/** Where the fused epilogue adds the residual, relative to the activation. */
export type ResidualPosition = 'after-activation' | 'before-activation';

/** Default slope of 'leakyRelu', as in PyTorch. */
export const DEFAULT_ACTIVATION_ALPHA = 0.01;

/** Options of adain(): those of a normalization but scale and bias, which come from the style. */
export type AdainOptions = Omit<
  InstanceNormOptions,
  | 'scale'
  | 'bias'
  | 'perInstanceAffine'
  | 'weight'
  | 'affine'
  | 'runningStats'
  | 'training'
  | 'momentum'
  | 'trackRunningStats'
  | 'groups'
  | 'saveStats'
>;

/** Default epsilon, as in PyTorch, ONNX and WebNN. */
export const DEFAULT_EPSILON = 1e-5;

/**
 * Per-instance statistics, index `n * C + c`: the mean and 1 / sqrt(variance + epsilon), with the
 * biased variance, as the normalization uses them.
 */
export interface InstanceStats<TBuffer extends ArrayBufferLike = ArrayBuffer> {
  /** Mean of each instance. */
  readonly mean: Float32Array<TBuffer>;
  /** 1 / sqrt(var + epsilon) of each instance. */
  readonly invStd: Float32Array<TBuffer>;
}

/** Options of {@link InstanceNorm.create}. */
export interface InstanceNormCreateOptions {
  /**
   * The device to work on, for example the one ONNX Runtime Web or TensorFlow.js already use.
   * Default: a device requested from `navigator.gpu`, owned (and destroyed) by the instance.
   */
  device?: GPUDevice;
  /** Where WebGPU or an adapter is missing: `'cpu'` gives the CPU backend, `'error'` throws. Default `'cpu'`. */
  fallback?: 'cpu' | 'error';
  /** Forces one GPU strategy for every call instead of the planner's choice. Default `'auto'`. For tests and benchmarks. */
  strategy?: Strategy | 'auto';
}

/**
 * Options of the backward pass: those of the forward call it differentiates (layout, epsilon,
 * scale or weight, perInstanceAffine, runningStats with `training: false` for eval mode), and
 * the forward's saved statistics. `dataType` must be `'float32'`; `momentum` is accepted and
 * ignored, so that a forward's options can be passed as they are.
 */
export interface BackwardOptions
  extends Pick<
    InstanceNormOptions,
    | 'layout'
    | 'dataType'
    | 'epsilon'
    | 'epsilonPlacement'
    | 'eps'
    | 'scale'
    | 'weight'
    | 'bias'
    | 'affine'
    | 'perInstanceAffine'
    | 'runningStats'
    | 'training'
    | 'momentum'
    | 'trackRunningStats'
  > {
  /**
   * The forward's statistics, so that the backward does not reduce the input again: what
   * `stats()` returned (typed arrays), or the buffer the forward's `saveStats` (or
   * `encodeStats()`) filled (GPU). Default: computed again from the input.
   */
  savedStats?: InstanceStats<ArrayBufferLike> | GPUBuffer;
}

/** The GPU buffers of {@link InstanceNorm.encodeBackward}, each with STORAGE usage. */
export interface BackwardBuffers {
  /** dL/dy: the gradient of the forward's output, of the input's shape. */
  readonly gradOutput: GPUBuffer;
  /** The forward's input x. */
  readonly input: GPUBuffer;
  /** Receives dL/dx. */
  readonly gradInput: GPUBuffer;
  /** Receives dL/dscale then dL/dbias (C values each; N × C for per-instance ones). Optional. */
  readonly gradAffine?: GPUBuffer;
}

/** The gradients of a backward call. */
export interface BackwardResult {
  /** dL/dx, of the input's shape. */
  readonly gradInput: Float32Array<ArrayBuffer>;
  /** dL/dscale: length C (summed over N), or N × C for a per-instance scale. With `scale`, `bias` or `affine: true`. */
  readonly gradScale?: Float32Array<ArrayBuffer>;
  /** dL/dbias, as gradScale. */
  readonly gradBias?: Float32Array<ArrayBuffer>;
}
