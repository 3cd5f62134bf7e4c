// Elements of one f32 value: any layout, any size.

alias Element = f32;

@group(0) @binding(1) var<storage, read> input: array<Element>;
@group(0) @binding(2) var<storage, read_write> output: array<Element>;

fn firstValue(e: Element) -> f32 {
  return e;
}

// Adds the value e - pivot to the moments m (Welford's update, moments.wgsl).
fn accumulate(m: Moments, e: Element, pivot: f32) -> Moments {
  return addValue(m, e - pivot);
}
