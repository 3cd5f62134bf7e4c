import { describe, expect, it } from 'vitest';
import { instanceNormCpu } from '../src';
import { fromFloat16Bits, halfBits, halfUlp, roundToHalf, toFloat16Bits } from '../src/core/float16';

const isNanBits = (b: number) => (b & 0x7c00) === 0x7c00 && (b & 0x03ff) !== 0;
const hex = (b: number) => `0x${b.toString(16).padStart(4, '0')}`;

/** The value of half bits straight from the IEEE 754 definition (independent of the code under test). */
function definedValue(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * (mantissa / 1024) * 2 ** -14;
  if (exponent === 31) return mantissa === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

// The neighbouring float64s, through the bits (positive finite x only).
const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
function nextUp(x: number): number {
  f64[0] = x;
  u64[0] += 1n;
  return f64[0];
}
function nextDown(x: number): number {
  f64[0] = x;
  u64[0] -= 1n;
  return f64[0];
}

describe('fromFloat16Bits', () => {
  it('gives the value the IEEE definition gives for every one of the 65536 bit patterns', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const values = fromFloat16Bits(all);
    for (let b = 0; b < 65536; b++) {
      const want = definedValue(b);
      if (Number.isNaN(want) ? !Number.isNaN(values[b]) : !Object.is(values[b], want))
        expect.fail(`${hex(b)} gave ${values[b]}, not ${want}`);
    }
  });
});

describe('toFloat16Bits', () => {
  it('round-trips every one of the 65536 bit patterns through fromFloat16Bits (NaNs to a NaN)', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = toFloat16Bits(fromFloat16Bits(all));
    for (let b = 0; b < 65536; b++) {
      if (isNanBits(b)) {
        if (!isNanBits(back[b])) expect.fail(`NaN ${hex(b)} came back as ${hex(back[b])}`);
      } else if (back[b] !== b) expect.fail(`${hex(b)} came back as ${hex(back[b])}`);
    }
  });

  it('rounds every midpoint between neighbouring halves to the even one, and the float64s beside it to the nearer', () => {
    // b = 0 is the tie between 0 and 2^-24, b = 0x3ff the one between the largest subnormal and
    // the smallest normal, and b = 0x7bff the one between 65504 and 2^16 (which is Infinity, 0x7c00).
    const count = 0x7c00;
    const values = new Float64Array(count * 10);
    const want = new Uint16Array(count * 10);
    for (let b = 0; b < count; b++) {
      const low = definedValue(b);
      const high = b === 0x7bff ? 2 ** 16 : definedValue(b + 1);
      const mid = (low + high) / 2; // exact in float64
      const even = b % 2 === 0 ? b : b + 1;
      const cases: [number, number][] = [
        [mid, even],
        [nextDown(mid), b],
        [nextUp(mid), b + 1],
        [mid * (1 - 2 ** -40), b],
        [mid * (1 + 2 ** -40), b + 1],
      ];
      for (let k = 0; k < cases.length; k++) {
        const [value, bits] = cases[k];
        const i = (b * cases.length + k) * 2;
        values[i] = value;
        want[i] = bits;
        values[i + 1] = -value;
        want[i + 1] = bits | 0x8000;
      }
    }
    const got = toFloat16Bits(values);
    for (let i = 0; i < values.length; i++) {
      if (got[i] !== want[i]) expect.fail(`${values[i]} gave ${hex(got[i])}, not ${hex(want[i])}`);
    }
  });

  it('gives the bits the IEEE definition gives, by hand', () => {
    const cases: [number, number][] = [
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff], // (1 + 1023/1024) × 2^15, the largest finite half
      [65519, 0x7bff],
      [65519.99, 0x7bff],
      [65520, 0x7c00], // halfway from 65504 to 2^16: ties to the even 2^16, which overflows
      [1e300, 0x7c00],
      [-65520, 0xfc00],
      [2 ** -24, 0x0001], // the smallest subnormal
      [2 ** -14, 0x0400], // the smallest normal
      [2 ** -14 - 2 ** -24, 0x03ff], // the largest subnormal
      [2 ** -25, 0x0000], // a tie between 0 and 2^-24: to the even 0
      [2 ** -25 * (1 + 2 ** -52), 0x0001],
      [3 * 2 ** -26, 0x0001],
      [2 ** -26, 0x0000],
      [5e-324, 0x0000],
      [-5e-324, 0x8000],
      [0.1, 0x2e66], // 1.6 × 2^-4: exponent 11, mantissa round(614.4) = 614
      [1 / 3, 0x3555], // 1.333… × 2^-2: exponent 13, mantissa round(341.33) = 341
      [0, 0x0000],
      [-0, 0x8000],
      [Number.POSITIVE_INFINITY, 0x7c00],
      [Number.NEGATIVE_INFINITY, 0xfc00],
    ];
    const got = toFloat16Bits(cases.map(([value]) => value));
    cases.forEach(([value, bits], i) => {
      expect(hex(got[i]), String(value)).toBe(hex(bits));
    });
    expect(isNanBits(toFloat16Bits([Number.NaN])[0])).toBe(true);
  });

  it('takes Float32Array, Float64Array and plain arrays alike', () => {
    const values = [1, -2, 0.1, 65520, -0];
    const want = [0x3c00, 0xc000, 0x2e66, 0x7c00, 0x8000];
    expect(Array.from(toFloat16Bits(values))).toEqual(want);
    expect(Array.from(toFloat16Bits(new Float64Array(values)))).toEqual(want);
    expect(Array.from(toFloat16Bits(new Float32Array(values)))).toEqual(want);
  });

  it('rounds once, from float64: values beside a midpoint whose float32 rounding is the midpoint go to the nearer half', () => {
    // Between 1 (0x3c00, even) and 1 + 2^-10 (0x3c01): the tie would go down to the even one.
    const up = 1 + 2 ** -11 + 2 ** -40;
    expect(Math.fround(up)).toBe(1 + 2 ** -11);
    expect(hex(toFloat16Bits([up])[0])).toBe('0x3c01');
    // Between 1 + 2^-10 (0x3c01) and 1 + 2^-9 (0x3c02, even): the tie would go up to the even one.
    const down = 1 + 3 * 2 ** -11 - 2 ** -40;
    expect(Math.fround(down)).toBe(1 + 3 * 2 ** -11);
    expect(hex(toFloat16Bits([down])[0])).toBe('0x3c01');
    // The same in the subnormals: between 0 and 2^-24, just above 2^-25.
    const tiny = 2 ** -25 * (1 + 2 ** -40);
    expect(Math.fround(tiny)).toBe(2 ** -25);
    expect(hex(toFloat16Bits([tiny])[0])).toBe('0x0001');
  });
});

describe('roundToHalf', () => {
  it('gives the nearest half as a number, by hand', () => {
    expect(roundToHalf(1)).toBe(1);
    expect(roundToHalf(0.1)).toBe(1638 / 16384); // 0x2e66: (1024 + 614) × 2^-14
    expect(roundToHalf(1 / 3)).toBe(1365 / 4096); // 0x3555: (1024 + 341) × 2^-12
    expect(roundToHalf(1 + 2 ** -11)).toBe(1); // a tie, to the even 1
    expect(roundToHalf(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9); // a tie, to the even 1 + 2^-9
    expect(roundToHalf(1 + 2 ** -11 + 2 ** -40)).toBe(1 + 2 ** -10);
    expect(roundToHalf(65519.99)).toBe(65504);
    expect(roundToHalf(65520)).toBe(Number.POSITIVE_INFINITY);
    expect(roundToHalf(-1e9)).toBe(Number.NEGATIVE_INFINITY);
    expect(roundToHalf(2 ** -25)).toBe(0);
    expect(roundToHalf(3 * 2 ** -26)).toBe(2 ** -24);
    expect(roundToHalf(1e-7)).toBe(2 * 2 ** -24); // 1e-7 / 2^-24 ≈ 1.68
    expect(Object.is(roundToHalf(-0), -0)).toBe(true);
    expect(Object.is(roundToHalf(-1e-10), -0)).toBe(true);
    expect(roundToHalf(Number.NaN)).toBeNaN();
  });
});

describe('halfUlp', () => {
  it('gives the spacing of halves at a value, by hand', () => {
    const cases: [number, number][] = [
      [1, 2 ** -10],
      [1.5, 2 ** -10],
      [-1, 2 ** -10],
      [2, 2 ** -9],
      [1024, 1],
      [2047, 1],
      [2048, 2],
      [0, 2 ** -24],
      [-0, 2 ** -24],
      [1e-7, 2 ** -24],
      [2 ** -14, 2 ** -24], // the smallest normal binade spaces as the subnormals
      [2 ** -13, 2 ** -23],
      [60000, 32],
      [65504, 32],
      [65519.99, 32],
      [1e6, 32],
      [Number.POSITIVE_INFINITY, 32],
      [Number.NEGATIVE_INFINITY, 32],
    ];
    for (const [value, ulp] of cases) expect(halfUlp(value), String(value)).toBe(ulp);
    expect(halfUlp(Number.NaN)).toBeNaN();
  });
});

describe('instanceNormCpu with float16 storage', () => {
  it('rounds the float64 result once to half: [1, 2, 3, 4] → halves of ±3/√5 and ±1/√5', () => {
    const x = toFloat16Bits([1, 2, 3, 4]);
    const y = instanceNormCpu(x, [1, 1, 4], { dataType: 'float16', epsilon: 0 });
    const a = 3 / Math.sqrt(5);
    const b = 1 / Math.sqrt(5);
    expect(Array.from(y)).toEqual([-a, -b, b, a].map(halfBits));
  });
});
