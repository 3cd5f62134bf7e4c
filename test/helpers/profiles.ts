import type { DeviceProfile } from '../../src/gpu/device-profile';

/** A discrete GPU with WebGPU's default limits. */
export const GPU_PROFILE: DeviceProfile = {
  maxWorkgroupsPerDimension: 65535,
  maxInvocationsPerWorkgroup: 256,
  maxStorageBufferBindingSize: 2 ** 27,
  minStorageBufferOffsetAlignment: 256,
  maxBufferSize: 2 ** 28,
  isCpuAdapter: false,
  hasSubgroups: false,
  adapterName: 'test gpu',
};

/** SwiftShader: WebGPU on the CPU. */
export const CPU_ADAPTER_PROFILE: DeviceProfile = { ...GPU_PROFILE, isCpuAdapter: true, adapterName: 'google / swiftshader' };

/**
 * A compatibility-mode device (featureLevel 'compatibility', e.g. OpenGL ES) at its default
 * limits: workgroups of at most 128 invocations, 128 along x.
 */
export const COMPATIBILITY_PROFILE: DeviceProfile = {
  ...GPU_PROFILE,
  maxInvocationsPerWorkgroup: 128,
  adapterName: 'test compatibility-mode gpu',
};
