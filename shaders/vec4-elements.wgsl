// Elements of four consecutive positions of one nchw instance, loaded as one vec4f: a quarter
// of the loads and loop steps. Used where the instance size is a multiple of 4, so that every
// instance starts on a 16-byte boundary.

alias Element = vec4f;

@group(0) @binding(1) var<storage, read> input: array<Element>;
@group(0) @binding(2) var<storage, read_write> output: array<Element>;

fn firstValue(e: Element) -> f32 {
  return e.x;
}

// Merges the moments of the four values e - pivot into m (Chan's formula, moments.wgsl).
fn accumulate(m: Moments, e: Element, pivot: f32) -> Moments {
  let d = e - pivot;
  let mean = (d.x + d.y + d.z + d.w) * 0.25;
  let deviation = d - mean;
  return mergeMoments(m, Moments(4.0, mean, dot(deviation, deviation) * 0.25));
}
