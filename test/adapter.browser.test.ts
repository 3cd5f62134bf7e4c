import { expect, it } from 'vitest';
import { InstanceNorm } from '../src';
import { deviceProfile } from '../src/gpu/device-profile';
import { workgroupLimit } from '../src/gpu/planner';

it('runs on a WebGPU adapter (implementation, adapter, features and the limits the planner uses named in the output)', async () => {
  const norm = await InstanceNorm.create({ fallback: 'error' });
  expect(norm.backend).toBe('webgpu');
  const device = norm.device!;
  const profile = deviceProfile(device);
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  const features = [...device.features].sort().join(', ');
  const limits = device.limits;
  const lines = [
    `browser: ${navigator.userAgent}`,
    `implementation: ${/Firefox\//.test(navigator.userAgent) ? 'wgpu (Firefox)' : /Chrome\//.test(navigator.userAgent) ? 'Dawn (Chromium)' : 'unknown'}`,
    `adapter: ${profile.adapterName}; CPU adapter: ${profile.isCpuAdapter}` +
      (info
        ? `; vendor '${info.vendor}', architecture '${info.architecture}', device '${info.device}', description '${info.description}'`
        : ''),
    `features: ${features || 'none'}`,
    `planner limits: maxComputeInvocationsPerWorkgroup ${limits.maxComputeInvocationsPerWorkgroup}, ` +
      `maxComputeWorkgroupSizeX ${limits.maxComputeWorkgroupSizeX} (largest workgroup planned: ${workgroupLimit(profile)}), ` +
      `maxComputeWorkgroupsPerDimension ${limits.maxComputeWorkgroupsPerDimension}, ` +
      `maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize}, ` +
      `minStorageBufferOffsetAlignment ${limits.minStorageBufferOffsetAlignment}, maxBufferSize ${limits.maxBufferSize}, ` +
      `maxStorageBuffersPerShaderStage ${limits.maxStorageBuffersPerShaderStage}, ` +
      `maxComputeWorkgroupStorageSize ${limits.maxComputeWorkgroupStorageSize}`,
  ];
  console.log(`WebGPU adapter:\n  ${lines.join('\n  ')}`);
  norm.destroy();
});
