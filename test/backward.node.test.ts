import { describe, expect, it } from 'vitest';
import { instanceNormBackwardCpu, instanceStatsCpu, type Layout, RunningStats } from '../src';
import { randomNormal, randomUniform } from './helpers/random';

// The CPU backward against central finite differences of a float64 forward written out here:
// y = (x - mean) / sqrt(var + eps) · scale + bias per instance, or with running statistics.

interface Case {
  readonly batch: number;
  readonly channels: number;
  readonly spatial: number;
  readonly layout: Layout;
}

const EPS = 1e-5;

function indexOf(t: Case, n: number, c: number, s: number): number {
  return t.layout === 'nchw' ? (n * t.channels + c) * t.spatial + s : (n * t.spatial + s) * t.channels + c;
}

function forward64(
  t: Case,
  x: Float64Array,
  scale: Float64Array,
  bias: Float64Array,
  running?: { mean: number[]; variance: number[] },
) {
  const y = new Float64Array(x.length);
  const perInstance = scale.length > t.channels;
  for (let n = 0; n < t.batch; n++) {
    for (let c = 0; c < t.channels; c++) {
      let mean = 0;
      for (let s = 0; s < t.spatial; s++) mean += x[indexOf(t, n, c, s)];
      mean /= t.spatial;
      let variance = 0;
      for (let s = 0; s < t.spatial; s++) variance += (x[indexOf(t, n, c, s)] - mean) ** 2;
      variance /= t.spatial;
      if (running) [mean, variance] = [running.mean[c], running.variance[c]];
      const k = perInstance ? n * t.channels + c : c;
      for (let s = 0; s < t.spatial; s++) {
        const i = indexOf(t, n, c, s);
        y[i] = ((x[i] - mean) / Math.sqrt(variance + EPS)) * scale[k] + bias[k];
      }
    }
  }
  return y;
}

/** d(Σ w · y)/d(values) by central differences, one value at a time. */
function finiteDifferences(values: Float64Array, loss: () => number): Float64Array {
  const h = 1e-5;
  const grad = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    values[i] = v + h;
    const up = loss();
    values[i] = v - h;
    const down = loss();
    values[i] = v;
    grad[i] = (up - down) / (2 * h);
  }
  return grad;
}

function expectRelativeError(actual: Float32Array | undefined, expected: Float64Array, bound: number) {
  expect(actual).toBeDefined();
  let worst = 0;
  let scale = 0;
  expected.forEach((e, i) => {
    worst = Math.max(worst, Math.abs((actual as Float32Array)[i] - e));
    scale = Math.max(scale, Math.abs(e));
  });
  expect(worst / scale).toBeLessThan(bound);
}

const CASES: Case[] = [
  { batch: 2, channels: 3, spatial: 5, layout: 'nchw' },
  { batch: 2, channels: 5, spatial: 4, layout: 'nhwc' },
  { batch: 1, channels: 2, spatial: 9, layout: 'nchw' },
];

describe.each(CASES)('instanceNormBackwardCpu against finite differences: %o', (t) => {
  const count = t.batch * t.channels * t.spatial;
  const shape = t.layout === 'nchw' ? [t.batch, t.channels, t.spatial] : [t.batch, t.spatial, t.channels];
  const x = randomNormal(count, 101, 3, 2);
  const weights = randomNormal(count, 102); // L = Σ w · y, so dL/dy = w
  const lossOf =
    (xs: Float64Array, scale: Float64Array, bias: Float64Array, running?: { mean: number[]; variance: number[] }) => () =>
      forward64(t, xs, scale, bias, running).reduce((sum, y, i) => sum + weights[i] * y, 0);

  it.each([
    ['per-channel scale and bias', t.channels],
    ['per-instance scale and bias', t.batch * t.channels],
  ] as const)('%s: gradients of input, scale and bias within 1e-6 relative', (_name, affineLength) => {
    const scale = randomUniform(affineLength, 103, 0.5, 2);
    const bias = randomUniform(affineLength, 104, -1, 1);
    const result = instanceNormBackwardCpu(weights, x, shape, { layout: t.layout, scale, bias });
    const [xs, ss, bs] = [Float64Array.from(x), Float64Array.from(scale), Float64Array.from(bias)];
    const loss = lossOf(xs, ss, bs);
    expectRelativeError(result.gradInput, finiteDifferences(xs, loss), 1e-6);
    expectRelativeError(result.gradScale, finiteDifferences(ss, loss), 1e-6);
    expectRelativeError(result.gradBias, finiteDifferences(bs, loss), 1e-6);
  });

  it('with the saved statistics of stats(): the same gradients', () => {
    const plain = instanceNormBackwardCpu(weights, x, shape, { layout: t.layout });
    const savedStats = instanceStatsCpu(x, shape, { layout: t.layout });
    const saved = instanceNormBackwardCpu(weights, x, shape, { layout: t.layout, savedStats });
    let worst = 0;
    plain.gradInput.forEach((v, i) => {
      worst = Math.max(worst, Math.abs(v - saved.gradInput[i]));
    });
    expect(worst).toBeLessThan(1e-5); // the saved statistics are float32
    expect(plain.gradScale).toBeUndefined(); // no affine, no affine gradients
  });

  it('in eval mode with running statistics: the gradient of an affine map', () => {
    const running = new RunningStats(t.channels);
    const mean = Array.from(randomUniform(t.channels, 105, -1, 1));
    const variance = Array.from(randomUniform(t.channels, 106, 0.5, 3));
    running.set({ mean: new Float32Array(mean), variance: new Float32Array(variance) });
    const scale = randomUniform(t.channels, 107, 0.5, 2);
    const result = instanceNormBackwardCpu(weights, x, shape, {
      layout: t.layout,
      scale,
      runningStats: running,
      training: false,
    });
    const xs = Float64Array.from(x);
    const loss = lossOf(xs, Float64Array.from(scale), new Float64Array(t.channels), {
      mean: Array.from(new Float32Array(mean)),
      variance: Array.from(new Float32Array(variance)),
    });
    expectRelativeError(result.gradInput, finiteDifferences(xs, loss), 1e-6);
    // dx = w · scale / sqrt(running var + eps), elementwise
    const c = 0; // element 0 lies in channel 0 in either layout
    expect(result.gradInput[0]).toBeCloseTo((weights[0] * scale[c]) / Math.sqrt(new Float32Array(variance)[c] + EPS), 6);
  });
});

describe('where var + epsilon is below 2^-126 (1 / sqrt taken as 0)', () => {
  // Two images of three channels, nchw and nhwc: instance 1 constant, instance 5 subnormal, epsilon 0.
  const t: Case = { batch: 2, channels: 3, spatial: 12, layout: 'nchw' };
  const degenerate = [1, 5];

  function data(layout: Layout) {
    const lt = { ...t, layout };
    const x = new Float32Array(t.batch * t.channels * t.spatial);
    const values = [...Array(6)].map((_, i) =>
      i === 1
        ? new Float32Array(t.spatial).fill(Math.fround(7.25 + 100 * randomUniform(1, 130, 0, 1)[0]))
        : i === 5
          ? randomNormal(t.spatial, 131, 0, 1e-39)
          : randomNormal(t.spatial, 132 + i, 2, 3),
    );
    for (let i = 0; i < 6; i++) {
      for (let s = 0; s < t.spatial; s++) x[indexOf(lt, Math.floor(i / 3), i % 3, s)] = values[i][s];
    }
    const shape = layout === 'nchw' ? [2, 3, t.spatial] : [2, t.spatial, 3];
    return { lt, x, shape, dy: randomNormal(x.length, 133, 0.5, 2) };
  }

  it.each(['nchw', 'nhwc'] as const)(
    'dx = 0 and dScale = 0 there, dBias = Σ dy; recomputed and saved statistics alike (%s)',
    (layout) => {
      const { lt, x, shape, dy } = data(layout);
      const scale = randomUniform(6, 134, 0.5, 2); // per instance
      const bias = randomUniform(6, 135, -1, 1);
      const savedStats = instanceStatsCpu(x, shape, { layout, epsilon: 0 });
      for (const i of degenerate) expect(savedStats.invStd[i]).toBe(0);
      for (const stats of [undefined, savedStats]) {
        const result = instanceNormBackwardCpu(dy, x, shape, { layout, epsilon: 0, scale, bias, savedStats: stats });
        for (let i = 0; i < 6; i++) {
          const at = (s: number) => indexOf(lt, Math.floor(i / 3), i % 3, s);
          const dx = [...Array(t.spatial)].map((_, s) => result.gradInput[at(s)]);
          const sumDy = [...Array(t.spatial)].reduce((a: number, _, s) => a + dy[at(s)], 0);
          expect(result.gradBias?.[i]).toBeCloseTo(sumDy, 5);
          if (degenerate.includes(i)) {
            expect(
              dx.filter((v) => v !== 0),
              `dx of instance ${i}`,
            ).toEqual([]);
            expect(result.gradScale?.[i]).toBe(0);
          } else {
            expect(dx.every(Number.isFinite) && dx.some((v) => v !== 0)).toBe(true);
          }
        }
      }
    },
  );

  it('eval mode: a running variance of 0 with epsilon 0 gives dx = 0 in its channel', () => {
    const { x, shape, dy } = data('nchw');
    const running = new RunningStats(3);
    running.set({ mean: new Float32Array([1, 2, 3]), variance: new Float32Array([4, 0, 1]) });
    const scale = new Float32Array([2, 3, 4]);
    const { gradInput } = instanceNormBackwardCpu(dy, x, shape, { epsilon: 0, scale, runningStats: running, training: false });
    for (let i = 0; i < gradInput.length; i++) {
      const c = Math.floor(i / t.spatial) % 3;
      // dx = dy · scale / sqrt(running var + eps), and 0 where that variance is 0
      const expected = c === 1 ? 0 : (dy[i] * scale[c]) / Math.sqrt([4, 0, 1][c]);
      expect(gradInput[i]).toBeCloseTo(expected, 5);
      if (c === 1) expect(gradInput[i] === 0).toBe(true);
    }
  });
});

describe('backward options', () => {
  it('reject the epilogue, groups and half precision', () => {
    const x = new Float32Array(12);
    expect(() => instanceNormBackwardCpu(x, x, [1, 3, 4], { activation: 'relu' } as object)).toThrow(
      /takes no activation option/,
    );
    expect(() => instanceNormBackwardCpu(x, x, [1, 3, 4], { groups: 1 } as object)).toThrow(/takes no groups option/);
    expect(() => instanceNormBackwardCpu(x, x, [1, 3, 4], { dataType: 'float16' } as object)).toThrow(/'float32' only/);
    expect(() => instanceNormBackwardCpu(x, x, [1, 3, 4], { savedStats: { mean: new Float32Array(2) } as never })).toThrow(
      /savedStats must be \{ mean, invStd \} of Float32Array\(N × C = 3\)/,
    );
  });
});
