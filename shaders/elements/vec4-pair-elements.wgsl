// Arithmetic of vec4-pair-position and half4-pair-position: eight consecutive positions of one
// nchw instance per kernel step, the two Elements at `index` and `index + 1` (storage:
// vec4-elements.wgsl or half4-elements.wgsl), with
// scalar-values.wgsl. Half the loop steps and moment merges of four-position-elements.wgsl, for
// CPU adapters, where each step costs more than its loads.

fn firstValue(e: Element) -> Value {
  return e.x;
}

// The moments step of rangeMoments (moments.wgsl): the eight values at `index`, merged as one set.
// The deviations are quartered before squaring (exactly), so that the sum of the eight squares,
// half the variance, stays within f32 wherever the variance does.
fn accumulateAt(m: Moments, index: u32, pivot: Value) -> Moments {
  let a = loadElement(index) - pivot;
  let b = loadElement(index + 1u) - pivot;
  let mean = (a.x + a.y + a.z + a.w + b.x + b.y + b.z + b.w) * 0.125;
  let da = (a - mean) * 0.25;
  let db = (b - mean) * 0.25;
  return mergeMoments(m, Moments(8.0, mean, (dot(da, da) + dot(db, db)) * 2.0));
}

fn normalizeElement(e: Element, s: Stats, factor: Value, offset: Value) -> Element {
  return ((e - s.pivot) - s.meanOffset) * factor + offset;
}
