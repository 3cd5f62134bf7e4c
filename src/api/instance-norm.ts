import type { TensorArray } from '../core/checked-call.js';
import { describe } from '../core/describe-value.js';
import { argumentError, unsupportedError } from '../core/errors.js';
import type {
  AdainOptions,
  BackwardBuffers,
  BackwardOptions,
  BackwardResult,
  InstanceNormCreateOptions,
  InstanceNormOptions,
  InstanceStats,
} from '../core/options.js';
import { ownOptions } from '../core/own-options.js';
import { RunningStats } from '../core/running-stats.js';
import { tensorBytes } from '../core/tensor-geometry.js';
import { checkedDevice, requestDevice, unsupportedDeviceReason } from '../gpu/device-request.js';
import { gpuRoundTrip } from '../gpu/gpu-round-trip.js';
import { STRATEGIES, type Strategy } from '../gpu/planner.js';
import { type RecordCall, type TuneResult, timeStrategies } from '../gpu/tuner.js';
import { recordWinner } from '../gpu/tuning-table.js';
import { validateBackward } from '../validation/backward-options.js';
import { checkedEncoder, checkInputOutput, gpuAffine, gpuBackwardSources, gpuSources } from '../validation/gpu-validation.js';
import { BACKWARD_BUFFER_KEYS, CREATE_KEYS, TUNE_KEYS } from '../validation/option-keys.js';
import { checkedBuffer, tensorDetail, validateAdain, validateCall, validateInputArray } from '../validation/validation.js';
import { adainCpu, instanceNormBackwardCpu, instanceNormCpu, instanceStatsCpu } from './cpu-functions.js';
import { destroyedError, GpuSession, needsWebGpu } from './gpu-session.js';
import type { InstanceNormPlan } from './plan-description.js';
import { optionsFromStateDict, type PyTorchStateDict } from './pytorch-state-dict.js';

// The public face: each method validates its arguments (src/validation), picks the backend and
// hands the checked call over (src/gpu through a GpuSession, or src/cpu through api/cpu-functions).

/**
 * Instance normalization on WebGPU, or on the CPU where WebGPU is missing.
 *
 * @example
 * const norm = await InstanceNorm.create();
 * const y = await norm.run(x, [1, 3, 256, 256], { scale: gamma, bias: beta });
 * norm.destroy();
 */
export class InstanceNorm {
  /** Where the work runs. */
  readonly backend: 'webgpu' | 'cpu';

  private readonly session?: GpuSession;
  private destroyed = false;

  private constructor(device: GPUDevice | undefined, ownsDevice: boolean, strategy: Strategy | undefined) {
    this.backend = device ? 'webgpu' : 'cpu';
    if (device) this.session = new GpuSession(device, ownsDevice, strategy);
  }

  /**
   * Creates an instance on the given device, or requests a device of its own, or falls back
   * to the CPU (unless `fallback: 'error'`). Async because requesting a device is.
   */
  static async create(options?: InstanceNormCreateOptions): Promise<InstanceNorm> {
    const { device, fallback, strategy } = checkedCreateOptions(options);
    if (device !== undefined) return InstanceNorm.onDevice(device, strategy);
    const requested = await requestDevice().catch((error: unknown) => {
      if (fallback === 'error') throw error;
      return undefined;
    });
    return new InstanceNorm(requested, requested !== undefined, strategy);
  }

  /**
   * {@link InstanceNorm.create} on a device the caller already has, synchronously, for code that
   * cannot await (a framework's kernel): the same options, `device` required; nothing is
   * requested and the device stays the caller's.
   *
   * @example
   * const norm = InstanceNorm.createSync({ device }); // e.g. the device of ORT-web or TF.js
   * @throws InstanceNormError where `device` is missing or is not a GPUDevice the library can run on.
   */
  static createSync(options: InstanceNormCreateOptions & { device: GPUDevice }): InstanceNorm {
    const { device, strategy } = checkedCreateOptions(options);
    if (device === undefined) {
      throw argumentError('device', 'createSync needs a GPUDevice (requesting one is asynchronous: use create())');
    }
    return InstanceNorm.onDevice(device, strategy);
  }

  private static onDevice(given: unknown, strategy: Strategy | undefined): InstanceNorm {
    const device = checkedDevice(given);
    const unsupported = unsupportedDeviceReason(device);
    if (unsupported) throw unsupportedError(`InstanceNorm cannot run on this device: ${unsupported}`);
    return new InstanceNorm(device, false, strategy);
  }

  /** The device of the WebGPU backend (a new one after a lost device was replaced); undefined on the CPU. */
  get device(): GPUDevice | undefined {
    return this.session?.device;
  }

  /**
   * Normalizes a typed array: uploads it, computes, reads the result back.
   * On the CPU backend it runs {@link instanceNormCpu}. If the instance's own device was
   * lost, a new one is requested first.
   *
   * @param input - the tensor, `shape` in row-major order.
   * @param shape - `[N, C, ...spatial]` ('nchw', the default) or `[N, ...spatial, C]` ('nhwc').
   * @returns a new Float32Array of the input's shape.
   * @throws InstanceNormError on bad arguments, a destroyed instance, a lost device or a WebGPU error.
   */
  async run(input: Float32Array, shape: readonly number[], options?: InstanceNormOptions): Promise<Float32Array<ArrayBuffer>>;
  /** Normalizes a tensor of halves (`dataType: 'float16'`): a Uint16Array of IEEE half bits in, and out. */
  async run(
    input: Uint16Array,
    shape: readonly number[],
    options: InstanceNormOptions & { dataType: 'float16' },
  ): Promise<Uint16Array<ArrayBuffer>>;
  async run(input: TensorArray, shape: readonly number[], options?: InstanceNormOptions): Promise<TensorArray> {
    const session = this.usable('run');
    if (!session) return instanceNormCpu(input, shape, options);
    validateCall(shape, options); // bad arguments are reported before a lost device is replaced
    const gpu = await session.ready('run');
    // Checked after any wait and used at once: nothing the caller changes meanwhile is missed.
    const call = validateCall(shape, options);
    validateInputArray(input, call.geometry);
    const sources = gpuSources(call, gpu.device, [], true);
    const update = call.running?.use === 'update' ? call.running.stats.reserveUpdate() : undefined;
    const uploads = sources.residualArray ? [input, sources.residualArray] : [input];
    const work = gpuRoundTrip(gpu.device, gpu.profile, 'run', uploads, [input.byteLength], (encoder, [x, r], [y], created) =>
      gpu.encode(encoder, {
        ...call,
        ...sources,
        residual: r ?? sources.residual,
        input: x,
        output: y,
        runningUpdate: update,
        buffers: created,
      }),
    );
    return tensorArray((await session.settled('run', work, update))[0], call.geometry.dataType);
  }

  /**
   * Records the normalization of `input` into `output` in the caller's encoder; nothing is
   * submitted or awaited. Both buffers need STORAGE usage and room for the shape's elements,
   * and must differ (in-place is not supported). WebGPU validation errors of this call are
   * reported by the next call on this instance, or by {@link checkErrors}.
   * Up to 256 calls with distinct sizes, epsilons or affine arrays may be recorded between submits.
   * A call with `runningStats` in training counts its batch in `batchesTracked` when it is recorded.
   */
  encode(
    encoder: GPUCommandEncoder,
    input: GPUBuffer,
    output: GPUBuffer,
    shape: readonly number[],
    options?: InstanceNormOptions,
  ): void {
    const session = this.encoding('encode');
    const gpu = session.live('encode');
    checkedEncoder(encoder);
    const call = validateCall(shape, options);
    const tensors = checkInputOutput(input, output, call.geometry, 'input');
    const sources = gpuSources(call, gpu.device, bound({ input: tensors.input }, { output: tensors.output }), false);
    session.record('encode', call, (runningUpdate) =>
      gpu.encode(encoder, { ...call, ...sources, ...tensors, runningUpdate, buffers: 'cached' }),
    );
  }

  /**
   * The statistics of every instance: mean and 1 / sqrt(var + epsilon) (1 / (sqrt(var) + epsilon)
   * with `epsilonPlacement: 'std'`), index `n * C + c`, as the normalization uses them. On the GPU:
   * the reductions of the split plan, read back; on the CPU backend {@link instanceStatsCpu}. Of the
   * options, `layout`, `epsilon`, `epsilonPlacement`, `dataType` and `groups` apply; the others are accepted and ignored, so that a call's options may be passed as they are.
   *
   * @example
   * const { mean, invStd } = await norm.stats(style, [1, 3, 256, 256]);
   */
  async stats(input: TensorArray, shape: readonly number[], options?: InstanceNormOptions): Promise<InstanceStats> {
    const session = this.usable('stats');
    if (!session) return instanceStatsCpu(input, shape, options);
    validateCall(shape, options);
    const gpu = await session.ready('stats');
    const call = validateCall(shape, options);
    validateInputArray(input, call.geometry);
    const count = call.geometry.instanceCount;
    const work = gpuRoundTrip(gpu.device, gpu.profile, 'stats', [input], [2 * count * 4], (encoder, [x], [out], created) =>
      gpu.encodeStats(encoder, { ...call, running: undefined, input: x, buffers: created }, out),
    );
    const exported = new Float32Array((await session.settled('stats', work))[0]);
    return { mean: exported.subarray(0, count), invStd: exported.subarray(count) };
  }

  /**
   * Records the statistics of every instance into `output`: 2 × N × C float32 values, the means
   * (index `n * C + c`) then the 1 / sqrt(var + epsilon) of each instance (index `N * C + n * C + c`;
   * 1 / (sqrt(var) + epsilon) with `epsilonPlacement: 'std'`).
   * `output` needs STORAGE usage. Errors are reported as for {@link encode}.
   *
   * @example
   * norm.encodeStats(encoder, featuresBuffer, statsBuffer, [1, 64, 32, 32]); // statsBuffer: 2 * 64 floats
   */
  encodeStats(
    encoder: GPUCommandEncoder,
    input: GPUBuffer,
    output: GPUBuffer,
    shape: readonly number[],
    options?: Pick<InstanceNormOptions, 'layout' | 'epsilon' | 'epsilonPlacement'>,
  ): void {
    const session = this.encoding('encodeStats');
    const gpu = session.live('encodeStats');
    checkedEncoder(encoder);
    const call = validateCall(shape, options);
    const g = call.geometry;
    const x = checkedBuffer('input', input, tensorBytes(g), tensorDetail(g));
    const stats = checkedBuffer(
      'output',
      output,
      2 * g.instanceCount * 4,
      `2 × N × C = ${2 * g.instanceCount} float32 values: means, then 1 / sqrt(var + epsilon)`,
    );
    gpuSources({ ...call, running: undefined }, gpu.device, bound({ input: x }, { output: stats }), false);
    session.record('encodeStats', undefined, () =>
      gpu.encodeStats(encoder, { ...call, running: undefined, input: x, buffers: 'cached' }, stats),
    );
  }

  /**
   * Adaptive instance normalization (AdaIN): normalizes `content` per instance and gives each
   * instance the mean and standard deviation sqrt(var + epsilon) (sqrt(var) + epsilon with
   * `epsilonPlacement: 'std'`) of the same instance of `style`, so that y = (x - mean(x)) / std(x) * std(style) + mean(style). `style` has the
   * content's layout and C, any spatial size, and N images (one per content image) or 1 (one
   * style for all). The fused epilogue options apply; `scale` and `bias` come from the style.
   *
   * @returns a new Float32Array of the content's shape.
   * @example
   * const stylized = await norm.adain(content, [1, 3, 256, 256], style, [1, 3, 512, 384]);
   */
  async adain(
    content: Float32Array,
    contentShape: readonly number[],
    style: Float32Array,
    styleShape: readonly number[],
    options?: AdainOptions,
  ): Promise<Float32Array<ArrayBuffer>>;
  /** AdaIN of tensors of halves (`dataType: 'float16'`): Uint16Arrays of half bits in and out. */
  async adain(
    content: Uint16Array,
    contentShape: readonly number[],
    style: Uint16Array,
    styleShape: readonly number[],
    options: AdainOptions & { dataType: 'float16' },
  ): Promise<Uint16Array<ArrayBuffer>>;
  async adain(
    content: TensorArray,
    contentShape: readonly number[],
    style: TensorArray,
    styleShape: readonly number[],
    options?: AdainOptions,
  ): Promise<TensorArray> {
    const session = this.usable('adain');
    if (!session) return adainCpu(content, contentShape, style, styleShape, options);
    validateAdain(contentShape, styleShape, options);
    const gpu = await session.ready('adain');
    const { content: call, style: styleGeometry } = validateAdain(contentShape, styleShape, options);
    validateInputArray(content, call.geometry, 'content');
    validateInputArray(style, styleGeometry, 'style');
    const sources = gpuSources(call, gpu.device, [], true);
    const uploads = sources.residualArray ? [content, style, sources.residualArray] : [content, style];
    const work = gpuRoundTrip(
      gpu.device,
      gpu.profile,
      'adain',
      uploads,
      [content.byteLength],
      (encoder, [c, s, r], [y], created) =>
        gpu.encodeAdain(
          encoder,
          { ...call, input: c, output: y, residual: r ?? sources.residual, buffers: created },
          { geometry: styleGeometry, input: s },
        ),
    );
    return tensorArray((await session.settled('adain', work))[0], call.geometry.dataType);
  }

  /**
   * Records {@link adain} on GPU buffers into `output`, which needs STORAGE usage and must
   * differ from `content`. Errors are reported as for {@link encode}.
   */
  encodeAdain(
    encoder: GPUCommandEncoder,
    content: GPUBuffer,
    style: GPUBuffer,
    output: GPUBuffer,
    contentShape: readonly number[],
    styleShape: readonly number[],
    options?: AdainOptions,
  ): void {
    const session = this.encoding('encodeAdain');
    const gpu = session.live('encodeAdain');
    checkedEncoder(encoder);
    const { content: call, style: styleGeometry } = validateAdain(contentShape, styleShape, options);
    const tensors = checkInputOutput(content, output, call.geometry, 'content');
    const s = checkedBuffer('style', style, tensorBytes(styleGeometry), tensorDetail(styleGeometry));
    const sources = gpuSources(call, gpu.device, bound({ content: tensors.input, style: s }, { output: tensors.output }), false);
    session.record('encodeAdain', undefined, () =>
      gpu.encodeAdain(
        encoder,
        { ...call, ...tensors, residual: sources.residual, buffers: 'cached' },
        { geometry: styleGeometry, input: s },
      ),
    );
  }

  /**
   * The backward pass of a normalization: the gradient of the input, and with scale, bias or
   * `affine: true` those of scale and bias, from the gradient of the output. Options are the
   * forward call's (layout, epsilon, scale, running statistics in eval mode) and its saved
   * statistics (`savedStats`, from stats()); without them the statistics are computed again.
   * On the CPU backend it runs {@link instanceNormBackwardCpu}.
   *
   * @example
   * const { gradInput, gradScale, gradBias } = await norm.backward(dy, x, [8, 64, 32, 32], { scale: gamma });
   */
  async backward(
    gradOutput: Float32Array,
    input: Float32Array,
    shape: readonly number[],
    options?: BackwardOptions,
  ): Promise<BackwardResult> {
    const session = this.usable('backward');
    if (!session) return instanceNormBackwardCpu(gradOutput, input, shape, options);
    validateBackward(shape, options);
    const gpu = await session.ready('backward');
    const checked = validateBackward(shape, options);
    const { call } = checked;
    validateInputArray(gradOutput, call.geometry, 'gradOutput');
    validateInputArray(input, call.geometry);
    const sources = gpuBackwardSources(checked, gpu.device, [], true);
    const { scale: scaleLength, bias: biasLength } = sources.gradLengths;
    const uploads = sources.savedArray ? [gradOutput, input, sources.savedArray] : [gradOutput, input];
    const outputs = checked.affine ? [input.byteLength, (scaleLength + biasLength) * 4] : [input.byteLength];
    const work = gpuRoundTrip(
      gpu.device,
      gpu.profile,
      'backward',
      uploads,
      outputs,
      (encoder, [dy, x, saved], [dx, dAffine], created) =>
        gpu.encodeBackward(encoder, {
          ...call,
          ...sources,
          gradOutput: dy,
          input: x,
          savedStats: saved ?? sources.savedStats,
          gradInput: dx,
          gradAffine: dAffine,
          running: checked.evalMode ? call.running : undefined,
          buffers: created,
        }),
    );
    const [gradInput, gradAffine] = await session.settled('backward', work);
    if (!gradAffine) return { gradInput: new Float32Array(gradInput) };
    const values = new Float32Array(gradAffine);
    return {
      gradInput: new Float32Array(gradInput),
      gradScale: values.slice(0, scaleLength),
      gradBias: values.slice(scaleLength),
    };
  }

  /**
   * Records the backward pass on GPU buffers (STORAGE usage): `gradInput` receives the input
   * gradient; `gradAffine`, where given, the gradient of scale then that of bias (C values each,
   * N × C for per-instance ones). `savedStats` in the options is the buffer the forward's
   * `saveStats` filled. Errors are reported as for {@link encode}.
   *
   * @example
   * norm.encode(encoder, x, y, shape, { scale: gamma, saveStats: statsBuffer });
   * norm.encodeBackward(encoder, { gradOutput: dy, input: x, gradInput: dx, gradAffine }, shape, { scale: gamma, savedStats: statsBuffer });
   */
  encodeBackward(
    encoder: GPUCommandEncoder,
    buffers: BackwardBuffers,
    shape: readonly number[],
    options?: BackwardOptions,
  ): void {
    const session = this.encoding('encodeBackward');
    const gpu = session.live('encodeBackward');
    checkedEncoder(encoder);
    const checked = validateBackward(shape, options);
    const { call } = checked;
    const g = call.geometry;
    if (buffers === null || typeof buffers !== 'object') {
      throw argumentError('buffers', `buffers must be { gradOutput, input, gradInput, gradAffine? }, got ${describe(buffers)}`);
    }
    const given = ownOptions(buffers, BACKWARD_BUFFER_KEYS, 'buffers');
    const { input, output: gradInput } = checkInputOutput(given.input, given.gradInput, g, 'input', 'gradInput');
    const gradOutput = checkedBuffer('gradOutput', given.gradOutput, tensorBytes(g), tensorDetail(g));
    const tensors = bound({ gradOutput, input }, { gradInput });
    const sources = gpuBackwardSources(checked, gpu.device, tensors, false, given.gradAffine);
    session.record('encodeBackward', undefined, () =>
      gpu.encodeBackward(encoder, {
        ...call,
        ...sources,
        gradOutput,
        input,
        gradInput,
        running: checked.evalMode ? call.running : undefined,
        buffers: 'cached',
      }),
    );
  }

  /**
   * Times every strategy for this shape on this device and keeps the fastest for its shape class
   * (layout, element kind, powers of two bounding the instance size and count) on this adapter,
   * for every instance in the page; with `persist: true` also in localStorage, for later visits.
   * Uses GPU timestamps where the device has 'timestamp-query'. A strategy forced at create()
   * still wins. Takes a few runs of each strategy: call it once, ahead of time.
   *
   * @example
   * const { strategy, milliseconds } = await norm.tune([1, 64, 128, 128], { persist: true });
   */
  async tune(
    shape: readonly number[],
    options?: InstanceNormOptions & { persist?: boolean; repetitions?: number },
  ): Promise<TuneResult> {
    const session = this.encoding('tune');
    const gpu = session.live('tune');
    const call = validateCall(shape, options, TUNE_KEYS);
    if (call.groupChannels > 1 || call.running) {
      throw unsupportedError(
        "tune() times the instance norm strategies; GroupNorm and running statistics take the planner's plans (a strategy forced at create() applies to GroupNorm)",
      );
    }
    const repetitions = call.options.repetitions ?? 7;
    if (typeof repetitions !== 'number' || !Number.isInteger(repetitions) || repetitions < 1 || repetitions > 100) {
      throw argumentError('repetitions', `repetitions must be an integer from 1 to 100, got ${describe(repetitions)}`);
    }
    const persist = call.options.persist ?? false;
    if (typeof persist !== 'boolean') throw argumentError('persist', `persist must be a boolean, got ${describe(persist)}`);
    const affine = gpuAffine(call.geometry, call.options);
    const { device } = gpu;
    const buffer = (label: string) =>
      device.createBuffer({
        label: `InstanceNorm.tune.${label}`,
        size: tensorBytes(call.geometry),
        usage: GPUBufferUsage.STORAGE,
      });
    const input = buffer('input');
    const output = buffer('output');
    // Each recording is checked in its own error scope, as in encode(): a scope held across the
    // awaits below could swallow the app's errors.
    const record: RecordCall = (encoder, recorded, plan, timestampWrites) => {
      device.pushErrorScope('validation');
      try {
        gpu.encode(encoder, recorded, plan, timestampWrites);
      } finally {
        session.track(device.popErrorScope(), 'tune');
      }
    };
    try {
      const measured = await timeStrategies(
        device,
        gpu.profile,
        record,
        { ...call, ...affine, input, output, buffers: 'cached' },
        repetitions,
      );
      await session.checkErrors();
      const strategy = STRATEGIES.reduce((best, s) => (measured.milliseconds[s] < measured.milliseconds[best] ? s : best));
      recordWinner(gpu.profile.adapterName, call.geometry, strategy, persist);
      gpu.replan();
      return { strategy, ...measured };
    } finally {
      input.destroy();
      output.destroy();
    }
  }

  /**
   * The plan the GPU backend would carry out for this shape and these options: strategy,
   * windows, dispatches, scratch sizes. A frozen object: plain data to inspect.
   */
  plan(shape: readonly number[], options?: InstanceNormOptions): InstanceNormPlan {
    const session = this.usable('plan');
    if (!session) throw needsWebGpu('plan');
    // A plan is plain data: it may be read even while the device is lost.
    const call = validateCall(shape, options);
    return session.backend.plan(call.geometry, call.running?.use, call.groupChannels, call.options.saveStats !== undefined);
  }

  /**
   * Running statistics of C channels where this instance works: in a GPU buffer on its device,
   * or on the CPU. Initially means 0 and variances 1, as in PyTorch.
   */
  createRunningStats(channels: number): RunningStats {
    const session = this.usable('createRunningStats');
    return new RunningStats(channels, session?.live('createRunningStats').device);
  }

  /**
   * The options of a PyTorch `InstanceNorm1d/2d/3d` from its `state_dict()` arrays (as
   * Float32Array: `weight`, `bias`, `running_mean`, `running_var`, `num_batches_tracked`) and
   * its constructor arguments: spread them into the options of each call. Running statistics
   * are made where this instance works and set from the arrays. Omitted arrays are omitted
   * options (no affine, or no running statistics).
   *
   * @example
   * const layer = norm.loadStateDict({ weight, bias, running_mean, running_var }, { eps: 1e-5 });
   * const y = await norm.run(x, [1, 64, 32, 32], { ...layer, training: false });
   */
  loadStateDict(stateDict: PyTorchStateDict, moduleOptions?: Pick<InstanceNormOptions, 'eps' | 'momentum'>): InstanceNormOptions {
    this.usable('loadStateDict');
    return optionsFromStateDict(stateDict, moduleOptions, (channels) => this.createRunningStats(channels));
  }

  /**
   * Moves the instance to another device, typically after its device was lost: its buffers on
   * the old device are freed, and pipelines are compiled anew on the new one. The instance
   * does not own (or destroy) a device attached this way.
   */
  attachDevice(device: GPUDevice): void {
    if (this.destroyed) throw destroyedError('attachDevice');
    if (!this.session)
      throw unsupportedError('attachDevice() needs the WebGPU backend; create a new InstanceNorm with { device }');
    this.session.attach(checkedDevice(device), false);
  }

  /** Resolves once every encode() so far has been validated by WebGPU; rejects with the first error. */
  async checkErrors(): Promise<void> {
    await this.session?.checkErrors();
  }

  /** Frees every buffer this instance made, and its device if it requested it. Later calls throw, and calls in flight reject. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.session?.destroy();
  }

  /** The GPU session where there is one; throws if destroyed, or a WebGPU error of earlier work. */
  private usable(method: string): GpuSession | undefined {
    if (this.destroyed) throw destroyedError(method);
    this.session?.throwDeferredError();
    return this.session;
  }

  /** The GPU session for a method that has no CPU counterpart. */
  private encoding(method: string): GpuSession {
    const session = this.usable(method);
    if (!session) throw needsWebGpu(method, method.startsWith('encode') ? ', use the typed-array methods' : '');
    return session;
  }
}

/** Named buffers a call reads and writes, for the aliasing check. */
function bound(reads: Record<string, GPUBuffer>, writes: Record<string, GPUBuffer>) {
  return [
    ...Object.entries(reads).map(([name, buffer]) => ({ name, buffer, writes: false })),
    ...Object.entries(writes).map(([name, buffer]) => ({ name, buffer, writes: true })),
  ];
}

/** Bytes read back from the GPU as the tensor's CPU array type. */
function tensorArray(bytes: ArrayBuffer, dataType: 'float32' | 'float16'): TensorArray {
  return dataType === 'float16' ? new Uint16Array(bytes) : new Float32Array(bytes);
}

/** create()'s options, checked: the device as given, the fallback, a forced strategy. */
function checkedCreateOptions(options: InstanceNormCreateOptions | undefined): {
  device: unknown;
  fallback: 'cpu' | 'error';
  strategy: Strategy | undefined;
} {
  const own = ownOptions(options, CREATE_KEYS);
  const fallback = own.fallback ?? 'cpu';
  if (fallback !== 'cpu' && fallback !== 'error') {
    throw argumentError('fallback', `fallback must be 'cpu' or 'error', got ${describe(fallback)}`);
  }
  const strategy = own.strategy ?? 'auto';
  if (strategy !== 'auto' && !STRATEGIES.includes(strategy as Strategy)) {
    throw argumentError(
      'strategy',
      `strategy must be 'auto' or one of ${STRATEGIES.map(describe).join(', ')}, got ${describe(strategy)}`,
    );
  }
  return { device: own.device, fallback, strategy: strategy === 'auto' ? undefined : (strategy as Strategy) };
}
