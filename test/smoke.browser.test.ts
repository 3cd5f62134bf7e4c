import { describe, expect, it } from 'vitest';
import { InstanceNorm, instanceNormCpu } from '../src';
import { expectClose } from './helpers/compare';
import { normalizeOnGpu } from './helpers/gpu';
import { randomNormal } from './helpers/random';

describe('smoke', () => {
  it('runs', async () => {
    const norm = await InstanceNorm.create({ fallback: 'error' });
    for (const strategy of ['fused-per-thread', 'fused-per-workgroup', 'split'] as const) {
      const n2 = await InstanceNorm.create({ device: norm.device, strategy });
      const shape = [2, 3, 40, 50];
      const x = randomNormal(2 * 3 * 2000, 1, 5, 2);
      const t0 = performance.now();
      const y = await normalizeOnGpu(n2, x, shape);
      console.log(strategy, performance.now() - t0);
      expectClose(y, instanceNormCpu(x, shape), 1e-4);
    }
    expect(norm.backend).toBe('webgpu');
  });
});
