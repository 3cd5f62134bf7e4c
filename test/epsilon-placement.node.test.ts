import { describe, expect, it } from 'vitest';
import {
  adainCpu,
  type EpsilonPlacement,
  InstanceNormError,
  type InstanceNormOptions,
  instanceNormBackwardCpu,
  instanceNormCpu,
  instanceStatsCpu,
  RunningStats,
  toFloat16Bits,
} from '../src';
import { withoutSimd } from '../src/cpu/cpu-simd';
import { referenceAdain, referenceBackward, referenceInstanceNorm, referenceStats } from '../src/reference/float64-reference';
import { expectClose } from './helpers/compare';
import { kerasContrib, layoutOf, type NormalizationCase } from './helpers/keras-contrib';
import { randomNormal, randomUniform } from './helpers/random';

// epsilonPlacement 'std': keras-contrib's InstanceNormalization divides by K.std(x) + epsilon,
// sqrt(var) + ε, where everything else divides by sqrt(var + ε). Here the reference is checked
// against that formula written out in float64 below (not against the library), the CPU backend
// against the reference, and the backward against central differences of the formula.

type Case = NormalizationCase & { readonly shape: number[] };

const STD = { epsilonPlacement: 'std' } as const satisfies InstanceNormOptions;

const CASES: Case[] = [
  { shape: [2, 3, 5, 7], layout: 'nchw' },
  { shape: [2, 5, 7, 3], layout: 'nhwc' },
  { shape: [1, 4, 4, 4], layout: 'nhwc' },
  { shape: [2, 3, 3, 12], layout: 'nhwc' },
  { shape: [1, 4, 9], layout: 'nchw' },
  { shape: [1, 2, 3, 4, 5], layout: 'nchw' },
  { shape: [2, 8, 6, 5], layout: 'nchw', groups: 2 },
  { shape: [2, 6, 5, 8], layout: 'nhwc', groups: 4 },
];
const name = (t: Case) => `${t.layout} [${t.shape.join(', ')}]${t.groups ? `, groups ${t.groups}` : ''}`;

/** Data whose instances have a small spread (σ near ε, where the two placements differ most), far from zero. */
function smallSpread(t: Case, seed: number): Float32Array {
  return randomNormal(
    t.shape.reduce((a, b) => a * b, 1),
    seed,
    50,
    2e-3,
  );
}

describe("the reference with epsilonPlacement 'std' is keras-contrib's formula", () => {
  it.each(CASES.map((t) => [name(t), t] as const))('%s, ε = 1e-3, small spreads, scale and bias', (_, t) => {
    const { C } = layoutOf(t);
    const x = smallSpread(t, 11);
    const gamma = randomUniform(C, 12, 0.5, 1.5);
    const beta = randomUniform(C, 13, -1, 1);
    const options = { layout: t.layout, epsilon: 1e-3, scale: gamma, bias: beta, ...(t.groups ? { groups: t.groups } : {}) };
    const expected = new Float32Array(kerasContrib(x, t, 1e-3, gamma, beta));
    // x is float32 near 50 (ulp 4e-6 against σ of 2e-3): the formula and the reference see the same values.
    expectClose(referenceInstanceNorm(x, t.shape, { ...options, ...STD }), expected, 1e-5, 1e-5);
    // The two placements differ by far more than that tolerance here: the check above can fail.
    const other = referenceInstanceNorm(x, t.shape, options);
    expect(Math.max(...other.map((v, i) => Math.abs(v - expected[i])))).toBeGreaterThan(0.05);
  });

  it('a constant instance gives the bias, with ε = 0 too (1 / (0 + 0) taken as 0, as PyTorch does)', () => {
    const x = new Float32Array(2 * 2 * 6).fill(3);
    x.set(randomNormal(6, 14), 6);
    const bias = new Float32Array([0.25, -0.5]);
    for (const epsilon of [0, 1e-3]) {
      const y = referenceInstanceNorm(x, [2, 2, 6], { epsilon, bias, ...STD });
      expect(Array.from(y.subarray(0, 6))).toEqual(Array(6).fill(0.25));
      expect(Array.from(y.subarray(12, 24))).toEqual([...Array(6).fill(0.25), ...Array(6).fill(-0.5)]);
      expectClose(
        y.subarray(6, 12),
        new Float32Array(kerasContrib(x, { shape: [2, 2, 6], layout: 'nchw' }, epsilon, undefined, bias).subarray(6, 12)),
        1e-6,
        1e-6,
      );
    }
  });
});

describe("the CPU backend with epsilonPlacement 'std' matches the reference", () => {
  describe.each([
    ['WebAssembly SIMD loops', (f: () => Float32Array | Uint16Array) => f()],
    ['JavaScript loops', withoutSimd],
  ] as const)('%s', (_loops, loops) => {
    it.each(CASES.map((t) => [name(t), t] as const))('%s: plain, affine, SiLU, per-instance scale', (_, t) => {
      const { N, C } = layoutOf(t);
      const x = smallSpread(t, 21);
      const base = { layout: t.layout, epsilon: 1e-3, ...STD, ...(t.groups ? { groups: t.groups } : {}) };
      const variants: InstanceNormOptions[] = [
        base,
        { ...base, scale: randomUniform(C, 22, -2, 2), bias: randomUniform(C, 23, -1, 1) },
        { ...base, scale: randomUniform(C, 24, -2, 2), activation: 'silu' },
        { ...base, scale: randomUniform(N * C, 25, -2, 2), bias: randomUniform(N * C, 26, -1, 1) },
      ];
      for (const options of variants) {
        expectClose(
          loops(() => instanceNormCpu(x, t.shape, options)) as Float32Array,
          referenceInstanceNorm(x, t.shape, options),
          1e-6,
          1e-6,
        );
      }
    });
  });

  it('float16 storage', () => {
    const t: Case = { shape: [2, 5, 7, 3], layout: 'nhwc' };
    const x = toFloat16Bits(randomNormal(210, 31, 2, 0.01));
    const options = { layout: t.layout, epsilon: 1e-3, dataType: 'float16', ...STD } as const;
    expect(Array.from(instanceNormCpu(x, t.shape, options))).toEqual(Array.from(referenceInstanceNorm(x, t.shape, options)));
  });

  it('statistics: invStd is 1 / (σ + ε)', () => {
    const t: Case = { shape: [2, 3, 5, 7], layout: 'nchw' };
    const x = smallSpread(t, 41);
    const stats = instanceStatsCpu(x, t.shape, { epsilon: 1e-3, ...STD });
    const { invStd } = referenceStats(x, t.shape, { epsilon: 1e-3, ...STD });
    expectClose(stats.invStd, invStd, 0, 1e-6);
    for (let i = 0; i < 6; i++) {
      const values = Array.from(x.subarray(i * 35, (i + 1) * 35));
      const mean = values.reduce((a, b) => a + b, 0) / 35;
      const sigma = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / 35);
      expect(invStd[i]).toBeCloseTo(1 / (sigma + 1e-3), 2);
      expect(Math.abs(invStd[i] * (sigma + 1e-3) - 1)).toBeLessThan(1e-6);
    }
  });

  it("AdaIN: the content divided by its σ + ε, given the style's σ + ε and mean", () => {
    const content = smallSpread({ shape: [2, 3, 4, 5], layout: 'nchw' }, 51);
    const style = randomNormal(2 * 3 * 6 * 2, 52, -1, 0.01);
    const options = { epsilon: 1e-3, ...STD };
    const expected = referenceAdain(content, [2, 3, 4, 5], style, [2, 3, 6, 2], options);
    expectClose(adainCpu(content, [2, 3, 4, 5], style, [2, 3, 6, 2], options), expected, 1e-6, 1e-6);
    // The formula: the style's σ + ε as scale and its mean as bias of keras-contrib's normalization.
    const styleCase: Case = { shape: [2, 3, 6, 2], layout: 'nchw' };
    const sigma = new Float32Array(6);
    const mean = new Float32Array(6);
    for (let i = 0; i < 6; i++) {
      const values = Array.from(style.subarray(i * 12, (i + 1) * 12));
      mean[i] = values.reduce((a, b) => a + b, 0) / 12;
      sigma[i] = Math.sqrt(values.reduce((a, v) => a + (v - mean[i]) ** 2, 0) / 12) + 1e-3;
    }
    expect(styleCase.shape).toEqual([2, 3, 6, 2]);
    const perInstance = kerasContrib(content, { shape: [6, 1, 4, 5], layout: 'nchw' }, 1e-3);
    expectClose(
      expected,
      Float32Array.from(perInstance, (v, i) => v * sigma[Math.floor(i / 20)] + mean[Math.floor(i / 20)]),
      1e-5,
      1e-5,
    );
  });

  it('eval mode: (x − running mean) / (sqrt(running variance) + ε)', () => {
    const running = new RunningStats(3);
    running.set({ mean: new Float32Array([1, -2, 0.5]), variance: new Float32Array([4, 0.25, 0]) });
    const x = randomNormal(2 * 3 * 4, 61);
    const y = instanceNormCpu(x, [2, 3, 4], { epsilon: 0.5, runningStats: running, training: false, ...STD });
    const expected = x.map((v, i) => {
      const c = Math.floor(i / 4) % 3;
      return (v - [1, -2, 0.5][c]) / ([2, 0.5, 0][c] + 0.5);
    });
    expectClose(y, expected, 1e-6, 1e-6);
    expectClose(
      referenceInstanceNorm(x, [2, 3, 4], { epsilon: 0.5, runningStats: running, training: false, ...STD }),
      expected,
      1e-6,
      1e-6,
    );
  });

  it('refuses an unknown placement, naming the option', () => {
    for (const placement of ['Std', 'standardDeviation', 1, null]) {
      let thrown: unknown;
      try {
        instanceNormCpu(new Float32Array(4), [1, 1, 4], { epsilonPlacement: placement as EpsilonPlacement });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(InstanceNormError);
      expect((thrown as InstanceNormError).argument).toBe('epsilonPlacement');
      expect((thrown as Error).message).toContain("'variance', 'std'");
    }
  });
});

describe('the backward follows the placement: against central differences of the formula', () => {
  // L = Σ w · y for fixed weights w, so dL/dy = w; dL/dx, dL/dγ, dL/dβ by central differences of
  // the float64 formula (h = 1e-6 against values of order 1: errors near 1e-9).
  const t: Case = { shape: [2, 2, 3, 4], layout: 'nchw' };
  const count = 48;
  const gamma = new Float32Array([1.5, -0.75]);
  const beta = new Float32Array([0.25, -1]);
  const w = randomNormal(count, 71, 0, 1);
  const loss = (x: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>, epsilon: number) =>
    kerasContrib(x, t, epsilon, g, b).reduce((sum, y, i) => sum + w[i] * y, 0);

  function numericGradients(x: Float32Array, epsilon: number) {
    const h = 1e-6;
    const derivative = (f: (delta: number) => number) => (f(h) - f(-h)) / (2 * h);
    const at = (array: Float32Array, i: number, delta: number) => Float64Array.from(array, (v, j) => (j === i ? v + delta : v));
    return {
      gradInput: Float32Array.from({ length: count }, (_, i) => derivative((d) => loss(at(x, i, d), gamma, beta, epsilon))),
      gradScale: Float32Array.from({ length: 2 }, (_, i) => derivative((d) => loss(x, at(gamma, i, d), beta, epsilon))),
      gradBias: Float32Array.from({ length: 2 }, (_, i) => derivative((d) => loss(x, gamma, at(beta, i, d), epsilon))),
    };
  }

  it.each([
    ['σ of order 1, ε = 1e-3', 1, 1e-3],
    ['σ near ε = 1e-2', 0.02, 1e-2],
    ['σ of order 1, ε = 0.5', 1, 0.5],
  ])('%s: the reference and the CPU backend, recomputed and saved statistics', (_, spread, epsilon) => {
    const x = randomNormal(count, 72, 3, spread);
    const numeric = numericGradients(x, epsilon);
    const options = { epsilon, scale: gamma, bias: beta, ...STD };
    const scaleOf = (g: Float32Array) => Math.max(...g.map(Math.abs));
    const reference = referenceBackward(w, x, t.shape, options);
    expectClose(reference.gradInput, numeric.gradInput, 1e-6 * scaleOf(numeric.gradInput), 1e-5);
    expectClose(reference.gradScale as Float32Array, numeric.gradScale, 1e-6, 1e-5);
    expectClose(reference.gradBias as Float32Array, numeric.gradBias, 1e-6, 1e-5);
    // The placement matters to the gradient: the 'variance' one is off here (the check can fail).
    const other = referenceBackward(w, x, t.shape, { ...options, epsilonPlacement: 'variance' });
    const off = Math.max(...other.gradInput.map((v, i) => Math.abs(v - numeric.gradInput[i])));
    expect(off).toBeGreaterThan(1e-4 * scaleOf(numeric.gradInput));

    const cpu = instanceNormBackwardCpu(w, x, t.shape, options);
    expectClose(cpu.gradInput, reference.gradInput, 1e-6 * scaleOf(numeric.gradInput), 1e-5);
    const saved = instanceNormBackwardCpu(w, x, t.shape, { ...options, savedStats: instanceStatsCpu(x, t.shape, options) });
    expectClose(saved.gradInput, reference.gradInput, 1e-5 * scaleOf(numeric.gradInput), 1e-4);
    expectClose(saved.gradScale as Float32Array, reference.gradScale as Float32Array, 1e-5, 1e-5);
    const savedReference = referenceBackward(w, x, t.shape, { ...options, savedStats: referenceStats(x, t.shape, options) });
    expectClose(savedReference.gradInput, reference.gradInput, 1e-5 * scaleOf(numeric.gradInput), 1e-4);
  });

  it('a constant instance: dx = γ (dy − mean(dy)) / ε, and 0 where ε = 0 too', () => {
    const x = new Float32Array(count).fill(2);
    x.set(randomNormal(24, 73), 24); // image 1 is not constant
    const result = referenceBackward(w, x, t.shape, { epsilon: 1e-3, scale: gamma, ...STD });
    const meanDy = w.subarray(0, 12).reduce((a, b) => a + b, 0) / 12;
    expectClose(
      result.gradInput.subarray(0, 12),
      Float32Array.from(w.subarray(0, 12), (v) => (1.5 * (v - meanDy)) / 1e-3),
      1e-2,
      1e-6,
    );
    expect(result.gradInput.every(Number.isFinite)).toBe(true);
    const cpu = instanceNormBackwardCpu(w, x, t.shape, { epsilon: 1e-3, scale: gamma, ...STD });
    expectClose(cpu.gradInput, result.gradInput, 1e-3, 1e-6);
    const zero = referenceBackward(w, x, t.shape, { epsilon: 0, scale: gamma, ...STD });
    expect(zero.gradInput.subarray(0, 24).every((v) => v === 0)).toBe(true);
    expectClose(
      instanceNormBackwardCpu(w, x, t.shape, { epsilon: 0, scale: gamma, ...STD }).gradInput,
      zero.gradInput,
      1e-6,
      1e-5,
    );
  });

  it('eval mode is the affine map of the running statistics: dx = γ dy / (sqrt(running variance) + ε)', () => {
    const running = new RunningStats(2);
    running.set({ mean: new Float32Array([0, 1]), variance: new Float32Array([4, 0.25]) });
    const x = randomNormal(count, 74);
    const options = { epsilon: 0.5, scale: gamma, runningStats: running, training: false, ...STD };
    const expected = Float32Array.from(w, (v, i) => {
      const c = Math.floor(i / 12) % 2;
      return (gamma[c] * v) / ([2, 0.5][c] + 0.5);
    });
    expectClose(referenceBackward(w, x, t.shape, options).gradInput, expected, 1e-6, 1e-6);
    expectClose(instanceNormBackwardCpu(w, x, t.shape, options).gradInput, expected, 1e-6, 1e-6);
  });
});
