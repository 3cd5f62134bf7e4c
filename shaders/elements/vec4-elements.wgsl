// Elements of four f32 values, one vec4f (16 bytes): four consecutive positions of one nchw
// instance (with four-position-elements.wgsl: a quarter of the loads and loop steps; or two
// vec4s a step, vec4-pair-elements.wgsl), four adjacent nhwc channels (with value-elements.wgsl),
// or a third of four nhwc RGB positions (rgb-quad-elements.wgsl). Used where every instance or
// channel group starts on a 16-byte boundary.

alias Element = vec4f;

@group(0) @binding(1) var<storage, read> input: array<Element>;
@group(0) @binding(2) var<storage, read_write> output: array<Element>;
@group(0) @binding(6) var<storage, read> residual: array<Element>;

fn enterInstance(instance: u32) {}

fn loadElement(index: u32) -> Element {
  return input[index];
}

fn loadResidual(index: u32) -> Element {
  return residual[index];
}

fn storeElement(index: u32, e: Element) {
  output[index] = e;
}
