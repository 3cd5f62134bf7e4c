// The step of normalizeRange (normalize-range.wgsl) for every element kind but rgb-quad: one
// Element through the affine map and the epilogue.

fn normalizeAt(index: u32, s: Stats, factor: Value, offset: Value) {
  storeElement(index, epilogue(normalizeElement(loadElement(index), s, factor, offset), index));
}
