// Elements of one half value, with scalar-values.wgsl and half-elements.wgsl: any layout, any size.

alias Element = f32;

fn enterInstance(instance: u32) {}

fn loadElement(index: u32) -> Element {
  return loadHalf(index);
}

fn loadResidual(index: u32) -> Element {
  return loadResidualHalf(index);
}

fn storeElement(index: u32, e: Element) {
  storeHalf(index, e);
}
