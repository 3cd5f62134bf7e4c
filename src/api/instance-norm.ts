import { describe } from '../core/describe-value';
import { argumentError, gpuError, InstanceNormError, sentence, unsupportedError } from '../core/errors';
import type {
  AdainOptions,
  BackwardBuffers,
  BackwardOptions,
  BackwardResult,
  InstanceNormCreateOptions,
  InstanceNormOptions,
  InstanceStats,
} from '../core/options';
import { ownOptions } from '../core/own-options';
import { RunningStats } from '../core/running-stats';
import { tensorBytes } from '../core/tensor-geometry';
import { isGpuBuffer } from '../core/value-kinds';
import { checkedDevice, requestDevice } from '../gpu/device-request';
import { GpuBackend } from '../gpu/gpu-backend';
import { gpuRoundTrip } from '../gpu/gpu-round-trip';
import { STRATEGIES, type Strategy } from '../gpu/planner';
import { type RecordCall, type TuneResult, timeStrategies } from '../gpu/tuner';
import { recordWinner } from '../gpu/tuning-table';
import { validateBackward } from '../validation/backward-options';
import {
  checkedEncoder,
  checkInputOutput,
  gpuAffine,
  gpuResidual,
  gpuRunning,
  gpuSaveStats,
  gradAffineLength,
  statsBuffer,
} from '../validation/gpu-validation';
import { BACKWARD_BUFFER_KEYS, CREATE_KEYS, TUNE_KEYS } from '../validation/option-keys';
import {
  type CheckedCall,
  checkDistinctBuffers,
  checkedBuffer,
  isTensorArray,
  type TensorArray,
  tensorDetail,
  validateAdain,
  validateCall,
  validateInputArray,
  validateResidualArray,
  validateSavedStats,
} from '../validation/validation';
import { adainCpu, instanceNormBackwardCpu, instanceNormCpu, instanceStatsCpu } from './cpu-functions';
import type { InstanceNormPlan } from './plan-description';
import type { PyTorchStateDict } from './pytorch-state-dict';
import { optionsFromStateDict } from './pytorch-state-dict';

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

  private gpu?: GpuBackend;
  private ownsDevice = false;
  private lost?: GPUDeviceLostInfo;
  // The one request for a device replacing a lost one, shared by every call waiting for it.
  private replacement?: Promise<void>;
  private destroyed = false;
  private deferredError?: InstanceNormError;
  private readonly pendingChecks = new Set<Promise<void>>();

  private constructor(
    device: GPUDevice | undefined,
    ownsDevice: boolean,
    private readonly strategy: Strategy | undefined,
  ) {
    this.backend = device ? 'webgpu' : 'cpu';
    if (device) this.attach(device, ownsDevice);
  }

  /**
   * Creates an instance on the given device, or requests a device of its own, or falls back
   * to the CPU (unless `fallback: 'error'`). Async because requesting a device is.
   */
  static async create(options?: InstanceNormCreateOptions): Promise<InstanceNorm> {
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
    const forced = strategy === 'auto' ? undefined : (strategy as Strategy);
    if (own.device !== undefined) return new InstanceNorm(checkedDevice(own.device), false, forced);
    const device = await requestDevice().catch((error: unknown) => {
      if (fallback === 'error') throw error;
      return undefined;
    });
    return new InstanceNorm(device, device !== undefined, forced);
  }

  /** The device of the WebGPU backend (a new one after a lost device was replaced); undefined on the CPU. */
  get device(): GPUDevice | undefined {
    return this.gpu?.device;
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
    this.assertUsable('run');
    if (this.backend === 'cpu') return instanceNormCpu(input, shape, options);
    validateCall(shape, options); // bad arguments are reported before a lost device is replaced
    const gpu = await this.readyGpu('run');
    // Checked after any wait, and used at once: nothing the caller changes meanwhile is missed.
    const call = validateCall(shape, options);
    const g = call.geometry;
    validateInputArray(input, g);
    const affine = gpuAffine(g, call.options);
    const residual = call.options.residual;
    const residualArray = isTensorArray(residual) ? validateResidualArray(residual, g) : undefined;
    const residualBuffer = residual === undefined || residualArray ? undefined : gpuResidual(g, residual);
    const saveStats = gpuSaveStats(call);
    const running = gpuRunning(call, gpu.device);
    checkDistinctBuffers([
      { name: 'scale', buffer: asBuffer(affine.scale), writes: false },
      { name: 'bias', buffer: asBuffer(affine.bias), writes: false },
      { name: 'residual', buffer: residualBuffer, writes: false },
      { name: 'saveStats', buffer: saveStats, writes: true },
      { name: 'runningStats', buffer: running, writes: true },
    ]);
    const update = call.running?.use === 'update' ? call.running.stats.reserveUpdate() : undefined;
    const result = gpuRoundTrip(
      gpu.device,
      gpu.profile,
      'run',
      residualArray ? [input, residualArray] : [input],
      [input.byteLength],
      (encoder, [inputBuffer, uploadedResidual], [output], created) => {
        gpu.encode(encoder, {
          ...call,
          ...affine,
          residual: uploadedResidual ?? residualBuffer,
          saveStats,
          input: inputBuffer,
          output,
          runningUpdate: update,
          buffers: created,
        });
      },
    );
    const [bytes] = await this.settled('run', result, update);
    return tensorArray(bytes, g);
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
    this.assertUsable('encode');
    const gpu = this.liveEncoder('encode');
    checkedEncoder(encoder);
    const call = validateCall(shape, options);
    const buffers = checkInputOutput(input, output, call.geometry, 'input');
    const affine = gpuAffine(call.geometry, call.options);
    const residual = call.options.residual === undefined ? undefined : gpuResidual(call.geometry, call.options.residual);
    const saveStats = gpuSaveStats(call);
    checkDistinctBuffers([
      { name: 'input', buffer: buffers.input, writes: false },
      { name: 'output', buffer: buffers.output, writes: true },
      { name: 'scale', buffer: asBuffer(affine.scale), writes: false },
      { name: 'bias', buffer: asBuffer(affine.bias), writes: false },
      { name: 'residual', buffer: residual, writes: false },
      { name: 'saveStats', buffer: saveStats, writes: true },
      { name: 'runningStats', buffer: gpuRunning(call, gpu.device), writes: true },
    ]);
    this.recordChecked(gpu, 'encode', call, (runningUpdate) =>
      gpu.encode(encoder, { ...call, ...affine, residual, saveStats, ...buffers, runningUpdate, buffers: 'cached' }),
    );
  }

  /**
   * The statistics of every instance: mean and 1 / sqrt(var + epsilon), index `n * C + c`, as the
   * normalization uses them. On the GPU: the reductions of the split plan, read back; on the CPU
   * backend {@link instanceStatsCpu}. Of the options, `layout`, `epsilon`, `dataType` and
   * `groups` apply; the others are accepted and ignored, so that a call's options may be passed as they are.
   *
   * @example
   * const { mean, invStd } = await norm.stats(style, [1, 3, 256, 256]);
   */
  async stats(input: TensorArray, shape: readonly number[], options?: InstanceNormOptions): Promise<InstanceStats> {
    this.assertUsable('stats');
    if (this.backend === 'cpu') return instanceStatsCpu(input, shape, options);
    validateCall(shape, options);
    const gpu = await this.readyGpu('stats');
    const call = validateCall(shape, options);
    validateInputArray(input, call.geometry);
    const count = call.geometry.instanceCount;
    const result = gpuRoundTrip(
      gpu.device,
      gpu.profile,
      'stats',
      [input],
      [2 * count * 4],
      (encoder, [inputBuffer], [output], created) => {
        gpu.encodeStats(encoder, { ...call, input: inputBuffer, buffers: created }, output);
      },
    );
    const exported = new Float32Array((await this.settled('stats', result))[0]);
    return { mean: exported.subarray(0, count), invStd: exported.subarray(count) };
  }

  /**
   * Records the statistics of every instance into `output`: 2 × N × C float32 values, the means
   * (index `n * C + c`) then the 1 / sqrt(var + epsilon) of each instance (index `N * C + n * C + c`).
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
    options?: Pick<InstanceNormOptions, 'layout' | 'epsilon'>,
  ): void {
    this.assertUsable('encodeStats');
    const gpu = this.liveEncoder('encodeStats');
    checkedEncoder(encoder);
    const call = validateCall(shape, options);
    const g = call.geometry;
    const inputBuffer = checkedBuffer('input', input, tensorBytes(g), tensorDetail(g));
    const outputBuffer = statsBuffer('output', output, g);
    checkDistinctBuffers([
      { name: 'input', buffer: inputBuffer, writes: false },
      { name: 'output', buffer: outputBuffer, writes: true },
    ]);
    this.recordChecked(gpu, 'encodeStats', undefined, () =>
      gpu.encodeStats(encoder, { ...call, running: undefined, input: inputBuffer, buffers: 'cached' }, outputBuffer),
    );
  }

  /**
   * Adaptive instance normalization (AdaIN): normalizes `content` per instance and gives each
   * instance the mean and standard deviation sqrt(var + epsilon) of the same instance of
   * `style`, so that y = (x - mean(x)) / std(x) * std(style) + mean(style). `style` has the
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
    this.assertUsable('adain');
    if (this.backend === 'cpu') return adainCpu(content, contentShape, style, styleShape, options);
    validateAdain(contentShape, styleShape, options);
    const gpu = await this.readyGpu('adain');
    const { content: call, style: styleGeometry } = validateAdain(contentShape, styleShape, options);
    validateInputArray(content, call.geometry, 'content');
    validateInputArray(style, styleGeometry, 'style');
    const residual = call.options.residual;
    const residualArray = isTensorArray(residual) ? validateResidualArray(residual, call.geometry) : undefined;
    const residualBuffer = residual === undefined || residualArray ? undefined : gpuResidual(call.geometry, residual);
    const uploads = residualArray ? [content, style, residualArray] : [content, style];
    const result = gpuRoundTrip(
      gpu.device,
      gpu.profile,
      'adain',
      uploads,
      [content.byteLength],
      (encoder, [c, s, r], [output], created) => {
        gpu.encodeAdain(
          encoder,
          { ...call, input: c, output, residual: r ?? residualBuffer, buffers: created },
          { geometry: styleGeometry, input: s },
        );
      },
    );
    return tensorArray((await this.settled('adain', result))[0], call.geometry);
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
    this.assertUsable('encodeAdain');
    const gpu = this.liveEncoder('encodeAdain');
    checkedEncoder(encoder);
    const { content: call, style: styleGeometry } = validateAdain(contentShape, styleShape, options);
    const buffers = checkInputOutput(content, output, call.geometry, 'content');
    const styleBuffer = checkedBuffer('style', style, tensorBytes(styleGeometry), tensorDetail(styleGeometry));
    const residual = call.options.residual === undefined ? undefined : gpuResidual(call.geometry, call.options.residual);
    checkDistinctBuffers([
      { name: 'content', buffer: buffers.input, writes: false },
      { name: 'style', buffer: styleBuffer, writes: false },
      { name: 'output', buffer: buffers.output, writes: true },
      { name: 'residual', buffer: residual, writes: false },
    ]);
    this.recordChecked(gpu, 'encodeAdain', undefined, () =>
      gpu.encodeAdain(
        encoder,
        { ...call, ...buffers, residual, buffers: 'cached' },
        { geometry: styleGeometry, input: styleBuffer },
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
    this.assertUsable('backward');
    if (this.backend === 'cpu') return instanceNormBackwardCpu(gradOutput, input, shape, options);
    validateBackward(shape, options);
    const gpu = await this.readyGpu('backward');
    const checked = validateBackward(shape, options);
    const { call } = checked;
    const g = call.geometry;
    validateInputArray(gradOutput, g, 'gradOutput');
    validateInputArray(input, g);
    const affine = gpuAffine(g, call.options);
    const saved = call.options.savedStats;
    const savedBuffer = isGpuBuffer(saved) ? statsBuffer('savedStats', saved, g) : undefined;
    const savedArray = saved !== undefined && !savedBuffer ? concatStats(validateSavedStats(saved, g)) : undefined;
    const running = checked.evalMode ? gpuRunning(call, gpu.device) : undefined;
    checkDistinctBuffers([
      { name: 'scale', buffer: asBuffer(affine.scale), writes: false },
      { name: 'savedStats', buffer: savedBuffer, writes: true },
      { name: 'runningStats', buffer: running, writes: true },
    ]);
    const lengths = gradAffineLength(g, affine);
    const uploads = savedArray ? [gradOutput, input, savedArray] : [gradOutput, input];
    const outputs = checked.affine ? [input.byteLength, (lengths.scale + lengths.bias) * 4] : [input.byteLength];
    const result = gpuRoundTrip(gpu.device, gpu.profile, 'backward', uploads, outputs, (encoder, inputs, results, created) => {
      gpu.encodeBackward(encoder, {
        ...call,
        ...affine,
        gradOutput: inputs[0],
        input: inputs[1],
        savedStats: inputs[2] ?? savedBuffer,
        gradInput: results[0],
        gradAffine: results[1],
        running: checked.evalMode ? call.running : undefined,
        buffers: created,
      });
    });
    const [gradInput, gradAffine] = await this.settled('backward', result);
    if (!gradAffine) return { gradInput: new Float32Array(gradInput) };
    const values = new Float32Array(gradAffine);
    return {
      gradInput: new Float32Array(gradInput),
      gradScale: values.slice(0, lengths.scale),
      gradBias: values.slice(lengths.scale),
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
    this.assertUsable('encodeBackward');
    const gpu = this.liveEncoder('encodeBackward');
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
    const affine = gpuAffine(g, call.options);
    const lengths = gradAffineLength(g, affine);
    const affineFloats = lengths.scale + lengths.bias;
    const gradAffine =
      given.gradAffine === undefined
        ? undefined
        : checkedBuffer(
            'gradAffine',
            given.gradAffine,
            affineFloats * 4,
            `${affineFloats} float32 values: the scale gradient, then the bias gradient`,
          );
    const saved = call.options.savedStats;
    if (saved !== undefined && !isGpuBuffer(saved)) {
      throw argumentError(
        'savedStats',
        `savedStats must be a GPUBuffer for encodeBackward() (backward() also takes stats() arrays), got ${describe(saved)}`,
      );
    }
    const savedStats = saved && statsBuffer('savedStats', saved, g);
    const running = checked.evalMode ? gpuRunning(call, gpu.device) : undefined;
    checkDistinctBuffers([
      { name: 'gradOutput', buffer: gradOutput, writes: false },
      { name: 'input', buffer: input, writes: false },
      { name: 'gradInput', buffer: gradInput, writes: true },
      { name: 'gradAffine', buffer: gradAffine, writes: true },
      { name: 'scale', buffer: asBuffer(affine.scale), writes: false },
      { name: 'savedStats', buffer: savedStats, writes: true },
      { name: 'runningStats', buffer: running, writes: true },
    ]);
    this.recordChecked(gpu, 'encodeBackward', undefined, () =>
      gpu.encodeBackward(encoder, {
        ...call,
        ...affine,
        gradOutput,
        input,
        gradInput,
        gradAffine,
        savedStats,
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
    this.assertUsable('tune');
    const gpu = this.liveGpu('tune');
    const call = validateCall(shape, options, TUNE_KEYS);
    if (call.groupChannels > 1 || call.running) {
      throw unsupportedError(
        'tune() times the instance norm strategies; GroupNorm and running statistics always take the split plan',
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
    const bytes = tensorBytes(call.geometry);
    const buffer = (label: string) =>
      device.createBuffer({ label: `InstanceNorm.tune.${label}`, size: bytes, usage: GPUBufferUsage.STORAGE });
    const input = buffer('input');
    const output = buffer('output');
    // Each recording is checked in its own error scope, as in encode(): a scope held across the
    // awaits below could swallow the app's errors.
    const record: RecordCall = (encoder, recorded, plan, timestampWrites) => {
      device.pushErrorScope('validation');
      try {
        gpu.encode(encoder, recorded, plan, timestampWrites);
      } finally {
        this.track(device.popErrorScope(), 'tune');
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
      await this.checkErrors();
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
    this.assertUsable('plan');
    if (!this.gpu) throw unsupportedError('plan needs the WebGPU backend; this instance runs on the CPU');
    // A plan is plain data: it may be read even while the device is lost.
    const call = validateCall(shape, options);
    return this.gpu.plan(call.geometry, call.running?.use, call.groupChannels, call.options.saveStats !== undefined);
  }

  /**
   * Running statistics of C channels where this instance works: in a GPU buffer on its device,
   * or on the CPU. Initially means 0 and variances 1, as in PyTorch.
   */
  createRunningStats(channels: number): RunningStats {
    this.assertUsable('createRunningStats');
    return new RunningStats(channels, this.backend === 'webgpu' ? this.liveGpu('createRunningStats').device : undefined);
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
    this.assertUsable('loadStateDict');
    return optionsFromStateDict(stateDict, moduleOptions, (channels) => this.createRunningStats(channels));
  }

  /**
   * Moves the instance to another device, typically after its device was lost: its buffers on
   * the old device are freed, and pipelines are compiled anew on the new one. The instance
   * does not own (or destroy) a device attached this way.
   */
  attachDevice(device: GPUDevice): void {
    if (this.destroyed) throw destroyedError('attachDevice');
    if (this.backend === 'cpu') {
      throw unsupportedError('attachDevice() needs the WebGPU backend; create a new InstanceNorm with { device }');
    }
    this.attach(checkedDevice(device), false);
  }

  /** Resolves once every encode() so far has been validated by WebGPU; rejects with the first error. */
  async checkErrors(): Promise<void> {
    await Promise.all(this.pendingChecks);
    this.throwDeferredError();
  }

  /** Frees every buffer this instance made, and its device if it requested it. Later calls throw, and calls in flight reject. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    const device = this.gpu?.device;
    this.gpu?.destroy();
    if (this.ownsDevice) device?.destroy();
  }

  /** The GPU backend for an encode method, which has no CPU counterpart. */
  private liveEncoder(method: string): GpuBackend {
    if (this.backend === 'cpu') {
      throw unsupportedError(`${method} needs the WebGPU backend; this instance runs on the CPU, use the typed-array methods`);
    }
    return this.liveGpu(method);
  }

  /**
   * The GPU backend for a typed-array call: after a loss of the instance's own device, on a
   * replacement, requested once for all the calls waiting for it.
   */
  private async readyGpu(method: string): Promise<GpuBackend> {
    if (this.lost && this.ownsDevice) {
      this.replacement ??= requestDevice()
        .then((device) => {
          // destroy() while the request was out: the new device is nobody's.
          if (this.destroyed) device.destroy();
          else this.attach(device, true);
        })
        .finally(() => {
          this.replacement = undefined;
        });
      await this.replacement;
    }
    if (this.destroyed) throw destroyedError(method);
    return this.liveGpu(method);
  }

  /**
   * A typed-array call's round trip, settled: its running statistics update counts once the
   * work was submitted and read back without error; after destroy() it rejects.
   */
  private async settled<T>(method: string, work: Promise<T>, update?: { commit(): void; cancel(): void }): Promise<T> {
    try {
      const result = await work;
      if (this.destroyed) throw destroyedError(method);
      update?.commit();
      return result;
    } catch (error) {
      update?.cancel();
      throw this.destroyed ? destroyedError(method) : error;
    }
  }

  /**
   * Records into the caller's encoder in a validation error scope whose error the next call or
   * checkErrors() reports. A running statistics update counts once recorded: the app's submit
   * is out of sight.
   */
  private recordChecked(
    gpu: GpuBackend,
    method: string,
    call: CheckedCall | undefined,
    record: (runningUpdate?: { readonly updatesBefore: number }) => void,
  ): void {
    const update = call?.running?.use === 'update' ? call.running.stats.reserveUpdate() : undefined;
    gpu.device.pushErrorScope('validation');
    try {
      record(update);
      update?.commit();
    } finally {
      update?.cancel();
      this.track(gpu.device.popErrorScope(), method);
    }
  }

  private attach(device: GPUDevice, owns: boolean): void {
    const previous = this.gpu;
    if (previous) {
      previous.destroy();
      if (this.ownsDevice && previous.device !== device) previous.device.destroy();
    }
    this.gpu = new GpuBackend(device, this.strategy);
    this.ownsDevice = owns;
    this.lost = undefined;
    device.lost.then((info) => {
      if (this.gpu?.device === device) this.lost = info;
    });
  }

  /** The GPU backend, if this instance has one and its device still lives. */
  private liveGpu(method: string): GpuBackend {
    const gpu = this.gpu;
    if (!gpu) throw unsupportedError(`${method} needs the WebGPU backend; this instance runs on the CPU`);
    if (this.lost) {
      const remedy = this.ownsDevice
        ? 'run() requests a new device, or attach one with attachDevice()'
        : 'attach a new device with attachDevice()';
      const message = sentence(this.lost.message);
      throw new InstanceNormError(
        `${method}(): the GPU device was lost (${this.lost.reason})${message ? `: ${message}` : ''}; ${remedy}`,
        {
          code: 'device-lost',
        },
      );
    }
    return gpu;
  }

  private assertUsable(method: string): void {
    if (this.destroyed) throw destroyedError(method);
    this.throwDeferredError();
  }

  private throwDeferredError(): void {
    const error = this.deferredError;
    if (error) {
      this.deferredError = undefined;
      throw error;
    }
  }

  private track(check: Promise<GPUError | null>, method: string): void {
    const pending: Promise<void> = check.then(
      (error) => {
        this.pendingChecks.delete(pending);
        if (error && !this.deferredError) this.deferredError = gpuError(method, error);
      },
      () => {
        this.pendingChecks.delete(pending); // the device was lost: the next call reports it
      },
    );
    this.pendingChecks.add(pending);
  }
}

function destroyedError(method: string): InstanceNormError {
  return new InstanceNormError(`${method}() called on a destroyed InstanceNorm`, { code: 'destroyed' });
}

/** The buffer behind an affine source, where it is one of the caller's. */
function asBuffer(value: unknown): GPUBuffer | undefined {
  return isGpuBuffer(value) ? value : undefined;
}

/** Bytes read back from the GPU as the tensor's CPU array type. */
function tensorArray(bytes: ArrayBuffer, g: CheckedCall['geometry']): TensorArray {
  return g.dataType === 'float16' ? new Uint16Array(bytes) : new Float32Array(bytes);
}

/** [means; invStds] of saved statistics, as the forward's saveStats buffer holds them. */
function concatStats(stats: InstanceStats<ArrayBufferLike>): Float32Array {
  const out = new Float32Array(2 * stats.mean.length);
  out.set(stats.mean);
  out.set(stats.invStd, stats.mean.length);
  return out;
}
