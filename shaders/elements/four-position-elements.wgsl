// Arithmetic of Elements that hold four consecutive positions of one nchw instance, with
// scalar-values.wgsl: shared by the f32 (vec4-position) and half (half4-position) storage.

fn firstValue(e: Element) -> Value {
  return e.x;
}

// Merges the moments of the four values e - pivot into m (Chan's formula). The deviations are
// halved before squaring (exactly): the sum of four squares would overflow f32 where their mean
// does not (moments.wgsl).
fn accumulate(m: Moments, e: Element, pivot: Value) -> Moments {
  let d = e - pivot;
  let mean = (d.x + d.y + d.z + d.w) * 0.25;
  let deviation = (d - mean) * 0.5;
  return mergeMoments(m, Moments(4.0, mean, dot(deviation, deviation)));
}

// The moments step of rangeMoments (moments.wgsl): the Element at `index`.
fn accumulateAt(m: Moments, index: u32, pivot: Value) -> Moments {
  return accumulate(m, loadElement(index), pivot);
}

fn normalizeElement(e: Element, s: Stats, factor: Value, offset: Value) -> Element {
  return ((e - s.pivot) - s.meanOffset) * factor + offset;
}

// The sum of an Element's values per instance: its four positions are one instance's.
fn elementSum(e: Element) -> Value {
  return e.x + e.y + e.z + e.w;
}
