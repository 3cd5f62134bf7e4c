import { describe, expect, it } from 'vitest';
import { adainCpu, fromFloat16Bits, instanceNormCpu, instanceStatsCpu, type Layout, RunningStats, toFloat16Bits } from '../src';
import { inverseStd as inverseStdOf, spread } from '../src/cpu/cpu-affine';
import { withoutSimd } from '../src/cpu/cpu-simd';
import { expectClose } from './helpers/compare';
import { randomNormal, randomUniform, seededRandom } from './helpers/random';

// The CPU's rule where float32 cannot hold var + epsilon, as the GPU's (numeric-limits.browser.test.ts):
// 1 / sqrt(var + epsilon) is 0 below float32's smallest normal number 2^-126, NaN beyond its range.
// Expected values come from the test data (the bias, ±scale + bias), not from the code under test.

const inverseStd = (variance: number, epsilon: number) => inverseStdOf(variance, { epsilon, epsilonPlacement: 'variance' });
const standardDeviation = (variance: number, epsilon: number) => spread(variance, { epsilon, epsilonPlacement: 'variance' });
const outside = (variance: number, epsilon: number) => inverseStdOf(variance, { epsilon, epsilonPlacement: 'std' });

describe('inverseStd and standardDeviation', () => {
  it('are 0 where var + epsilon is 0 or a float32 subnormal, 1 / sqrt and sqrt from 2^-126', () => {
    expect(inverseStd(0, 0)).toBe(0);
    expect(inverseStd(2 ** -127, 0)).toBe(0);
    expect(inverseStd(1e-60, 0)).toBe(0);
    expect(inverseStd(0, 2 ** -130)).toBe(0);
    expect(inverseStd(2 ** -126, 0)).toBe(2 ** 63);
    expect(inverseStd(0, 2 ** -126)).toBe(2 ** 63);
    expect(inverseStd(3, 1)).toBe(0.5);
    expect(inverseStd(0, 1e-5)).toBe(1 / Math.sqrt(1e-5));
    expect(standardDeviation(0, 0)).toBe(0);
    expect(standardDeviation(1e-60, 0)).toBe(0);
    expect(standardDeviation(3, 1)).toBe(2);
    expect(standardDeviation(2 ** -126, 0)).toBe(2 ** -63);
  });

  it('are NaN where var + epsilon overflows float32 or is NaN, finite up to its largest value', () => {
    const max = 3.4028234663852886e38; // float32's largest finite value
    expect(inverseStd(max, 0)).toBe(1 / Math.sqrt(max));
    expect(inverseStd(4e38, 0)).toBeNaN();
    expect(inverseStd(Number.POSITIVE_INFINITY, 0)).toBeNaN();
    expect(inverseStd(Number.NaN, 1e-5)).toBeNaN();
    expect(standardDeviation(4e38, 0)).toBeNaN();
    expect(standardDeviation(Number.NaN, 0)).toBeNaN();
    expect(standardDeviation(max, 0)).toBe(Math.sqrt(max));
  });

  it("with epsilon on the standard deviation ('std'): 1 / (sqrt(var) + epsilon), var below 2^-126 taken as 0", () => {
    expect(outside(4, 1)).toBe(1 / 3);
    expect(outside(0.25, 1e-3)).toBe(1 / 0.501);
    expect(outside(0, 0)).toBe(0);
    expect(outside(0, 1e-3)).toBe(1000);
    expect(outside(2 ** -127, 1e-3)).toBe(1000); // a subnormal variance, which a GPU may flush, counts as 0
    expect(outside(2 ** -127, 0)).toBe(0);
    expect(outside(2 ** -126, 0)).toBe(2 ** 63);
    expect(outside(0, 2 ** -127)).toBe(0);
  });

  it('with epsilon on the standard deviation: NaN where var overflows float32 or is NaN, finite at its largest', () => {
    const max = 3.4028234663852886e38;
    expect(outside(max, 0)).toBe(1 / Math.sqrt(max));
    expect(outside(4e38, 0)).toBeNaN();
    expect(outside(Number.POSITIVE_INFINITY, 1)).toBeNaN();
    expect(outside(Number.NaN, 1e-3)).toBeNaN();
    expect(outside(1, max)).toBe(1 / (1 + max));
  });
});

/** Flat index of position p of instance (n, c). */
function indexAt(layout: Layout, batchChannels: [number, number], size: number, instance: number, p: number): number {
  const [, C] = batchChannels;
  const n = Math.floor(instance / C);
  const c = instance % C;
  return layout === 'nchw' ? instance * size + p : (n * size + p) * C + c;
}

/** y = (x - mean) / sqrt(var) · scale + bias of one instance, in float64, written out here. */
function normalized64(values: number[], scale: number, bias: number): number[] {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  return values.map((v) => ((v - mean) / Math.sqrt(variance)) * scale + bias);
}

type Degenerate = 'constant' | 'subnormal' | 'tiny' | 'huge constant';

function degenerateValues(kind: Degenerate, size: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  switch (kind) {
    case 'constant':
      return new Float32Array(size).fill(random() * 2000 - 1000);
    case 'huge constant':
      return new Float32Array(size).fill((random() - 0.5) * 1e30);
    case 'subnormal':
      return randomNormal(size, seed, 0, 1e-39);
    case 'tiny':
      return randomNormal(size, seed, -2e-30, 1e-30);
  }
}

// Channel counts of each JavaScript loop (C = 1, the few-channel loop, blocks of four, blocks of
// eight with an overlapping last one), in both layouts, with the SIMD loops and without.
const SHAPES = [1, 3, 4, 6, 11].flatMap((channels) =>
  (['nchw', 'nhwc'] as const).map((layout) => ({ batch: 2, channels, size: 35, layout })),
);
const KINDS: Degenerate[] = ['constant', 'subnormal', 'tiny', 'huge constant'];

describe.each(['the SIMD loops', 'the JavaScript loops'] as const)('instanceNormCpu with %s', (loops) => {
  const run = <T>(f: () => T): T => (loops === 'the SIMD loops' ? f() : withoutSimd(f));

  it.each(SHAPES)('epsilon 0: constant, subnormal and tiny instances give the bias, the others normalize: %o', (t) => {
    const { batch, channels, size, layout } = t;
    const shape = layout === 'nchw' ? [batch, channels, size] : [batch, size, channels];
    const instances = batch * channels;
    const x = new Float32Array(instances * size);
    // Every other instance degenerate, the rest normal.
    const kindOf = (i: number): Degenerate | undefined => (i % 2 === 1 ? KINDS[((i - 1) / 2) % KINDS.length] : undefined);
    for (let i = 0; i < instances; i++) {
      const kind = kindOf(i);
      const values = kind ? degenerateValues(kind, size, 30 + i) : randomNormal(size, 30 + i, 5, 2);
      for (let p = 0; p < size; p++) x[indexAt(layout, [batch, channels], size, i, p)] = values[p];
    }
    const scale = randomUniform(channels, 40, -2, 2);
    const bias = randomUniform(channels, 41, -1, 1);
    const y = run(() => instanceNormCpu(x, shape, { layout, epsilon: 0, scale, bias }));
    for (let i = 0; i < instances; i++) {
      const at = (p: number) => indexAt(layout, [batch, channels], size, i, p);
      const out = Array.from({ length: size }, (_, p) => y[at(p)]);
      const c = i % channels;
      if (kindOf(i)) {
        expect(
          out.filter((v) => v !== bias[c]),
          `instance ${i} (${kindOf(i)}): the bias`,
        ).toEqual([]);
      } else {
        const values = Array.from({ length: size }, (_, p) => x[at(p)]);
        expectClose(Float32Array.from(out), Float32Array.from(normalized64(values, scale[c], bias[c])), 1e-6, 1e-6);
      }
    }
    const stats = run(() => instanceStatsCpu(x, shape, { layout, epsilon: 0 }));
    for (let i = 0; i < instances; i++) expect(stats.invStd[i] === 0, `invStd ${i}`).toBe(kindOf(i) !== undefined);
  });

  it('with an epilogue and float16 results too: the bias through the activation, rounded once', () => {
    const x = new Float32Array(2 * 3 * 20);
    x.set(randomNormal(20, 50), 0);
    x.fill(Math.fround(seededRandom(51)() * 10), 20, 40); // constant
    x.set(randomNormal(80, 52, -3, 1), 40);
    const bias = new Float32Array([0.25, -0.75, 3]);
    const y = run(() => instanceNormCpu(x, [2, 3, 20], { epsilon: 0, bias, activation: 'relu' }));
    expect(Array.from(y.subarray(20, 40))).toEqual(Array(20).fill(0)); // relu(-0.75)
    const halves = run(() => instanceNormCpu(toFloat16Bits(x), [2, 3, 20], { epsilon: 0, bias, dataType: 'float16' }));
    expect(Array.from(fromFloat16Bits(halves.subarray(20, 40)))).toEqual(Array(20).fill(-0.75));
  });

  describe('deviations from the mean near sqrt(float32 max) = 1.84e19', () => {
    // m ± d, half of each: every deviation from the mean is ±d, so y = ±scale + bias.
    const size = 64;
    const deviations = [7e18, 1e19, 1.8e19, 2e19, 1e25];
    const x = new Float32Array(deviations.length * size);
    const signs: number[][] = [];
    deviations.forEach((d, i) => {
      const random = seededRandom(60 + i);
      const m = (random() - 0.5) * d;
      const s = Array.from({ length: size }, (_, p): number => (p < size / 2 ? 1 : -1));
      for (let p = size - 1; p > 0; p--) {
        const q = Math.floor(random() * (p + 1));
        [s[p], s[q]] = [s[q], s[p]];
      }
      signs.push(s);
      s.forEach((sign, p) => {
        x[i * size + p] = m + sign * d;
      });
    });
    const shape = [1, deviations.length, size];
    const scale = randomUniform(deviations.length, 70, 0.5, 2);
    const bias = randomUniform(deviations.length, 71, -1, 1);

    it('up to 1.8e19 give ±scale + bias; from 2e19, where float32 cannot hold the variance, NaN', () => {
      const y = run(() => instanceNormCpu(x, shape, { epsilon: 1e-5, scale, bias }));
      const stats = run(() => instanceStatsCpu(x, shape, { epsilon: 1e-5 }));
      deviations.forEach((d, i) => {
        const out = y.subarray(i * size, (i + 1) * size);
        if (d >= 2e19) {
          expect(Array.from(out).every(Number.isNaN), `±${d}: NaN`).toBe(true);
          expect(stats.invStd[i]).toBeNaN();
        } else {
          expectClose(
            out,
            Float32Array.from(signs[i], (sign) => sign * scale[i] + bias[i]),
            1e-5,
            1e-5,
          );
          expectClose(stats.invStd.subarray(i, i + 1), Float32Array.of(1 / d), 0, 1e-6);
        }
      });
    });
  });
});

describe('the other statistics take the same rule', () => {
  it('eval mode: a running variance of 0 with epsilon 0 gives the bias', () => {
    const running = new RunningStats(3);
    running.set({ mean: new Float32Array([1, 2, 3]), variance: new Float32Array([0, 4, 0]) });
    const x = randomNormal(2 * 3 * 10, 80, 2, 1);
    const bias = new Float32Array([0.5, -1, 2]);
    const y = instanceNormCpu(x, [2, 3, 10], { epsilon: 0, bias, runningStats: running, training: false });
    for (let i = 0; i < y.length; i++) {
      const c = Math.floor(i / 10) % 3;
      expect(y[i]).toBeCloseTo(c === 1 ? (x[i] - 2) / 2 + bias[c] : bias[c], 6);
      if (c !== 1) expect(y[i]).toBe(bias[c]);
    }
  });

  it('GroupNorm: a constant group with epsilon 0 gives the bias, its stats invStd 0', () => {
    const x = randomNormal(4 * 12, 81, 0, 3);
    const value = Math.fround(seededRandom(82)() * 100);
    x.fill(value, 0, 24); // channels 0 and 1: the first group of two
    const bias = new Float32Array([0.5, -1, 2, 0.125]);
    const y = instanceNormCpu(x, [1, 4, 12], { epsilon: 0, groups: 2, bias });
    expect(Array.from(y.subarray(0, 24))).toEqual([...Array(12).fill(0.5), ...Array(12).fill(-1)]);
    expect(Array.from(y.subarray(24)).every(Number.isFinite)).toBe(true);
    expect(Array.from(instanceStatsCpu(x, [1, 4, 12], { epsilon: 0, groups: 2 }).invStd.subarray(0, 2))).toEqual([0, 0]);
  });

  it('adainCpu: a constant style instance with epsilon 0 gives its value (a standard deviation of 0)', () => {
    const content = randomNormal(2 * 10, 83, 1, 2);
    const style = randomNormal(2 * 16, 84, 4, 2);
    const value = Math.fround(seededRandom(85)() * 100);
    style.fill(value, 16, 32);
    const y = adainCpu(content, [1, 2, 10], style, [1, 2, 16], { epsilon: 0 });
    expect(Array.from(y.subarray(10))).toEqual(Array(10).fill(value));
  });
});
