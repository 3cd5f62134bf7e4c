// The step of normalizeRange (normalize-range.wgsl) for vec4-pair-position and
// half4-pair-position: its two Elements.

fn normalizeAt(index: u32, s: Stats, factor: Value, offset: Value) {
  storeElement(index, epilogue(normalizeElement(loadElement(index), s, factor, offset), index));
  storeElement(index + 1u, epilogue(normalizeElement(loadElement(index + 1u), s, factor, offset), index + 1u));
}
