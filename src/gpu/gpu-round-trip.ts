import type { TensorArray } from '../core/checked-call.js';
import { gpuError, InstanceNormError, sentence, unsupportedError } from '../core/errors.js';
import type { DeviceProfile } from './device-profile.js';

/**
 * Records a call's work into `encoder`: `inputs` hold the uploaded arrays in order; buffers the
 * recording makes for this call alone go into `created`, destroyed with the call's own.
 */
export type RecordRoundTrip = (
  encoder: GPUCommandEncoder,
  inputs: readonly GPUBuffer[],
  outputs: readonly GPUBuffer[],
  created: GPUBuffer[],
) => void;

/**
 * One typed-array call on the GPU (run(), stats(), adain()): uploads `uploads` into new storage
 * buffers, lets `record` encode into output buffers of `outputBytes` each, submits and returns
 * copies of the outputs' bytes; every buffer made here is destroyed. WebGPU validation and
 * out-of-memory errors, and a device lost in flight, reject with InstanceNormError.
 */
export async function gpuRoundTrip(
  device: GPUDevice,
  profile: DeviceProfile,
  method: string,
  uploads: readonly TensorArray[],
  outputBytes: readonly number[],
  record: RecordRoundTrip,
): Promise<ArrayBuffer[]> {
  for (const bytes of [...uploads.map((u) => u.byteLength), ...outputBytes]) {
    if (bytes > profile.maxBufferSize) {
      throw unsupportedError(
        `${method}() needs a buffer of ${bytes} bytes, more than this device's maxBufferSize of ${profile.maxBufferSize}; ` +
          'work in parts with encode() on buffers of your own',
      );
    }
  }
  const created: GPUBuffer[] = [];
  const buffer = (label: string, size: number, usage: GPUBufferUsageFlags, mappedAtCreation = false) => {
    // Whole 4-byte words (an odd count of halves rounds up), and at least one.
    const words = Math.max(4, Math.ceil(size / 4) * 4);
    const b = device.createBuffer({ label: `InstanceNorm.${method}.${label}`, size: words, usage, mappedAtCreation });
    created.push(b);
    return b;
  };
  let openScopes = 0;
  try {
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    openScopes = 2;
    const inputs = uploads.map((data, index) => {
      const b = buffer(`input${index}`, data.byteLength, GPUBufferUsage.STORAGE, true);
      new Uint8Array(b.getMappedRange(), 0, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      b.unmap();
      return b;
    });
    const outputs = outputBytes.map((bytes, index) =>
      buffer(`output${index}`, bytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC),
    );
    // One readback for all outputs, each at its own whole-word offset.
    const offsets = outputs.map((_, index) => outputs.slice(0, index).reduce((sum, b) => sum + b.size, 0));
    const readback = buffer(
      'readback',
      outputs.reduce((sum, b) => sum + b.size, 0),
      GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    );
    const encoder = device.createCommandEncoder({ label: `InstanceNorm.${method}.encoder` });
    record(encoder, inputs, outputs, created);
    outputs.forEach((output, index) => {
      encoder.copyBufferToBuffer(output, 0, readback, offsets[index], output.size);
    });
    device.queue.submit([encoder.finish()]);
    const validation = device.popErrorScope();
    const memory = device.popErrorScope();
    openScopes = 0;
    // Settled before anything throws, so destroying the buffer below leaves no rejection unhandled.
    const mapFailure = await readback.mapAsync(GPUMapMode.READ).then(
      () => undefined,
      (cause: unknown) => ({ cause }),
    );
    if (mapFailure) {
      // Nothing here unmaps the readback early, so an aborted mapping means the device went
      // away; device.lost, with the reason, may resolve a little later.
      const lost = await Promise.race([device.lost, new Promise<undefined>((resolve) => setTimeout(resolve, 1000))]);
      const reason = lost ? `(${lost.reason}): ${sentence(lost.message)}` : `: ${sentence(String(mapFailure.cause))}`;
      throw new InstanceNormError(`${method}(): the GPU device was lost while this call was in flight ${reason}`, {
        code: 'device-lost',
        cause: mapFailure.cause,
      });
    }
    const error = (await validation) ?? (await memory);
    if (error) throw gpuError(method, error);
    const mapped = readback.getMappedRange();
    return outputBytes.map((bytes, index) => mapped.slice(offsets[index], offsets[index] + bytes));
  } finally {
    // A throw while recording leaves the scopes open: close them, or they would swallow the app's errors.
    for (; openScopes > 0; openScopes--) device.popErrorScope().catch(() => {});
    for (const b of created) b.destroy();
  }
}
