// Elements of one f32 value, with scalar-values.wgsl: any layout, any size.

alias Element = f32;

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
