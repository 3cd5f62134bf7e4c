// Elements of four consecutive positions of one nchw instance, loaded as one vec4f, with
// scalar-values.wgsl: a quarter of the loads and loop steps. Used where the instance size is
// a multiple of 4, so that every instance starts on a 16-byte boundary.

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
