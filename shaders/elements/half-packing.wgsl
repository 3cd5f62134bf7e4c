// IEEE binary16 values, two per u32 word (low half first), as the half elements files store
// them; read and written through f32. unpack2x16float and pack2x16float are defined on finite
// halves only, so infinities, NaN and f32 values beyond the half range are handled here by hand,
// as IEEE rounding to nearest treats them.

// The two halves of a word as f32, exactly; infinite and NaN halves give infinite and NaN f32.
fn unpackHalves(word: u32) -> vec2f {
  let halves = vec2u(word & 0xffffu, word >> 16u);
  let special = (halves & vec2u(0x7c00u)) == vec2u(0x7c00u);
  // The f32 infinity or NaN with the half's sign and mantissa.
  let sign = (halves & vec2u(0x8000u)) << vec2u(16u);
  let wide = bitcast<vec2f>(sign | vec2u(0x7f800000u) | ((halves & vec2u(0x03ffu)) << vec2u(13u)));
  return select(unpack2x16float(word), wide, special);
}

// Two f32 as halves in one word. |v| ≥ 65520, halfway from the largest half 65504 to 65536,
// rounds to infinity; NaN stays NaN. The tests are on the bits: WGSL lets compilers assume
// float arithmetic never meets infinity or NaN.
fn packHalves(v: vec2f) -> u32 {
  let bits = bitcast<vec2u>(v);
  let magnitude = bits & vec2u(0x7fffffffu);
  let special = magnitude >= vec2u(0x477ff000u); // 65520 as f32 bits
  let isNan = magnitude > vec2u(0x7f800000u);
  let sign = (bits >> vec2u(16u)) & vec2u(0x8000u);
  let specialHalves = sign | select(vec2u(0x7c00u), vec2u(0x7e00u), isNan);
  let finite = pack2x16float(clamp(v, vec2f(-65504.0), vec2f(65504.0)));
  let halves = select(vec2u(finite & 0xffffu, finite >> 16u), specialHalves, special);
  return halves.x | (halves.y << 16u);
}
