// IEEE binary16 values, two per u32 word (low half first), as the half elements files store
// them; read and written through f32, converted by hand (not by unpack2x16float and
// pack2x16float, defined on finite halves only): exactly, infinities, NaN and values beyond the
// half range as IEEE rounding to nearest treats them (test/half-packing.browser.test.ts checks
// every half).

// The two halves of a word as f32, exactly, infinities and NaN included, by integer arithmetic:
// cheaper than unpack2x16float plus the fix-ups its finite-only definition would need. A normal
// half's exponent is rebiased by 127 - 15 = 112, that of an infinity or NaN (31) by 224, to
// f32's 255; zero and subnormal halves are m · 2^-24, formed without an f32 subnormal (which a
// GPU may flush to zero).
fn unpackHalves(word: u32) -> vec2f {
  let halves = vec2u(word & 0xffffu, word >> 16u);
  let magnitude = halves & vec2u(0x7fffu);
  let rebias = select(vec2u(0x38000000u), vec2u(0x70000000u), magnitude >= vec2u(0x7c00u));
  let normal = bitcast<vec2f>((magnitude << vec2u(13u)) + rebias);
  let small = vec2f(magnitude) * 5.9604644775390625e-8;
  let unsigned = select(normal, small, magnitude < vec2u(0x400u));
  return bitcast<vec2f>(bitcast<vec2u>(unsigned) | ((halves & vec2u(0x8000u)) << vec2u(16u)));
}

// Two f32 as halves in one word, rounded to nearest with ties to even, by integer arithmetic
// (pack2x16float is defined on the half range only, and rounds subnormal halves inexactly on
// some devices). |v| ≥ 65520, halfway from the largest half 65504 to 65536, rounds to
// infinity; NaN stays NaN. The tests are on the bits: WGSL lets compilers assume float
// arithmetic never meets infinity or NaN.
fn packHalves(v: vec2f) -> u32 {
  let bits = bitcast<vec2u>(v);
  let sign = (bits >> vec2u(16u)) & vec2u(0x8000u);
  let magnitude = bits & vec2u(0x7fffffffu);
  // Normal halves: the exponent rebiased by -112 and 13 mantissa bits dropped, adding just under
  // half of what is dropped, plus the kept last bit (ties to even).
  let kept = (magnitude >> vec2u(13u)) & vec2u(1u);
  let normal = (magnitude - vec2u(0x38000000u) + vec2u(0xfffu) + kept) >> vec2u(13u);
  // Below 2^-14, subnormal halves: |v| + 0.5 rounds |v| to a multiple of 2^-24 in the f32 adder,
  // and the sum's low mantissa bits are then the half's (0x400, the smallest normal, where it
  // rounds up).
  let small = bitcast<vec2u>(bitcast<vec2f>(magnitude) + 0.5) - vec2u(0x3f000000u);
  let finite = select(normal, small, magnitude < vec2u(0x38800000u));
  let special = select(vec2u(0x7c00u), vec2u(0x7e00u), magnitude > vec2u(0x7f800000u));
  let halves = sign | select(finite, special, magnitude >= vec2u(0x477ff000u)); // 65520 as f32 bits
  return halves.x | (halves.y << 16u);
}
