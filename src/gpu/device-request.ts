import { describe } from '../core/describe-value';
import { argumentError, InstanceNormError, sentence } from '../core/errors';
import { isGpuDevice } from '../core/value-kinds';

// Asked for when the adapter has them; the kernels use them only where the device has them.
const OPTIONAL_FEATURES: readonly GPUFeatureName[] = ['subgroups', 'shader-f16', 'timestamp-query'];

/** A device argument: a GPUDevice of any realm. */
export function checkedDevice(device: unknown): GPUDevice {
  if (!isGpuDevice(device)) throw argumentError('device', `device must be a GPUDevice, got ${describe(device)}`);
  return device;
}

/** A device of our own, with the optional features and the buffer limits the adapter allows. */
export async function requestDevice(): Promise<GPUDevice> {
  const unavailable = (why: string, cause?: unknown) =>
    new InstanceNormError(`WebGPU is unavailable: ${why}`, { code: 'webgpu-unavailable', cause });
  const gpu = globalThis.navigator?.gpu;
  if (!gpu) throw unavailable('navigator.gpu is missing in this browser or context');
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) throw unavailable('navigator.gpu.requestAdapter() found no adapter');
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
    throw unavailable(`requestDevice() failed: ${sentence(String(cause))}`, cause);
  }
}
