import { instanceNormCpu } from './cpu-reference';
import { InstanceNormError } from './errors';
import { GpuBackend, type GpuCall } from './gpu-backend';
import type { InstanceNormOptions } from './options';
import { type InstanceNormPlan, STRATEGIES, type Strategy } from './planner';
import type { TensorGeometry } from './tensor-geometry';
import {
  describe,
  describeKind,
  isGpuBuffer,
  validateAffineArray,
  validateCall,
  validateInputArray,
  validateStorageBuffer,
} from './validation';

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
  /** The device of the WebGPU backend; undefined on the CPU backend. */
  readonly device?: GPUDevice;

  private readonly gpu?: GpuBackend;
  private destroyed = false;
  private lost?: GPUDeviceLostInfo;
  private deferredError?: InstanceNormError;
  private readonly pendingChecks = new Set<Promise<void>>();

  private constructor(
    device: GPUDevice | undefined,
    private readonly ownsDevice: boolean,
    strategy: Strategy | undefined,
  ) {
    this.backend = device ? 'webgpu' : 'cpu';
    this.device = device;
    if (device) {
      this.gpu = new GpuBackend(device, strategy);
      device.lost.then((info) => {
        this.lost = info;
      });
    }
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
      throw new InstanceNormError(`strategy must be 'auto' or one of ${STRATEGIES.map(describe).join(', ')}, got ${describe(strategy)}`);
    }
    const forced = strategy === 'auto' ? undefined : strategy;
    if (options.device !== undefined) {
      if (typeof GPUDevice === 'undefined' || !(options.device instanceof GPUDevice)) {
        throw new InstanceNormError(`device must be a GPUDevice, got ${describe(options.device)}`);
      }
      return new InstanceNorm(options.device, false, forced);
    }
    const unavailable = (why: string): InstanceNorm => {
      if (fallback === 'error') throw new InstanceNormError(`WebGPU is unavailable: ${why} (fallback: 'error')`);
      return new InstanceNorm(undefined, false, undefined);
    };
    const gpu = globalThis.navigator?.gpu;
    if (!gpu) return unavailable('navigator.gpu is missing in this browser or context');
    const adapter = await gpu.requestAdapter().catch(() => null);
    if (!adapter) return unavailable('navigator.gpu.requestAdapter() found no adapter');
    const device = await adapter.requestDevice({
      label: 'InstanceNorm.device',
      requiredFeatures: OPTIONAL_FEATURES.filter((feature) => adapter.features.has(feature)),
      requiredLimits: {
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxBufferSize: adapter.limits.maxBufferSize,
      },
    });
    return new InstanceNorm(device, true, forced);
  }

  /**
   * Normalizes a typed array: uploads it, computes, reads the result back.
   * On the CPU backend it runs {@link instanceNormCpu}.
   *
   * @param shape - `[N, C, ...spatial]` ('nchw', the default) or `[N, ...spatial, C]` ('nhwc').
   * @returns a new Float32Array of the input's shape.
   * @throws InstanceNormError on bad arguments, a destroyed instance, a lost device or a WebGPU error.
   */
  async run(input: Float32Array, shape: readonly number[], options?: InstanceNormOptions): Promise<Float32Array> {
    this.assertUsable('run');
    const call = validateCall(shape, options);
    validateInputArray(input, call.geometry);
    if (!this.gpu) return instanceNormCpu(input, shape, options);
    this.checkBindingSize(call.geometry);
    const affine = this.gpuAffine(call.geometry, options);
    const { device } = this.gpu;
    const bytes = input.byteLength;
    const created: GPUBuffer[] = [];
    const buffer = (label: string, usage: GPUBufferUsageFlags, mappedAtCreation = false) => {
      const b = device.createBuffer({ label: `InstanceNorm.run.${label}`, size: bytes, usage, mappedAtCreation });
      created.push(b);
      return b;
    };
    try {
      device.pushErrorScope('out-of-memory');
      device.pushErrorScope('validation');
      const inputBuffer = buffer('input', GPUBufferUsage.STORAGE, true);
      new Float32Array(inputBuffer.getMappedRange()).set(input);
      inputBuffer.unmap();
      const outputBuffer = buffer('output', GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
      const readback = buffer('readback', GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
      const encoder = device.createCommandEncoder({ label: 'InstanceNorm.run.encoder' });
      this.gpu.encode(encoder, { ...call, ...affine, input: inputBuffer, output: outputBuffer });
      encoder.copyBufferToBuffer(outputBuffer, 0, readback, 0, bytes);
      device.queue.submit([encoder.finish()]);
      const validation = device.popErrorScope();
      const memory = device.popErrorScope();
      // Settled before anything throws, so destroying the buffer below leaves no rejection unhandled.
      const mapFailure = await readback.mapAsync(GPUMapMode.READ).then(() => undefined, (cause: unknown) => ({ cause }));
      const error = (await validation) ?? (await memory);
      if (error) throw new InstanceNormError(`WebGPU error in InstanceNorm.run: ${error.message}`);
      if (mapFailure) {
        const why = this.lost ? `the GPU device was lost (${this.lost.message})` : String(mapFailure.cause);
        throw new InstanceNormError(`run(): reading the result back failed: ${why}`, mapFailure);
      }
      return new Float32Array(readback.getMappedRange().slice(0));
    } finally {
      for (const b of created) b.destroy();
    }
  }

  /**
   * Records the normalization of `input` into `output` in the caller's encoder; nothing is
   * submitted or awaited. Both buffers need STORAGE usage and room for the shape's elements,
   * and must differ (in-place is not supported). WebGPU validation errors of this call are
   * reported by the next call on this instance, or by {@link checkErrors}.
   */
  encode(
    encoder: GPUCommandEncoder,
    input: GPUBuffer,
    output: GPUBuffer,
    shape: readonly number[],
    options?: InstanceNormOptions,
  ): void {
    this.assertUsable('encode');
    if (!this.gpu) throw new InstanceNormError('encode needs the WebGPU backend; this instance runs on the CPU, use run()');
    const call = validateCall(shape, options);
    const detail = `${call.geometry.elementCount} float32 values for shape ${describe(call.geometry.shape)}`;
    if (!isGpuBuffer(input)) throw new InstanceNormError(`input must be a GPUBuffer, got ${describeKind(input)}`);
    if (!isGpuBuffer(output)) throw new InstanceNormError(`output must be a GPUBuffer, got ${describeKind(output)}`);
    if (input === output) {
      throw new InstanceNormError('input and output are the same buffer: in-place normalization is not supported');
    }
    validateStorageBuffer('input buffer', input, call.geometry.elementCount, detail);
    validateStorageBuffer('output buffer', output, call.geometry.elementCount, detail);
    this.checkBindingSize(call.geometry);
    const affine = this.gpuAffine(call.geometry, options);
    const { device } = this.gpu;
    device.pushErrorScope('validation');
    try {
      this.gpu.encode(encoder, { ...call, ...affine, input, output });
    } finally {
      this.track(device.popErrorScope(), 'encode');
    }
  }

  /** The plan the GPU backend would carry out for this shape: strategy, dispatches, scratch sizes. */
  plan(shape: readonly number[], options?: InstanceNormOptions): InstanceNormPlan {
    this.assertUsable('plan');
    if (!this.gpu) throw new InstanceNormError('plan needs the WebGPU backend; this instance runs on the CPU');
    return this.gpu.plan(validateCall(shape, options).geometry);
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
    this.gpu?.destroy();
    if (this.ownsDevice) this.device?.destroy();
  }

  private assertUsable(method: string): void {
    if (this.destroyed) throw new InstanceNormError(`${method}() called on a destroyed InstanceNorm`);
    if (this.lost) {
      throw new InstanceNormError(`${method}(): the GPU device was lost (${this.lost.reason}): ${this.lost.message}`);
    }
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
    const pending = check.then((error) => {
      this.pendingChecks.delete(pending);
      if (error && !this.deferredError) {
        this.deferredError = new InstanceNormError(`WebGPU error in InstanceNorm.${method}: ${error.message}`);
      }
    });
    this.pendingChecks.add(pending);
  }

  private checkBindingSize(geometry: TensorGeometry): void {
    const { maxStorageBufferBindingSize: limit } = this.gpu!.profile;
    const bytes = geometry.elementCount * 4;
    if (bytes > limit) {
      throw new InstanceNormError(
        `shape ${describe(geometry.shape)} needs ${bytes} bytes, more than this device's maxStorageBufferBindingSize of ${limit}`,
      );
    }
  }

  private gpuAffine(geometry: TensorGeometry, options: InstanceNormOptions | undefined): Pick<GpuCall, 'scale' | 'bias'> {
    const check = (name: 'scale' | 'bias', value: unknown): Float32Array | GPUBuffer | undefined => {
      if (value === undefined) return undefined;
      if (value instanceof Float32Array) return validateAffineArray(name, value, geometry);
      if (isGpuBuffer(value)) return validateStorageBuffer(name, value, geometry.channels, `C = ${geometry.channels} float32 values`);
      throw new InstanceNormError(`${name} must be a Float32Array or GPUBuffer of length C = ${geometry.channels}, got ${describeKind(value)}`);
    };
    return { scale: check('scale', options?.scale), bias: check('bias', options?.bias) };
  }
}
