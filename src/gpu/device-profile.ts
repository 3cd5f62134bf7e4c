/**
 * What the planner needs to know of a device: its limits, and whether it is a CPU
 * implementation of WebGPU (SwiftShader, llvmpipe), where every workgroup barrier and every
 * dispatch costs a great deal, the opposite of a real GPU.
 */
export interface DeviceProfile {
  readonly maxWorkgroupsPerDimension: number;
  /**
   * The largest one-dimensional workgroup: the smaller of maxComputeInvocationsPerWorkgroup and
   * maxComputeWorkgroupSizeX (256 on most devices, 128 in compatibility mode). Every workgroup
   * size the planner picks is at most this.
   */
  readonly maxInvocationsPerWorkgroup: number;
  readonly maxStorageBufferBindingSize: number;
  readonly minStorageBufferOffsetAlignment: number;
  readonly maxBufferSize: number;
  readonly isCpuAdapter: boolean;
  readonly hasSubgroups: boolean;
  /** The adapter as the test output and the demo name it, e.g. 'google / swiftshader'. */
  readonly adapterName: string;
}

const CPU_ADAPTER_NAMES = /swiftshader|llvmpipe|lavapipe|software|warp/i;

export function deviceProfile(device: GPUDevice): DeviceProfile {
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  const names = info ? [info.vendor, info.architecture, info.device, info.description].filter(Boolean) : [];
  const isFallback = (info as (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined)?.isFallbackAdapter === true;
  return {
    maxWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
    maxInvocationsPerWorkgroup: Math.min(device.limits.maxComputeInvocationsPerWorkgroup, device.limits.maxComputeWorkgroupSizeX),
    maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
    minStorageBufferOffsetAlignment: device.limits.minStorageBufferOffsetAlignment,
    maxBufferSize: device.limits.maxBufferSize,
    isCpuAdapter: isFallback || names.some((name) => CPU_ADAPTER_NAMES.test(name)),
    hasSubgroups: device.features.has('subgroups'),
    adapterName: names.join(' / ') || 'unknown adapter',
  };
}
