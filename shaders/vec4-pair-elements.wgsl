// Arithmetic of vec4-pair-position: eight consecutive positions of one nchw instance per kernel
// step, the two vec4s at `index` and `index + 1` (storage: vec4-elements.wgsl), with
// scalar-values.wgsl. Half the loop steps and moment merges of four-position-elements.wgsl, for
// CPU adapters, where each step costs more than its loads.

fn firstValue(e: Element) -> Value {
  return e.x;
}

// The moments step of rangeMoments (moments.wgsl): the eight values at `index`, merged as one set.
fn accumulateAt(m: Moments, index: u32, pivot: Value) -> Moments {
  let a = loadElement(index) - pivot;
  let b = loadElement(index + 1u) - pivot;
  let mean = (a.x + a.y + a.z + a.w + b.x + b.y + b.z + b.w) * 0.125;
  let da = a - mean;
  let db = b - mean;
  return mergeMoments(m, Moments(8.0, mean, (dot(da, da) + dot(db, db)) * 0.125));
}

fn normalizeElement(e: Element, s: Stats, factor: Value, offset: Value) -> Element {
  return ((e - s.pivot) - s.meanOffset) * factor + offset;
}
