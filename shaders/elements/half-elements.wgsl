// Single halves at any half index, for sizes where a word may hold values that different
// invocations write (odd instance sizes, C not a multiple of 4). A half is stored by two atomic
// operations on its word, one clearing its 16 bits and one setting them: the other half's
// writer touches only the other bits, so both values land whatever the order.

@group(0) @binding(1) var<storage, read> input: array<u32>;
@group(0) @binding(2) var<storage, read_write> output: array<atomic<u32>>;
@group(0) @binding(6) var<storage, read> residual: array<u32>;

fn loadHalf(index: u32) -> f32 {
  return unpackHalves(input[index >> 1u])[index & 1u];
}

fn loadResidualHalf(index: u32) -> f32 {
  return unpackHalves(residual[index >> 1u])[index & 1u];
}

fn storeHalf(index: u32, value: f32) {
  let shift = (index & 1u) * 16u;
  let word = index >> 1u;
  atomicAnd(&output[word], ~(0xffffu << shift));
  atomicOr(&output[word], (packHalves(vec2f(value, 0.0)) & 0xffffu) << shift);
}
