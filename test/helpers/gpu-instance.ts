import { afterAll, beforeAll } from 'vitest';
import { InstanceNorm, type Strategy } from '../../src';

export type StrategyChoice = Strategy | 'auto';
export const STRATEGY_CHOICES: readonly StrategyChoice[] = ['auto', 'fused-per-thread', 'fused-per-workgroup', 'split'];

/**
 * One device for a test file and one InstanceNorm per strategy on it ('auto' is the
 * planner's choice). Fails the file when WebGPU is missing: this suite exists to test the GPU.
 */
export function useGpuInstances(): { device: () => GPUDevice; norm: (strategy?: StrategyChoice) => InstanceNorm } {
  const instances = new Map<StrategyChoice, InstanceNorm>();
  beforeAll(async () => {
    const base = await InstanceNorm.create({ fallback: 'error' });
    instances.set('auto', base);
    for (const strategy of STRATEGY_CHOICES.slice(1)) {
      instances.set(strategy, await InstanceNorm.create({ device: base.device, strategy }));
    }
  });
  afterAll(() => {
    // The 'auto' instance owns the device: destroy it last.
    for (const strategy of [...STRATEGY_CHOICES].reverse()) instances.get(strategy)?.destroy();
  });
  return {
    device: () => instances.get('auto')!.device!,
    norm: (strategy = 'auto') => instances.get(strategy)!,
  };
}
