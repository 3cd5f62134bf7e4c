import { describe, expect, it } from 'vitest';
import { InstanceNorm, InstanceNormError } from '../src';
import { referenceInstanceNorm } from '../src/reference/float64-reference';
import { expectClose } from './helpers/compare';
import { storageBuffer } from './helpers/gpu';
import { randomNormal } from './helpers/random';

const shape = [1, 2, 64, 64];
const x = randomNormal(2 * 64 * 64, 17, 3, 2);
const expected = referenceInstanceNorm(x, shape);

async function appDevice(): Promise<GPUDevice> {
  const adapter = await navigator.gpu.requestAdapter();
  return adapter!.requestDevice();
}

describe('an instance that requested its own device', () => {
  it('rejects a call in flight when the device is lost, then requests a new device on the next run()', async () => {
    const norm = await InstanceNorm.create({ fallback: 'error' });
    const first = norm.device!;
    expectClose(await norm.run(x, shape), expected, 1e-4);
    const big = randomNormal(4 * 1024 * 1024, 3);
    const inFlight = norm.run(big, [1, 4, 1024, 1024]);
    first.destroy(); // what a driver reset or the app does
    await expect(inFlight).rejects.toThrow(/the GPU device was lost while this call was in flight/);
    expect(() => norm.encode(first.createCommandEncoder(), {} as GPUBuffer, {} as GPUBuffer, shape)).toThrow(
      /encode\(\): the GPU device was lost \(destroyed\).*run\(\) requests a new device/,
    );
    expectClose(await norm.run(x, shape), expected, 1e-4);
    expect(norm.device).not.toBe(first);
    expect(norm.backend).toBe('webgpu');
    norm.destroy();
  });
});

describe('an instance on an app-provided device', () => {
  it('reports the loss and works again once a new device is attached', async () => {
    const device = await appDevice();
    const norm = await InstanceNorm.create({ device });
    expectClose(await norm.run(x, shape), expected, 1e-4);
    device.destroy();
    await device.lost;
    await expect(norm.run(x, shape)).rejects.toThrow(InstanceNormError);
    await expect(norm.run(x, shape)).rejects.toThrow(
      /run\(\): the GPU device was lost \(destroyed\).*attach a new device with attachDevice\(\)/,
    );
    const replacement = await appDevice();
    norm.attachDevice(replacement);
    expect(norm.device).toBe(replacement);
    expectClose(await norm.run(x, shape), expected, 1e-4);
    // encode() on the new device too
    const input = storageBuffer(replacement, x);
    const output = storageBuffer(replacement, new Float32Array(x.length));
    const encoder = replacement.createCommandEncoder();
    norm.encode(encoder, input, output, shape);
    replacement.queue.submit([encoder.finish()]);
    await norm.checkErrors();
    norm.destroy();
    // The instance did not own the device: it still works.
    expect(replacement.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE })).toBeInstanceOf(GPUBuffer);
    replacement.destroy();
  });

  it('attachDevice() refuses what is not a device', async () => {
    const norm = await InstanceNorm.create({ fallback: 'error' });
    expect(() => norm.attachDevice({} as GPUDevice)).toThrow(/device must be a GPUDevice, got Object/);
    norm.destroy();
    expect(() => norm.attachDevice({} as GPUDevice)).toThrow(/attachDevice\(\) called on a destroyed InstanceNorm/);
  });
});
