// Elements of four adjacent channels of one nhwc position, loaded as one vec4f, with
// lane-values.wgsl. Used where C is a multiple of 4.

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
