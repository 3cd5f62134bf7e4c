import { describe, expect, it } from 'vitest';
import { unsupportedDeviceReason } from '../src/gpu/device-request';
import { STORAGE_BUFFERS_PER_PASS } from '../src/gpu/pipeline-cache';

const deviceWith = (maxStorageBuffersPerShaderStage: number, features: string[] = []) =>
  ({ limits: { maxStorageBuffersPerShaderStage }, features: new Set(features) }) as unknown as GPUDevice;

describe('unsupportedDeviceReason', () => {
  it('accepts a device with as many storage buffers per stage as the kernels bind', () => {
    expect(STORAGE_BUFFERS_PER_PASS).toBe(8);
    expect(unsupportedDeviceReason(deviceWith(8, ['core-features-and-limits']))).toBeUndefined();
    expect(unsupportedDeviceReason(deviceWith(8))).toBeUndefined(); // compatibility mode with enough
  });

  it('names the limit, the numbers and the way out for a compatibility-mode device at 4 storage buffers', () => {
    const reason = unsupportedDeviceReason(deviceWith(4));
    expect(reason).toMatch(/allows 4 storage buffers per shader stage \(maxStorageBuffersPerShaderStage\)/);
    expect(reason).toMatch(/bind 8, as a compatibility-mode device does at its default limits/);
    expect(reason).toMatch(/requiredLimits: \{ maxStorageBuffersPerShaderStage: 8 \}/);
  });
});
