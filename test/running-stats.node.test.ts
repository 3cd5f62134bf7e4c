import { describe, expect, it } from 'vitest';
import { InstanceNorm, instanceNormCpu, RunningStats } from '../src';
import { expectClose } from './helpers/compare';
import { randomNormal, randomUniform } from './helpers/random';

// Two batches of N = 2 images, C = 1, two values each, worked by hand:
//   batch 1: [0, 2] and [4, 8]: means 1 and 6 (average 3.5); biased variances 1 and 4, unbiased
//            (× 2 / 1) 2 and 8 (average 5).
//   batch 2: [1, 1] and [3, 5]: means 1 and 4 (average 2.5); unbiased variances 0 and 2 (average 1).
const BATCH_1 = new Float32Array([0, 2, 4, 8]);
const BATCH_2 = new Float32Array([1, 1, 3, 5]);
const SHAPE = [2, 1, 2];

describe('running statistics on the CPU, against a hand-computed sequence', () => {
  it('momentum 0.1 (the default), from means 0 and variances 1', async () => {
    const running = new RunningStats(1);
    instanceNormCpu(BATCH_1, SHAPE, { runningStats: running });
    let values = await running.read();
    expect(values.mean[0]).toBeCloseTo(0.35, 6); // 0.9 · 0 + 0.1 · 3.5
    expect(values.variance[0]).toBeCloseTo(1.4, 6); // 0.9 · 1 + 0.1 · 5
    instanceNormCpu(BATCH_2, SHAPE, { runningStats: running });
    values = await running.read();
    expect(values.mean[0]).toBeCloseTo(0.565, 6); // 0.9 · 0.35 + 0.1 · 2.5
    expect(values.variance[0]).toBeCloseTo(1.36, 6); // 0.9 · 1.4 + 0.1 · 1
    expect(running.batchesTracked).toBe(2);
  });

  it('momentum null: the cumulative average of the batches', async () => {
    const running = new RunningStats(1);
    instanceNormCpu(BATCH_1, SHAPE, { runningStats: running, momentum: null });
    instanceNormCpu(BATCH_2, SHAPE, { runningStats: running, momentum: null });
    const { mean, variance } = await running.read();
    expect(mean[0]).toBeCloseTo(3, 6); // (3.5 + 2.5) / 2
    expect(variance[0]).toBeCloseTo(3, 6); // (5 + 1) / 2
  });

  it('training output uses the batch statistics, as without running statistics', () => {
    const running = new RunningStats(1);
    expect(instanceNormCpu(BATCH_1, SHAPE, { runningStats: running })).toEqual(instanceNormCpu(BATCH_1, SHAPE));
  });

  it('eval mode normalizes with the running statistics, then scale and bias', () => {
    const running = new RunningStats(2);
    running.set({ mean: new Float32Array([1, -2]), variance: new Float32Array([4, 0.25]) });
    const x = new Float32Array([3, -1, 0, -2]); // [1, 2, 2]: channel 0 [3, -1], channel 1 [0, -2]
    const y = instanceNormCpu(x, [1, 2, 2], {
      runningStats: running,
      training: false,
      epsilon: 0,
      scale: new Float32Array([1, 10]),
      bias: new Float32Array([0, 1]),
    });
    // channel 0: (x - 1) / 2; channel 1: (x + 2) / 0.5 · 10 + 1
    expectClose(y, new Float32Array([1, -1, 41, 1]), 1e-6);
    expect(running.batchesTracked).toBe(0); // eval does not update
  });

  it('eval without running statistics uses the batch statistics, as PyTorch without track_running_stats', () => {
    expect(instanceNormCpu(BATCH_1, SHAPE, { training: false })).toEqual(instanceNormCpu(BATCH_1, SHAPE));
  });

  it('nhwc gives the same running statistics as nchw', async () => {
    const x = randomNormal(2 * 3 * 20, 5, 3, 2); // [2, 3, 20] nchw
    const nhwc = new Float32Array(x.length);
    for (let n = 0; n < 2; n++)
      for (let c = 0; c < 3; c++) for (let s = 0; s < 20; s++) nhwc[(n * 20 + s) * 3 + c] = x[(n * 3 + c) * 20 + s];
    const a = new RunningStats(3);
    const b = new RunningStats(3);
    instanceNormCpu(x, [2, 3, 20], { runningStats: a });
    instanceNormCpu(nhwc, [2, 20, 3], { runningStats: b, layout: 'nhwc' });
    const [ra, rb] = [await a.read(), await b.read()];
    expectClose(rb.mean, ra.mean, 1e-6);
    expectClose(rb.variance, ra.variance, 1e-6);
  });
});

describe("PyTorch's option names", () => {
  const x = randomNormal(2 * 3 * 10, 7, 1, 2);
  const shape = [2, 3, 10];
  const gamma = randomUniform(3, 8, 0.5, 2);

  it('eps and weight mean epsilon and scale', () => {
    expect(instanceNormCpu(x, shape, { eps: 1e-2, weight: gamma })).toEqual(
      instanceNormCpu(x, shape, { epsilon: 1e-2, scale: gamma }),
    );
  });

  it('reject both names at once, affine false with a weight, trackRunningStats without running statistics', () => {
    expect(() => instanceNormCpu(x, shape, { eps: 1e-2, epsilon: 1e-3 })).toThrow(/both epsilon and eps/);
    expect(() => instanceNormCpu(x, shape, { affine: false, weight: gamma })).toThrow(/affine is false but a scale/);
    expect(() => instanceNormCpu(x, shape, { trackRunningStats: true })).toThrow(/trackRunningStats is true but no runningStats/);
  });

  it('running statistics options are checked', () => {
    expect(() => instanceNormCpu(x, shape, { runningStats: new RunningStats(4) })).toThrow(
      /runningStats follow 4 channels, expected C = 3/,
    );
    expect(() => instanceNormCpu(x, shape, { runningStats: new RunningStats(3), momentum: 2 })).toThrow(
      /momentum must be a number from 0 to 1/,
    );
    expect(() => instanceNormCpu(new Float32Array(3), [1, 3, 1], { runningStats: new RunningStats(3) })).toThrow(
      /training with runningStats needs more than one value per instance/,
    );
    expect(() => instanceNormCpu(x, shape, { runningStats: { channels: 3 } as never })).toThrow(
      /runningStats must be a RunningStats/,
    );
  });

  it('loadStateDict on the CPU backend: eval mode from running_mean and running_var', async () => {
    const norm = await InstanceNorm.create(); // Node has no WebGPU: the CPU backend
    expect(norm.backend).toBe('cpu');
    const state = {
      weight: gamma,
      bias: new Float32Array([0.1, 0.2, 0.3]),
      running_mean: new Float32Array([1, 0, -1]),
      running_var: new Float32Array([2, 3, 4]),
      num_batches_tracked: 17,
    };
    const layer = norm.loadStateDict(state, { eps: 1e-3 });
    const y = await norm.run(x, shape, { ...layer, training: false });
    const explicit = new RunningStats(3);
    explicit.set({ mean: state.running_mean, variance: state.running_var });
    expect(y).toEqual(
      instanceNormCpu(x, shape, { epsilon: 1e-3, scale: gamma, bias: state.bias, runningStats: explicit, training: false }),
    );
    expect(layer.runningStats?.batchesTracked).toBe(17);
  });
});
