// IEEE 754 binary16 ("half") values as the bits of a Uint16Array: how float16 tensors travel on
// the CPU side. By bit manipulation: a float64 is read as its two 32-bit words and rounded once,
// to nearest with ties to even, straight to half bits.

// One float64 and its two 32-bit words; which word holds the sign and exponent depends on endianness.
const scratch = new Float64Array(1);
const words = new Uint32Array(scratch.buffer);
const HIGH = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const LOW = 1 - HIGH;

/** The half nearest to `value` (ties to even), as bits. */
export function halfBits(value: number): number {
  scratch[0] = value;
  const high = words[HIGH];
  const low = words[LOW];
  const sign = (high >>> 16) & 0x8000;
  const exponent = ((high >>> 20) & 0x7ff) - 1023; // unbiased
  const fraction = high & 0xfffff; // top 20 of the 52 fraction bits; the other 32 are `low`
  if (exponent === 1024) return fraction !== 0 || low !== 0 ? sign | 0x7e00 : sign | 0x7c00;
  if (exponent > 15) return sign | 0x7c00;
  if (exponent >= -14) {
    // Normal half: keep the top 10 fraction bits; bit 9 of `fraction` is the round bit.
    const bits = ((exponent + 15) << 10) | (fraction >>> 10);
    const roundBit = fraction & 0x200;
    const sticky = (fraction & 0x1ff) !== 0 || low !== 0;
    // A carry out of the mantissa steps the exponent, up to 0x7c00 (Infinity) past 65504.
    return sign | (roundBit !== 0 && (sticky || (bits & 1) !== 0) ? bits + 1 : bits);
  }
  // Below 2^-25 (float64 subnormals included) the value is nearer 0 than 2^-24.
  if (exponent < -25) return sign;
  // Subnormal half, in units of 2^-24: the 21-bit significand 1.f × 2^20 shifted right by 11 to 21.
  const significand = 0x100000 | fraction;
  const shift = -4 - exponent;
  const bits = significand >>> shift;
  const roundBit = (significand >>> (shift - 1)) & 1;
  const sticky = (significand & ((1 << (shift - 1)) - 1)) !== 0 || low !== 0;
  // Rounding 0x3ff up gives 0x400, the smallest normal half, as it should.
  return sign | (roundBit !== 0 && (sticky || (bits & 1) !== 0) ? bits + 1 : bits);
}

/** The value of half bits `bits`, exactly. */
export function halfValue(bits: number): number {
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  const sign = bits & 0x8000 ? -1 : 1;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa !== 0 ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

/**
 * IEEE 754 binary16 bits of every value, each rounded once from its float64 value to the
 * nearest half, ties to even (not through float32, so no double rounding). Magnitudes from
 * 65520 up become ±Infinity; below 2^-14 the result is a subnormal half (multiples of 2^-24),
 * and at or below 2^-25 ±0 (2^-25 itself is a tie, to the even 0). The sign of zero is kept;
 * NaN becomes the quiet NaN 0x7e00 (0xfe00 where the input's sign bit is set).
 *
 * @example
 * toFloat16Bits([1, -2, 65504, 0.1]); // Uint16Array [0x3c00, 0xc000, 0x7bff, 0x2e66]
 */
export function toFloat16Bits(values: ArrayLike<number>): Uint16Array<ArrayBuffer> {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = halfBits(values[i]);
  return out;
}

/**
 * The values of IEEE 754 binary16 bits as float32, exactly (every half is a float32):
 * subnormals, ±0 and ±Infinity included; NaNs stay NaNs with their sign and payload.
 *
 * @example
 * fromFloat16Bits(new Uint16Array([0x3c00, 0x0001])); // Float32Array [1, 2^-24]
 */
export function fromFloat16Bits(bits: Uint16Array): Float32Array<ArrayBuffer> {
  const out = new Float32Array(bits.length);
  // Float32 bits are written directly; the two views share one native byte order.
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i];
    const sign = (b & 0x8000) << 16;
    const exponent = (b >>> 10) & 0x1f;
    const mantissa = b & 0x3ff;
    // Subnormals by arithmetic (exact); 0x8000 gives -0.
    if (exponent === 0) out[i] = (sign ? -mantissa : mantissa) * 2 ** -24;
    else if (exponent === 31) outBits[i] = sign | 0x7f800000 | (mantissa << 13);
    else outBits[i] = sign | ((exponent + 112) << 23) | (mantissa << 13); // rebias 15 → 127
  }
  return out;
}

/**
 * The half nearest to `value` (ties to even, rounded once from float64, as {@link toFloat16Bits}),
 * as a number: ±Infinity from 65520 in magnitude, the sign of zero kept, NaN for NaN.
 *
 * @example
 * roundToHalf(0.1); // 0.0999755859375
 */
export function roundToHalf(value: number): number {
  return halfValue(halfBits(value));
}

/**
 * The spacing of halves at `value`: the distance from |value| rounded to half to the next
 * larger half in magnitude. 2^-24 for zero and the subnormals (and the smallest normal
 * binade), 2^-10 at 1, and 32 at or beyond 65504 (the spacing of the top binade, also for
 * ±Infinity); NaN for NaN. For tolerances such as "within k half ulps".
 *
 * @example
 * halfUlp(1); // 2^-10
 * halfUlp(1e-7); // 2^-24
 */
export function halfUlp(value: number): number {
  if (Number.isNaN(value)) return Number.NaN;
  const exponent = (halfBits(value) >>> 10) & 0x1f;
  if (exponent === 31) return 32;
  // Subnormals share the spacing of the smallest normal binade, 2^(1 - 25).
  return 2 ** (Math.max(exponent, 1) - 25);
}
