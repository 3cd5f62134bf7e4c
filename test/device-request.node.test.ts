import { describe, expect, it } from 'vitest';
import { InstanceNorm } from '../src';
import { unsupportedDeviceReason } from '../src/gpu/device-request';
import { STORAGE_BUFFERS_PER_PASS } from '../src/gpu/pipeline-cache';
import { normFor } from '../src/tfjs/kernels';

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

describe('a device the library cannot run on', () => {
  // Branded as a GPUDevice (what the library's type check reads), with 4 storage buffers a stage.
  const unsupported = () =>
    ({ ...deviceWith(4), [Symbol.toStringTag]: 'GPUDevice', lost: new Promise(() => {}) }) as unknown as GPUDevice;

  it('createSync() refuses it as unsupported, naming the limit', () => {
    expect(() => InstanceNorm.createSync({ device: unsupported() })).toThrow(
      expect.objectContaining({ code: 'unsupported', message: expect.stringMatching(/maxStorageBuffersPerShaderStage/) }),
    );
  });

  it('the TF.js adapter takes the CPU path there (no instance) and keeps that answer for the device', () => {
    const device = unsupported();
    expect(normFor(device)).toBeNull();
    expect(normFor(device)).toBeNull();
  });
});
