import { afterEach, describe, expect, it } from 'vitest';
import { clearTuning, InstanceNorm } from '../src';
import { tensorGeometry } from '../src/core/tensor-geometry';
import { deviceProfile } from '../src/gpu/device-profile';
import { STRATEGIES } from '../src/gpu/planner';
import { shapeClass } from '../src/gpu/tuning-table';
import { referenceInstanceNorm } from '../src/reference/float64-reference';
import { expectClose } from './helpers/compare';
import { normalizeOnGpu } from './helpers/gpu';
import { randomNormal } from './helpers/random';

afterEach(() => clearTuning());

describe('tune()', () => {
  it('times every strategy, then plans this shape class with the fastest, and results stay exact', async () => {
    const norm = await InstanceNorm.create({ fallback: 'error' });
    const shape = [2, 8, 48, 48];
    const result = await norm.tune(shape, { repetitions: 3 });
    console.log(`tune ${JSON.stringify(shape)}: ${JSON.stringify(result)}`);
    expect(Object.keys(result.milliseconds).sort()).toEqual([...STRATEGIES].sort());
    for (const ms of Object.values(result.milliseconds)) expect(ms).toBeGreaterThan(0);
    expect(result.timing).toBe(norm.device!.features.has('timestamp-query') ? 'timestamp-query' : 'wall-clock');
    expect(Math.min(...Object.values(result.milliseconds))).toBe(result.milliseconds[result.strategy]);
    expect(norm.plan(shape).strategy).toBe(result.strategy);
    expect(norm.plan([2, 8, 50, 50]).strategy).toBe(result.strategy); // same shape class
    const x = randomNormal(2 * 8 * 48 * 48, 4, 7, 3);
    expectClose(await normalizeOnGpu(norm, x, shape), referenceInstanceNorm(x, shape), 1e-4);
    norm.destroy();
  });

  it('persists the winner in localStorage for instances created later', async () => {
    const norm = await InstanceNorm.create({ fallback: 'error' });
    const result = await norm.tune([1, 4, 40, 40], { persist: true, repetitions: 2 });
    const saved = JSON.parse(localStorage.getItem('webgpu-instancenorm:tuning:v1')!);
    expect(Object.values(saved)).toContain(result.strategy);
    norm.destroy();
  });

  it('loads tuned strategies from localStorage, and a forced strategy still wins', async () => {
    const norm = await InstanceNorm.create({ fallback: 'error' });
    const shape = [1, 16, 32, 32];
    const planned = norm.plan(shape).strategy;
    const other = STRATEGIES.find((s) => s !== planned)!;
    const adapterName = deviceProfile(norm.device!).adapterName;
    clearTuning();
    const key = `${adapterName}|${shapeClass(tensorGeometry(shape, 'nchw'))}`;
    localStorage.setItem('webgpu-instancenorm:tuning:v1', JSON.stringify({ [key]: other }));
    const fresh = await InstanceNorm.create({ device: norm.device });
    expect(fresh.plan(shape).strategy).toBe(other);
    const forced = await InstanceNorm.create({ device: norm.device, strategy: planned });
    expect(forced.plan(shape).strategy).toBe(planned);
    norm.destroy();
  });

  it('refuses bad repetitions and the CPU backend', async () => {
    const norm = await InstanceNorm.create({ fallback: 'error' });
    await expect(norm.tune([1, 2, 8], { repetitions: 0 })).rejects.toThrow(/repetitions must be an integer from 1 to 100, got 0/);
    norm.destroy();
  });
});
