import { afterEach, describe, expect, it } from 'vitest';
import { InstanceNorm, InstanceNormError, instanceNormCpu } from '../src';
import { randomNormal } from './helpers/random';

// A page without WebGPU: an own property on navigator shadows the prototype's `gpu` getter.
function withoutWebGpu(gpu: unknown): void {
  Object.defineProperty(navigator, 'gpu', { value: gpu, configurable: true });
}

afterEach(() => {
  delete (navigator as { gpu?: unknown }).gpu; // back to the prototype's getter
});

describe('fallback where WebGPU is missing', () => {
  it('create() gives the CPU backend when navigator.gpu is missing, and its results match the reference', async () => {
    withoutWebGpu(undefined);
    const norm = await InstanceNorm.create();
    expect(norm.backend).toBe('cpu');
    expect(norm.device).toBeUndefined();
    const x = randomNormal(2 * 3 * 50, 1, 4, 2);
    const options = { layout: 'nhwc' as const, scale: new Float32Array([1, 2, 3]), bias: new Float32Array([0, 1, -1]) };
    expect(await norm.run(x, [2, 50, 3], options)).toEqual(instanceNormCpu(x, [2, 50, 3], options));
    expect(() => norm.encode({} as GPUCommandEncoder, {} as GPUBuffer, {} as GPUBuffer, [2, 3, 50])).toThrow(
      /encode needs the WebGPU backend/,
    );
    norm.destroy();
  });

  it('create() gives the CPU backend when no adapter is found', async () => {
    withoutWebGpu({ requestAdapter: async () => null });
    expect((await InstanceNorm.create({ fallback: 'cpu' })).backend).toBe('cpu');
  });

  it("fallback: 'error' throws instead, saying what is missing", async () => {
    withoutWebGpu(undefined);
    await expect(InstanceNorm.create({ fallback: 'error' })).rejects.toThrow(InstanceNormError);
    await expect(InstanceNorm.create({ fallback: 'error' })).rejects.toThrow(/WebGPU is unavailable: navigator\.gpu is missing/);
    withoutWebGpu({ requestAdapter: async () => null });
    await expect(InstanceNorm.create({ fallback: 'error' })).rejects.toThrow(/requestAdapter\(\) found no adapter/);
  });

  it('the CPU backend rejects GPU buffers as scale', async () => {
    withoutWebGpu(undefined);
    const norm = await InstanceNorm.create();
    delete (navigator as { gpu?: unknown }).gpu;
    const real = await InstanceNorm.create({ fallback: 'error' });
    const scale = real.device!.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
    await expect(norm.run(new Float32Array(4), [1, 1, 4], { scale })).rejects.toThrow(
      /scale must be a Float32Array of length C = 1 on the CPU backend, got GPUBuffer/,
    );
    real.destroy();
  });
});
