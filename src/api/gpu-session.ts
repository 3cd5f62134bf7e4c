import type { CheckedCall } from '../core/checked-call.js';
import { gpuError, InstanceNormError, sentence, unsupportedError } from '../core/errors.js';
import type { Strategy } from '../core/options.js';
import { requestDevice } from '../gpu/device-request.js';
import { GpuBackend } from '../gpu/gpu-backend.js';
import { pendingPipelineError } from '../gpu/pipeline-cache.js';

/**
 * The WebGPU side of one InstanceNorm: its backend on the current device, whether it owns that
 * device, the device's loss and its replacement, and the WebGPU errors of recorded work, which
 * the next call or checkErrors() reports.
 */
export class GpuSession {
  private gpu: GpuBackend;
  private ownsDevice = false;
  private lost?: GPUDeviceLostInfo;
  // The one request for a device replacing a lost one, shared by every call waiting for it.
  private replacement?: Promise<void>;
  private deferredError?: InstanceNormError;
  private readonly pendingChecks = new Set<Promise<void>>();
  destroyed = false;

  constructor(
    device: GPUDevice,
    owns: boolean,
    private readonly strategy: Strategy | undefined,
  ) {
    this.gpu = this.attach(device, owns);
  }

  get device(): GPUDevice {
    return this.gpu.device;
  }

  /** The backend on the current device, lost or not: for what needs no device, such as plans. */
  get backend(): GpuBackend {
    return this.gpu;
  }

  /** Moves to another device: the old one's buffers are freed (and the device, if owned). */
  attach(device: GPUDevice, owns: boolean): GpuBackend {
    const previous = this.gpu as GpuBackend | undefined;
    if (previous) {
      previous.destroy();
      if (this.ownsDevice && previous.device !== device) previous.device.destroy();
    }
    const gpu = new GpuBackend(device, this.strategy);
    this.gpu = gpu;
    this.ownsDevice = owns;
    this.lost = undefined;
    device.lost.then((info) => {
      if (this.gpu.device === device) this.lost = info;
    });
    return gpu;
  }

  /** The backend, if its device still lives. */
  live(method: string): GpuBackend {
    if (this.lost) {
      const remedy = this.ownsDevice
        ? 'run() requests a new device, or attach one with attachDevice()'
        : 'attach a new device with attachDevice()';
      const message = sentence(this.lost.message);
      throw new InstanceNormError(
        `${method}(): the GPU device was lost (${this.lost.reason})${message ? `: ${message}` : ''}; ${remedy}`,
        { code: 'device-lost' },
      );
    }
    return this.gpu;
  }

  /** The backend for a typed-array call: after a loss of an owned device, on one replacement shared by the calls waiting for it. */
  async ready(method: string): Promise<GpuBackend> {
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
    return this.live(method);
  }

  /**
   * A typed-array call's round trip, settled: its running statistics update counts once the
   * work was submitted and read back without error; after destroy() it rejects.
   */
  async settled<T>(method: string, work: Promise<T>, update?: { commit(): void; cancel(): void }): Promise<T> {
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
  record(
    method: string,
    call: CheckedCall | undefined,
    record: (runningUpdate?: { readonly updatesBefore: number }) => void,
  ): void {
    const update = call?.running?.use === 'update' ? call.running.stats.reserveUpdate() : undefined;
    const { device } = this.gpu;
    device.pushErrorScope('validation');
    try {
      record(update);
      update?.commit();
    } finally {
      update?.cancel();
      this.track(device.popErrorScope(), method);
      // Pipelines check their own creation (and leave the cache if it failed): reported here too.
      const pipelines = pendingPipelineError(device);
      if (pipelines) this.track(pipelines, method);
    }
  }

  /** Reports the error `check` resolves with at the next call or checkErrors(). */
  track(check: Promise<GPUError | null>, method: string): void {
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

  async checkErrors(): Promise<void> {
    await Promise.all(this.pendingChecks);
    this.throwDeferredError();
  }

  throwDeferredError(): void {
    const error = this.deferredError;
    if (error) {
      this.deferredError = undefined;
      throw error;
    }
  }

  destroy(): void {
    this.destroyed = true;
    const device = this.gpu.device;
    this.gpu.destroy();
    if (this.ownsDevice) device.destroy();
  }
}

export function destroyedError(method: string): InstanceNormError {
  return new InstanceNormError(`${method}() called on a destroyed InstanceNorm`, { code: 'destroyed' });
}

/** The error of a GPU method called on the CPU backend. */
export function needsWebGpu(method: string, remedy = ''): InstanceNormError {
  return unsupportedError(`${method} needs the WebGPU backend; this instance runs on the CPU${remedy}`);
}
