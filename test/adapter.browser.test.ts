import { expect, it } from 'vitest';
import { InstanceNorm } from '../src';
import { deviceProfile } from '../src/gpu/device-profile';

it('runs on a WebGPU adapter (named in the output)', async () => {
  const norm = await InstanceNorm.create({ fallback: 'error' });
  expect(norm.backend).toBe('webgpu');
  const profile = deviceProfile(norm.device!);
  const features = [...norm.device!.features].sort().join(', ');
  console.log(`WebGPU adapter: ${profile.adapterName}; CPU adapter: ${profile.isCpuAdapter}; features: ${features || 'none'}`);
  norm.destroy();
});
