// Elements of four halves, one vec2<u32> (8 bytes), read and written as a vec4f: four
// consecutive positions of one nchw instance (with four-position-elements.wgsl) or four
// adjacent nhwc channels (with value-elements.wgsl). Used where every instance or channel group
// starts on an 8-byte boundary, so that no two invocations write the same word.

alias Element = vec4f;

@group(0) @binding(1) var<storage, read> input: array<vec2u>;
@group(0) @binding(2) var<storage, read_write> output: array<vec2u>;
@group(0) @binding(6) var<storage, read> residual: array<vec2u>;

fn enterInstance(instance: u32) {}

fn loadElement(index: u32) -> Element {
  let words = input[index];
  return vec4f(unpackHalves(words.x), unpackHalves(words.y));
}

fn loadResidual(index: u32) -> Element {
  let words = residual[index];
  return vec4f(unpackHalves(words.x), unpackHalves(words.y));
}

fn storeElement(index: u32, e: Element) {
  output[index] = vec2u(packHalves(e.xy), packHalves(e.zw));
}
