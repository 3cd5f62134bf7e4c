import { describe, expect, it } from 'vitest';
import { instanceNormCpu } from '../src';
import { fromFloat16Bits, halfBits, halfValue, toFloat16Bits } from '../src/float16';

const isNanBits = (b: number) => (b & 0x7c00) === 0x7c00 && (b & 0x03ff) !== 0;

describe('half conversions', () => {
  it('round-trip every one of the 65536 bit patterns (NaNs to a NaN)', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = toFloat16Bits(fromFloat16Bits(all));
    for (let b = 0; b < 65536; b++) {
      if (isNanBits(b)) expect(isNanBits(back[b])).toBe(true);
      else if (back[b] !== b) expect.fail(`0x${b.toString(16)} came back as 0x${back[b].toString(16)}`);
    }
  });

  it('round every midpoint between neighbouring halves to the even one, and just off it to the nearer', () => {
    for (let b = 0; b < 0x7bff; b++) {
      const low = halfValue(b);
      const high = halfValue(b + 1);
      const mid = (low + high) / 2; // exact in float64
      const even = b % 2 === 0 ? b : b + 1;
      for (const sign of [1, -1]) {
        const s = sign < 0 ? 0x8000 : 0;
        if (halfBits(sign * mid) !== (s | even))
          expect.fail(`midpoint ${sign * mid} gave 0x${halfBits(sign * mid).toString(16)}`);
        const gap = (high - low) * 2 ** -20;
        if (halfBits(sign * (mid - gap)) !== (s | b)) expect.fail(`just below ${sign * mid}`);
        if (halfBits(sign * (mid + gap)) !== (s | (b + 1))) expect.fail(`just above ${sign * mid}`);
      }
    }
  });

  it('give the bits the IEEE definition gives, by hand', () => {
    const cases: [number, number][] = [
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff],
      [65519, 0x7bff],
      [65520, 0x7c00],
      [2 ** -24, 0x0001],
      [2 ** -25, 0x0000], // a tie between 0 and 2^-24: to even, 0
      [2 ** -25 * 1.0001, 0x0001],
      [2 ** -14, 0x0400],
      [0.1, 0x2e66],
      [1 / 3, 0x3555],
      [Number.POSITIVE_INFINITY, 0x7c00],
      [Number.NEGATIVE_INFINITY, 0xfc00],
    ];
    for (const [value, bits] of cases) expect(halfBits(value), String(value)).toBe(bits);
    expect(halfBits(-0)).toBe(0x8000);
    expect(isNanBits(halfBits(Number.NaN))).toBe(true);
  });

  it('round once, from float64: a value just above a midpoint whose float32 rounding is the midpoint rounds up', () => {
    const mid = (halfValue(0x3c00) + halfValue(0x3c01)) / 2; // between 1 and 1 + 2^-10: ties to 1
    const v = mid + 2 ** -40;
    expect(Math.fround(v)).toBe(mid);
    expect(halfBits(v)).toBe(0x3c01);
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
