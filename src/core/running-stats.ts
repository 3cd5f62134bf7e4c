import { describe, describeKind } from './describe-value.js';
import { argumentError, InstanceNormError, unsupportedError } from './errors.js';
import { optionKeys, ownOptions } from './own-options.js';
import { isFloat32Array } from './value-kinds.js';

// A tensor holds at most 2^32 bytes, so at most 2^30 channels.
const MAX_CHANNELS = 2 ** 30;

const VALUES_KEYS = optionKeys<RunningStatsValues>({ mean: true, variance: true });

/** Running statistics as arrays: one mean and one (unbiased) variance per channel. */
export interface RunningStatsValues<TBuffer extends ArrayBufferLike = ArrayBuffer> {
  /** Running mean of each channel. */
  readonly mean: Float32Array<TBuffer>;
  /** Running unbiased variance of each channel. */
  readonly variance: Float32Array<TBuffer>;
}

/**
 * The running mean and variance of the C channels of one normalization layer: PyTorch's
 * `running_mean` and `running_var` (initially zeros and ones). A call in training mode
 * (the default) with `runningStats` folds the batch's statistics into them:
 * `running = (1 - momentum) * running + momentum * mean over N of the batch value`, with the
 * unbiased variance; a call with `training: false` normalizes with them instead. They live
 * where the work runs: in a GPU buffer of 2 × C float32 (means, then variances) on the WebGPU
 * backend, in an array on the CPU. Make them with {@link InstanceNorm.createRunningStats}, or
 * with `new RunningStats(C)` for {@link instanceNormCpu}.
 *
 * @example
 * const running = norm.createRunningStats(64);
 * norm.encode(encoder, x, y, [8, 64, 32, 32], { runningStats: running });            // training
 * norm.encode(encoder, x, y, [1, 64, 32, 32], { runningStats: running, training: false }); // eval
 * const { mean, variance } = await running.read();
 */
export class RunningStats {
  /** Updates folded in so far: PyTorch's `num_batches_tracked`. `momentum: null` averages over them. */
  batchesTracked = 0;
  /** The values on the GPU: 2 × C float32, means then variances. Undefined on the CPU. */
  readonly buffer: GPUBuffer | undefined;
  private readonly values: Float32Array | undefined;
  private destroyed = false;
  // Updates recorded but not yet known to be submitted (run() in flight).
  private pendingUpdates = 0;

  /**
   * @param channels - C, the channel count of the tensors it will follow.
   * @param device - where the values live; default: on the CPU.
   */
  constructor(
    readonly channels: number,
    readonly device?: GPUDevice,
  ) {
    if (!Number.isInteger(channels) || channels < 1 || channels > MAX_CHANNELS) {
      throw argumentError('channels', `channels must be an integer from 1 to 2^30, got ${describe(channels)}`);
    }
    if (device && 8 * channels > Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize)) {
      throw unsupportedError(
        `running statistics of ${channels} channels need ${8 * channels} bytes, more than this device's buffer limits (maxStorageBufferBindingSize ${device.limits.maxStorageBufferBindingSize}, maxBufferSize ${device.limits.maxBufferSize})`,
      );
    }
    let initial: Float32Array;
    try {
      initial = new Float32Array(2 * channels).fill(1, channels); // means 0, variances 1
    } catch (cause) {
      throw new InstanceNormError(`running statistics of ${channels} channels could not be allocated`, {
        code: 'out-of-memory',
        cause,
      });
    }
    if (device) {
      this.buffer = device.createBuffer({
        label: 'InstanceNorm.runningStats',
        size: initial.byteLength,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
        mappedAtCreation: true,
      });
      new Float32Array(this.buffer.getMappedRange()).set(initial);
      this.buffer.unmap();
    } else {
      this.values = initial;
    }
  }

  /** A copy of the current values; on the GPU, once the work submitted so far is done. */
  async read(): Promise<RunningStatsValues> {
    this.assertLive('read');
    const c = this.channels;
    if (this.values) return { mean: this.values.slice(0, c), variance: this.values.slice(c) };
    const { device, buffer } = this.gpuState();
    const readback = device.createBuffer({ size: 8 * c, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      const encoder = device.createCommandEncoder({ label: 'InstanceNorm.runningStats.read' });
      encoder.copyBufferToBuffer(buffer, 0, readback, 0, 8 * c);
      device.queue.submit([encoder.finish()]);
      await readback.mapAsync(GPUMapMode.READ).catch((cause: unknown) => {
        throw new InstanceNormError('RunningStats.read(): the GPU device was lost', { code: 'device-lost', cause });
      });
      const all = new Float32Array(readback.getMappedRange().slice(0));
      return { mean: all.slice(0, c), variance: all.slice(c) };
    } finally {
      readback.destroy();
    }
  }

  /**
   * Sets the means and/or variances (length C each), for example PyTorch's exported
   * `running_mean` and `running_var`. On the GPU the write lands before the next submit.
   */
  set(values: Partial<RunningStatsValues<ArrayBufferLike>>): void {
    this.assertLive('set');
    if (values === null || typeof values !== 'object') {
      throw argumentError(
        'values',
        `values must be { mean?, variance? } of Float32Array(C = ${this.channels}), got ${describe(values)}`,
      );
    }
    const own = ownOptions(values, VALUES_KEYS, 'values');
    // Both checked before either is written.
    for (const name of ['mean', 'variance'] as const) {
      const array = own[name];
      if (array !== undefined && (!isFloat32Array(array) || array.length !== this.channels)) {
        throw argumentError(
          name,
          `running ${name} must be a Float32Array of length C = ${this.channels}, got ${describeKind(array)}`,
        );
      }
    }
    for (const name of ['mean', 'variance'] as const) {
      const array = own[name] as Float32Array | undefined;
      if (array === undefined) continue;
      const offset = name === 'mean' ? 0 : this.channels;
      if (this.values) this.values.set(array, offset);
      else {
        const { device, buffer } = this.gpuState();
        device.queue.writeBuffer(buffer, offset * 4, array.slice());
      }
    }
  }

  /** Frees the GPU buffer. Later use throws. */
  destroy(): void {
    this.destroyed = true;
    this.buffer?.destroy();
  }

  /** Whether destroy() was called. */
  get isDestroyed(): boolean {
    return this.destroyed;
  }

  /**
   * The CPU values, [means; variances], updated in place; for the CPU backend.
   * @internal
   */
  cpuValues(): Float32Array {
    this.assertLive('use');
    if (!this.values) {
      throw argumentError(
        'runningStats',
        'runningStats live on a GPU device; the CPU backend needs ones made with new RunningStats(C)',
      );
    }
    return this.values;
  }

  /**
   * The GPU buffer, checked to be on `device`; for the WebGPU backend.
   * @internal
   */
  gpuBufferOn(device: GPUDevice): GPUBuffer {
    this.assertLive('use');
    if (!this.buffer || this.device !== device) {
      throw argumentError(
        'runningStats',
        this.buffer
          ? 'runningStats live on another GPU device than this InstanceNorm; make them with its createRunningStats()'
          : 'runningStats live on the CPU; the WebGPU backend needs ones made with norm.createRunningStats(C)',
      );
    }
    return this.buffer;
  }

  /**
   * Reserves the next update for work being recorded: `updatesBefore` counts the updates folded
   * in or in flight before it (momentum null weighs the batch by 1 / (updatesBefore + 1)).
   * `commit()` once the work is submitted counts it in batchesTracked; `cancel()` if it was not.
   * @internal
   */
  reserveUpdate(): { readonly updatesBefore: number; commit(): void; cancel(): void } {
    const updatesBefore = this.batchesTracked + this.pendingUpdates;
    this.pendingUpdates++;
    let settled = false;
    const settle = (counted: boolean) => {
      if (settled) return;
      settled = true;
      this.pendingUpdates--;
      if (counted) this.batchesTracked++;
    };
    return { updatesBefore, commit: () => settle(true), cancel: () => settle(false) };
  }

  private gpuState(): { device: GPUDevice; buffer: GPUBuffer } {
    if (!this.device || !this.buffer) throw unsupportedError('runningStats have no GPU buffer');
    return { device: this.device, buffer: this.buffer };
  }

  private assertLive(method: string): void {
    if (this.destroyed) throw new InstanceNormError(`RunningStats.${method}() after destroy()`, { code: 'destroyed' });
  }
}
