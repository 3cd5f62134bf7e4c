// Arithmetic of Elements that are Values (one value, or one per lane of a channel group):
// shared by the scalar and channel-group elements files, f32 or half storage alike.

fn firstValue(e: Element) -> Value {
  return e;
}

// Adds the value e - pivot to the moments m (Welford's update).
fn accumulate(m: Moments, e: Element, pivot: Value) -> Moments {
  return addValue(m, e - pivot);
}

// The moments step of rangeMoments (moments.wgsl): the Element at `index`.
fn accumulateAt(m: Moments, index: u32, pivot: Value) -> Moments {
  return accumulate(m, loadElement(index), pivot);
}

fn normalizeElement(e: Element, s: Stats, factor: Value, offset: Value) -> Element {
  return ((e - s.pivot) - s.meanOffset) * factor + offset;
}

// The sum of an Element's values per instance: one value per lane here.
fn elementSum(e: Element) -> Value {
  return e;
}
