// IEEE 754 binary16 ("half") values as the bits of a Uint16Array: how float16 tensors travel on
// the CPU side. Conversions round once, from float64, to nearest with ties to even.

/** The half nearest to `value` (ties to even), as bits; beyond 65520 in magnitude ±Infinity; NaN a quiet NaN. */
export function halfBits(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  if (magnitude >= 65520) return sign | 0x7c00; // 65520 is halfway from 65504 to 2^16: ties to even go up
  if (magnitude < 2 ** -14) return sign | roundTiesToEven(magnitude * 2 ** 24); // subnormal: units of 2^-24
  let exponent = Math.floor(Math.log2(magnitude));
  // log2 may be off by one next to a power of two; scaling by powers of two is exact.
  if (2 ** exponent > magnitude) exponent--;
  else if (2 ** (exponent + 1) <= magnitude) exponent++;
  let significand = roundTiesToEven((magnitude / 2 ** exponent) * 1024); // 1024 ... 2048
  if (significand === 2048) {
    significand = 1024;
    exponent++;
  }
  if (exponent > 15) return sign | 0x7c00;
  return sign | ((exponent + 15) << 10) | (significand - 1024);
}

/** The value of half bits `bits`, exactly. */
export function halfValue(bits: number): number {
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  const sign = bits & 0x8000 ? -1 : 1;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

/** Every value as half bits. */
export function toFloat16Bits(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = halfBits(values[i]);
  return out;
}

let halfTable: Float32Array | undefined;

/** Half bits as float32 values (exact: every half is a float32). */
export function fromFloat16Bits(bits: Uint16Array): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let b = 0; b < 65536; b++) halfTable[b] = halfValue(b);
  }
  const table = halfTable;
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]];
  return out;
}

function roundTiesToEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor; // exact: x < 2^12 here
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
