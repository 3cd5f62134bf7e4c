import { type BackwardOptions, type BackwardResult, validateBackward } from './backward-options';
import { adainCpu, instanceNormBackwardCpu, instanceNormCpu, instanceStatsCpu } from './cpu-reference';
import { InstanceNormError } from './errors';
import { GpuBackend, type GpuCall } from './gpu-backend';
import { gpuRoundTrip } from './gpu-round-trip';
import { canonicalOptions } from './option-names';
import type { AdainOptions, InstanceNormOptions, InstanceStats } from './options';
import { type InstanceNormPlan, STRATEGIES, type Strategy } from './planner';
import { optionsFromStateDict, type PyTorchStateDict } from './pytorch-state-dict';
import { RunningStats } from './running-stats';
import { type TensorGeometry, tensorBytes } from './tensor-geometry';
import { type RecordCall, type TuneResult, timeStrategies } from './tuner';
import { recordWinner } from './tuning-table';
import {
  type CheckedCall,
  describe,
  describeKind,
  isGpuBuffer,
  isTensorArray,
  type TensorArray,
  validateAdain,
  validateAffineArray,
  validateCall,
  validateInputArray,
  validateResidualArray,
  validateSavedStats,
  validateStorageBuffer,
} from './validation';

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

// Asked for when the adapter has them; the kernels use them only where the device has them.
const OPTIONAL_FEATURES: readonly GPUFeatureName[] = ['subgroups', 'shader-f16', 'timestamp-query'];

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
  static async create(options: InstanceNormCreateOptions = {}): Promise<InstanceNorm> {
    if (options === null || typeof options !== 'object') {
      throw new InstanceNormError(`create options must be an object, got ${describe(options)}`);
    }
    const fallback = options.fallback ?? 'cpu';
    if (fallback !== 'cpu' && fallback !== 'error') {
      throw new InstanceNormError(`fallback must be 'cpu' or 'error', got ${describe(fallback)}`);
    }
    const strategy = options.strategy ?? 'auto';
    if (strategy !== 'auto' && !STRATEGIES.includes(strategy)) {
      throw new InstanceNormError(
        `strategy must be 'auto' or one of ${STRATEGIES.map(describe).join(', ')}, got ${describe(strategy)}`,
      );
    }
    const forced = strategy === 'auto' ? undefined : strategy;
    if (options.device !== undefined) {
      return new InstanceNorm(checkedDevice(options.device), false, forced);
    }
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
   * @param input - a Float32Array; with `dataType: 'float16'` a Uint16Array of half bits.
   * @param shape - `[N, C, ...spatial]` ('nchw', the default) or `[N, ...spatial, C]` ('nhwc').
   * @returns a new array of the input's type and shape.
   * @throws InstanceNormError on bad arguments, a destroyed instance, a lost device or a WebGPU error.
   */
  async run(input: Float32Array, shape: readonly number[], options?: InstanceNormOptions): Promise<Float32Array<ArrayBuffer>>;
  async run(
    input: Uint16Array,
    shape: readonly number[],
    options: InstanceNormOptions & { dataType: 'float16' },
  ): Promise<Uint16Array<ArrayBuffer>>;
  async run(input: TensorArray, shape: readonly number[], options?: InstanceNormOptions): Promise<TensorArray> {
    this.assertUsable('run');
    options = canonicalOptions(options);
    const call = validateCall(shape, options);
    validateInputArray(input, call.geometry);
    if (this.backend === 'cpu') return instanceNormCpu(input, shape, options);
    if (this.lost && this.ownsDevice) this.attach(await requestDevice(), true);
    const gpu = this.liveGpu('run');
    const affine = gpuAffine(call.geometry, options);
    const residual = options?.residual;
    const residualArray = isTensorArray(residual) ? validateResidualArray(residual, call.geometry) : undefined;
    const residualBuffer = residual === undefined || residualArray ? undefined : gpuResidual(call.geometry, residual, undefined);
    const saveStats = gpuSaveStats(call, options?.saveStats, [input, residual]);
    const result = await gpuRoundTrip(
      gpu.device,
      gpu.profile,
      'run',
      residualArray ? [input, residualArray] : [input],
      [input.byteLength],
      (encoder, [inputBuffer, uploadedResidual], [output]) => {
        gpu.encode(encoder, {
          ...call,
          ...affine,
          residual: uploadedResidual ?? residualBuffer,
          saveStats,
          input: inputBuffer,
          output,
        });
      },
    );
    return tensorArray(result[0], call.geometry);
  }

  /**
   * Records the normalization of `input` into `output` in the caller's encoder; nothing is
   * submitted or awaited. Both buffers need STORAGE usage and room for the shape's elements,
   * and must differ (in-place is not supported). WebGPU validation errors of this call are
   * reported by the next call on this instance, or by {@link checkErrors}.
   * Up to 256 calls with distinct sizes, epsilons or affine arrays may be recorded between submits.
   */
  encode(
    encoder: GPUCommandEncoder,
    input: GPUBuffer,
    output: GPUBuffer,
    shape: readonly number[],
    options?: InstanceNormOptions,
  ): void {
    this.assertUsable('encode');
    options = canonicalOptions(options);
    const gpu = this.liveEncoder('encode');
    const call = validateCall(shape, options);
    checkInputOutput(input, output, call.geometry, 'input');
    const affine = gpuAffine(call.geometry, options);
    const residual = options?.residual === undefined ? undefined : gpuResidual(call.geometry, options.residual, output);
    const saveStats = gpuSaveStats(call, options?.saveStats, [input, output, residual]);
    this.recordChecked(gpu, 'encode', () => gpu.encode(encoder, { ...call, ...affine, residual, saveStats, input, output }));
  }

  /**
   * The statistics of every instance: mean and 1 / sqrt(var + epsilon), index `n * C + c`, as the
   * normalization uses them. On the GPU: the reductions of the split plan, read back; on the CPU
   * backend {@link instanceStatsCpu}. Options other than `layout` and `epsilon` are ignored.
   *
   * @example
   * const { mean, invStd } = await norm.stats(style, [1, 3, 256, 256]);
   */
  async stats(input: TensorArray, shape: readonly number[], options?: InstanceNormOptions): Promise<InstanceStats> {
    this.assertUsable('stats');
    const call = validateCall(shape, options);
    validateInputArray(input, call.geometry);
    if (this.backend === 'cpu') return instanceStatsCpu(input, shape, options);
    if (this.lost && this.ownsDevice) this.attach(await requestDevice(), true);
    const gpu = this.liveGpu('stats');
    const count = call.geometry.instanceCount;
    const exported = await gpuRoundTrip(
      gpu.device,
      gpu.profile,
      'stats',
      [input],
      [2 * count * 4],
      (encoder, [inputBuffer], [output]) => {
        gpu.encodeStats(encoder, { ...call, input: inputBuffer }, output);
      },
    ).then(([bytes]) => new Float32Array(bytes));
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
    const call = validateCall(shape, options);
    const g = call.geometry;
    checkedBuffer('input', input, tensorBytes(g), tensorDetail(g));
    checkedBuffer('output', output, 0, '');
    if (input === output) throw new InstanceNormError('input and output are the same buffer');
    const statsDetail = `2 × N × C = ${2 * g.instanceCount} float32 values: means, then 1 / sqrt(var + epsilon)`;
    validateStorageBuffer('output buffer', output, 2 * g.instanceCount * 4, statsDetail);
    this.recordChecked(gpu, 'encodeStats', () => gpu.encodeStats(encoder, { ...call, input }, output));
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
    const { content: call, style: styleGeometry } = validateAdain(contentShape, styleShape, options);
    validateInputArray(content, call.geometry, 'content');
    validateInputArray(style, styleGeometry, 'style');
    if (this.backend === 'cpu') return adainCpu(content, contentShape, style, styleShape, options);
    if (this.lost && this.ownsDevice) this.attach(await requestDevice(), true);
    const gpu = this.liveGpu('adain');
    const residual = options?.residual;
    const residualArray = isTensorArray(residual) ? validateResidualArray(residual, call.geometry) : undefined;
    const residualBuffer = residual === undefined || residualArray ? undefined : gpuResidual(call.geometry, residual, undefined);
    const uploads = residualArray ? [content, style, residualArray] : [content, style];
    const result = await gpuRoundTrip(
      gpu.device,
      gpu.profile,
      'adain',
      uploads,
      [content.byteLength],
      (encoder, [c, s, r], [output]) => {
        gpu.encodeAdain(
          encoder,
          { ...call, input: c, output, residual: r ?? residualBuffer },
          { geometry: styleGeometry, input: s },
        );
      },
    );
    return tensorArray(result[0], call.geometry);
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
    const { content: call, style: styleGeometry } = validateAdain(contentShape, styleShape, options);
    checkInputOutput(content, output, call.geometry, 'content');
    checkedBuffer('style', style, tensorBytes(styleGeometry), tensorDetail(styleGeometry));
    if (style === output) {
      throw new InstanceNormError('style and output are the same buffer: the style is read while the output is written');
    }
    const residual = options?.residual === undefined ? undefined : gpuResidual(call.geometry, options.residual, output);
    this.recordChecked(gpu, 'encodeAdain', () =>
      gpu.encodeAdain(encoder, { ...call, input: content, output, residual }, { geometry: styleGeometry, input: style }),
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
    const checked = validateBackward(shape, options);
    const g = checked.call.geometry;
    validateInputArray(gradOutput, g, 'gradOutput');
    validateInputArray(input, g);
    if (this.backend === 'cpu') return instanceNormBackwardCpu(gradOutput, input, shape, options);
    if (this.lost && this.ownsDevice) this.attach(await requestDevice(), true);
    const gpu = this.liveGpu('backward');
    const affine = gpuAffine(g, canonicalOptions(options as InstanceNormOptions));
    const saved = options?.savedStats;
    const savedBuffer = isGpuBuffer(saved) ? gpuSavedStats(g, saved, [gradOutput, input]) : undefined;
    const savedArray = saved !== undefined && !savedBuffer ? concatStats(validateSavedStats(saved, g)) : undefined;
    const scaleLength = affine.scalePerInstance ? g.instanceCount : g.channels;
    const biasLength = affine.biasPerInstance ? g.instanceCount : g.channels;
    const uploads = savedArray ? [gradOutput, input, savedArray] : [gradOutput, input];
    const outputs = checked.affine ? [input.byteLength, (scaleLength + biasLength) * 4] : [input.byteLength];
    const [gradInput, gradAffine] = await gpuRoundTrip(
      gpu.device,
      gpu.profile,
      'backward',
      uploads,
      outputs,
      (encoder, inputs, results) => {
        gpu.encodeBackward(encoder, {
          ...checked.call,
          ...affine,
          gradOutput: inputs[0],
          input: inputs[1],
          savedStats: inputs[2] ?? savedBuffer,
          gradInput: results[0],
          gradAffine: results[1],
          running: checked.evalMode ? checked.call.running : undefined,
        });
      },
    );
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
    this.assertUsable('encodeBackward');
    const gpu = this.liveEncoder('encodeBackward');
    const checked = validateBackward(shape, options);
    const g = checked.call.geometry;
    if (buffers === null || typeof buffers !== 'object') {
      throw new InstanceNormError(`buffers must be { gradOutput, input, gradInput, gradAffine? }, got ${describe(buffers)}`);
    }
    const { gradOutput, input, gradInput, gradAffine } = buffers;
    checkInputOutput(input, gradInput, g, 'input');
    checkedBuffer('gradOutput', gradOutput, tensorBytes(g), tensorDetail(g));
    if (gradOutput === gradInput)
      throw new InstanceNormError('gradOutput and gradInput are the same buffer: gradOutput is read while gradInput is written');
    const affine = gpuAffine(g, canonicalOptions(options as InstanceNormOptions));
    if (gradAffine !== undefined) {
      const length =
        (affine.scalePerInstance ? g.instanceCount : g.channels) + (affine.biasPerInstance ? g.instanceCount : g.channels);
      checkedBuffer('gradAffine', gradAffine, length * 4, `${length} float32 values: the scale gradient, then the bias gradient`);
      if ([gradOutput, input, gradInput].includes(gradAffine))
        throw new InstanceNormError('gradAffine is one of the tensor buffers; give it a buffer of its own');
    }
    const saved = options?.savedStats;
    if (saved !== undefined && !isGpuBuffer(saved)) {
      throw new InstanceNormError(
        `savedStats must be a GPUBuffer for encodeBackward() (backward() also takes stats() arrays), got ${describeKind(saved)}`,
      );
    }
    const savedStats = saved && gpuSavedStats(g, saved, [gradOutput, input, gradInput, gradAffine]);
    this.recordChecked(gpu, 'encodeBackward', () =>
      gpu.encodeBackward(encoder, {
        ...checked.call,
        ...affine,
        gradOutput,
        input,
        gradInput,
        gradAffine,
        savedStats,
        running: checked.evalMode ? checked.call.running : undefined,
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
    options: InstanceNormOptions & { persist?: boolean; repetitions?: number } = {},
  ): Promise<TuneResult> {
    this.assertUsable('tune');
    const gpu = this.liveGpu('tune');
    const call = validateCall(shape, options);
    if (call.groupChannels > 1 || call.running) {
      throw new InstanceNormError(
        'tune() times the instance norm strategies; GroupNorm and running statistics always take the split plan',
      );
    }
    const repetitions = options.repetitions ?? 7;
    if (!Number.isInteger(repetitions) || repetitions < 1 || repetitions > 100) {
      throw new InstanceNormError(`repetitions must be an integer from 1 to 100, got ${describe(repetitions)}`);
    }
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
        // Timing runs must not fold into running statistics.
        { ...call, ...gpuAffine(call.geometry, canonicalOptions(options)), running: undefined, input, output },
        repetitions,
      );
      await this.checkErrors();
      const strategy = STRATEGIES.reduce((best, s) => (measured.milliseconds[s] < measured.milliseconds[best] ? s : best));
      recordWinner(gpu.profile.adapterName, call.geometry, strategy, options.persist === true);
      gpu.replan();
      return { strategy, ...measured };
    } finally {
      input.destroy();
      output.destroy();
    }
  }

  /** The plan the GPU backend would carry out for this shape: strategy, windows, dispatches, scratch sizes. */
  plan(shape: readonly number[], options?: InstanceNormOptions): InstanceNormPlan {
    this.assertUsable('plan');
    if (!this.gpu) throw new InstanceNormError('plan needs the WebGPU backend; this instance runs on the CPU');
    // A plan is plain data: it may be read even while the device is lost.
    const call = validateCall(shape, options);
    return this.gpu.plan(call.geometry, call.running?.use, call.groupChannels);
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
  loadStateDict(
    stateDict: PyTorchStateDict,
    moduleOptions: Pick<InstanceNormOptions, 'eps' | 'momentum'> = {},
  ): InstanceNormOptions {
    this.assertUsable('loadStateDict');
    return optionsFromStateDict(stateDict, moduleOptions, (channels) => this.createRunningStats(channels));
  }

  /**
   * Moves the instance to another device, typically after its device was lost: its buffers on
   * the old device are freed, and pipelines are compiled anew on the new one. The instance
   * does not own (or destroy) a device attached this way.
   */
  attachDevice(device: GPUDevice): void {
    if (this.destroyed) throw new InstanceNormError('attachDevice() called on a destroyed InstanceNorm');
    if (this.backend === 'cpu') {
      throw new InstanceNormError('attachDevice() needs the WebGPU backend; create a new InstanceNorm with { device }');
    }
    this.attach(checkedDevice(device), false);
  }

  /** Resolves once every encode() so far has been validated by WebGPU; rejects with the first error. */
  async checkErrors(): Promise<void> {
    await Promise.all(this.pendingChecks);
    this.throwDeferredError();
  }

  /** Frees every buffer this instance made, and its device if it requested it. Later calls throw. */
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
      throw new InstanceNormError(
        `${method} needs the WebGPU backend; this instance runs on the CPU, use the typed-array methods`,
      );
    }
    return this.liveGpu(method);
  }

  /** Runs `record` in a validation error scope whose error the next call or checkErrors() reports. */
  private recordChecked(gpu: GpuBackend, method: string, record: () => void): void {
    gpu.device.pushErrorScope('validation');
    try {
      record();
    } finally {
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
    if (!gpu) throw new InstanceNormError(`${method} needs the WebGPU backend; this instance runs on the CPU`);
    if (this.lost) {
      const remedy = this.ownsDevice
        ? 'run() requests a new device; or attach one with attachDevice()'
        : 'attach a new device with attachDevice()';
      throw new InstanceNormError(`${method}(): the GPU device was lost (${this.lost.reason}): ${this.lost.message}; ${remedy}`);
    }
    return gpu;
  }

  private assertUsable(method: string): void {
    if (this.destroyed) throw new InstanceNormError(`${method}() called on a destroyed InstanceNorm`);
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
        if (error && !this.deferredError) {
          this.deferredError = new InstanceNormError(`WebGPU error in InstanceNorm.${method}: ${error.message}`);
        }
      },
      () => {
        this.pendingChecks.delete(pending); // the device was lost: the next call reports it
      },
    );
    this.pendingChecks.add(pending);
  }
}

function checkedDevice(device: unknown): GPUDevice {
  if (typeof GPUDevice === 'undefined' || !(device instanceof GPUDevice)) {
    throw new InstanceNormError(`device must be a GPUDevice, got ${describe(device)}`);
  }
  return device;
}

/** A device of our own, with the optional features and the buffer limits the adapter allows. */
async function requestDevice(): Promise<GPUDevice> {
  const gpu = globalThis.navigator?.gpu;
  if (!gpu) throw new InstanceNormError('WebGPU is unavailable: navigator.gpu is missing in this browser or context');
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) throw new InstanceNormError('WebGPU is unavailable: navigator.gpu.requestAdapter() found no adapter');
  try {
    return await adapter.requestDevice({
      label: 'InstanceNorm.device',
      requiredFeatures: OPTIONAL_FEATURES.filter((feature) => adapter.features.has(feature)),
      requiredLimits: {
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxBufferSize: adapter.limits.maxBufferSize,
      },
    });
  } catch (cause) {
    throw new InstanceNormError(`WebGPU is unavailable: requestDevice() failed: ${String(cause)}`, { cause });
  }
}

/**
 * scale and bias checked for the GPU: Float32Array of C or N × C values (per instance), or
 * GPUBuffer of C values, N × C with `perInstanceAffine`.
 */
function gpuAffine(
  geometry: TensorGeometry,
  options: InstanceNormOptions | undefined,
): Pick<GpuCall, 'scale' | 'bias' | 'scalePerInstance' | 'biasPerInstance'> {
  const perInstanceBuffers = options?.perInstanceAffine === true;
  const bufferFloats = perInstanceBuffers ? geometry.instanceCount : geometry.channels;
  const bufferDetail = perInstanceBuffers ? `N × C = ${bufferFloats} float32 values` : `C = ${bufferFloats} float32 values`;
  const check = (name: 'scale' | 'bias', value: unknown): Float32Array | GPUBuffer | undefined => {
    if (value === undefined) return undefined;
    if (value instanceof Float32Array) return validateAffineArray(name, value, geometry);
    if (isGpuBuffer(value)) return validateStorageBuffer(name, value, bufferFloats * 4, bufferDetail);
    throw new InstanceNormError(
      `${name} must be a Float32Array or GPUBuffer of length C = ${geometry.channels} (or N × C), got ${describeKind(value)}`,
    );
  };
  const perInstance = (value: Float32Array | GPUBuffer | undefined) =>
    value instanceof Float32Array ? value.length !== geometry.channels : value !== undefined && perInstanceBuffers;
  const scale = check('scale', options?.scale);
  const bias = check('bias', options?.bias);
  return { scale, bias, scalePerInstance: perInstance(scale), biasPerInstance: perInstance(bias) };
}

/** "12 float32 values for shape [1, 3, 4]": the size a tensor's buffer needs, for messages. */
function tensorDetail(g: TensorGeometry): string {
  return `${g.elementCount} ${g.dataType} values for shape ${describe(g.shape)}`;
}

/** Bytes read back from the GPU as the tensor's CPU array type. */
function tensorArray(bytes: ArrayBuffer, g: TensorGeometry): TensorArray {
  return g.dataType === 'float16' ? new Uint16Array(bytes) : new Float32Array(bytes);
}

/** A GPUBuffer argument named `name`, of STORAGE usage and at least `floats` values. */
function checkedBuffer(name: string, value: unknown, bytes: number, detail: string): GPUBuffer {
  if (!isGpuBuffer(value)) throw new InstanceNormError(`${name} must be a GPUBuffer, got ${describeKind(value)}`);
  return validateStorageBuffer(`${name} buffer`, value, bytes, detail);
}

/** The input (or content) and output buffers of a normalization: both the tensor's size, and distinct. */
function checkInputOutput(input: unknown, output: unknown, g: TensorGeometry, inputName: 'input' | 'content'): void {
  checkedBuffer(inputName, input, tensorBytes(g), tensorDetail(g));
  checkedBuffer('output', output, tensorBytes(g), tensorDetail(g));
  if (input === output) {
    throw new InstanceNormError(`${inputName} and output are the same buffer: in-place normalization is not supported`);
  }
}

/** [means; invStds] of saved statistics, as the forward's saveStats buffer holds them. */
function concatStats(stats: InstanceStats<ArrayBufferLike>): Float32Array {
  const out = new Float32Array(2 * stats.mean.length);
  out.set(stats.mean);
  out.set(stats.invStd, stats.mean.length);
  return out;
}

/** A savedStats buffer for the backward: 2 × N × C floats, not one of the call's tensors. */
function gpuSavedStats(g: TensorGeometry, value: GPUBuffer, tensors: readonly unknown[]): GPUBuffer {
  const count = g.instanceCount;
  const buffer = checkedBuffer(
    'savedStats',
    value,
    2 * count * 4,
    `2 × N × C = ${2 * count} float32 values: means, then 1 / sqrt(var + epsilon)`,
  );
  if (tensors.includes(buffer)) throw new InstanceNormError('savedStats is one of the tensor buffers of the call');
  return buffer;
}

/** The forward's saveStats buffer: 2 × N × C floats, distinct from the tensors, and a forward that has batch statistics. */
function gpuSaveStats(call: CheckedCall, value: unknown, tensors: readonly unknown[]): GPUBuffer | undefined {
  if (value === undefined) return undefined;
  if (call.groupChannels > 1)
    throw new InstanceNormError('saveStats and groups cannot be combined: GroupNorm has no backward yet');
  if (call.running?.use === 'normalize-with') {
    throw new InstanceNormError(
      'saveStats in eval mode: the forward uses the running statistics, which the backward reads itself',
    );
  }
  const count = call.geometry.instanceCount;
  const buffer = checkedBuffer(
    'saveStats',
    value,
    2 * count * 4,
    `2 × N × C = ${2 * count} float32 values: means, then 1 / sqrt(var + epsilon)`,
  );
  if (tensors.includes(buffer))
    throw new InstanceNormError('saveStats is one of the tensor buffers of the call; give it a buffer of its own');
  return buffer;
}

/** A residual for encode(): a GPUBuffer of the input's size, not the output (read while it is written). */
function gpuResidual(geometry: TensorGeometry, value: unknown, output: GPUBuffer | undefined): GPUBuffer {
  if (!isGpuBuffer(value)) {
    throw new InstanceNormError(
      `residual must be a GPUBuffer for encode() (run() also takes a Float32Array), got ${describeKind(value)}`,
    );
  }
  if (value === output) {
    throw new InstanceNormError('residual and output are the same buffer: the residual is read while the output is written');
  }
  return validateStorageBuffer('residual', value, tensorBytes(geometry), tensorDetail(geometry));
}
