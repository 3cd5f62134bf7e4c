import { describe } from '../core/describe-value.js';
import { argumentError, InstanceNormError, sentence } from '../core/errors.js';
import { isGpuDevice } from '../core/value-kinds.js';
import { STORAGE_BUFFERS_PER_PASS } from './pipeline-cache.js';

// Asked for when the adapter has them; the kernels use them only where the device has them.
const OPTIONAL_FEATURES: readonly GPUFeatureName[] = ['subgroups', 'shader-f16', 'timestamp-query'];

/** A device argument: a GPUDevice of any realm. */
export function checkedDevice(device: unknown): GPUDevice {
  if (!isGpuDevice(device)) throw argumentError('device', `device must be a GPUDevice, got ${describe(device)}`);
  return device;
}

/**
 * Why the kernels cannot run on `device`, or undefined where they can. A compatibility-mode
 * device (featureLevel 'compatibility') at its default limits allows 4 storage buffers per
 * shader stage; every pass binds STORAGE_BUFFERS_PER_PASS. Its other limits (workgroups of 128
 * invocations) the planner follows.
 */
export function unsupportedDeviceReason(device: GPUDevice): string | undefined {
  const storageBuffers = device.limits.maxStorageBuffersPerShaderStage;
  if (storageBuffers >= STORAGE_BUFFERS_PER_PASS) return undefined;
  const compatibility = !device.features.has('core-features-and-limits' as GPUFeatureName);
  return (
    `this device allows ${storageBuffers} storage buffers per shader stage (maxStorageBuffersPerShaderStage) ` +
    `and the kernels bind ${STORAGE_BUFFERS_PER_PASS}` +
    (compatibility ? ', as a compatibility-mode device does at its default limits' : '') +
    `: request the device with requiredLimits: { maxStorageBuffersPerShaderStage: ${STORAGE_BUFFERS_PER_PASS} } where its adapter allows it`
  );
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
        // Where the adapter is a compatibility-mode one (default 4): as many as the kernels bind.
        maxStorageBuffersPerShaderStage: Math.min(adapter.limits.maxStorageBuffersPerShaderStage, STORAGE_BUFFERS_PER_PASS),
      },
    });
  } catch (cause) {
    throw unavailable(`requestDevice() failed: ${sentence(String(cause))}`, cause);
  }
}
