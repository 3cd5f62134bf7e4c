// The step of normalizeRange (normalize-range.wgsl) for rgb-quad: the quad's three vec4s, each
// with the per-channel statistics rotated to its lanes' channels (lane l of vec4 k holds channel
// (k + l) % 3: rgbr, gbrg, brgb), through the affine map and the epilogue.

fn normalizeQuadVector(index: u32, pivot: vec4f, meanOffset: vec4f, factor: vec4f, offset: vec4f) {
  storeElement(index, epilogue(((loadElement(index) - pivot) - meanOffset) * factor + offset, index));
}

fn normalizeAt(index: u32, s: Stats, factor: Value, offset: Value) {
  normalizeQuadVector(index, s.pivot.xyzx, s.meanOffset.xyzx, factor.xyzx, offset.xyzx);
  normalizeQuadVector(index + 1u, s.pivot.yzxy, s.meanOffset.yzxy, factor.yzxy, offset.yzxy);
  normalizeQuadVector(index + 2u, s.pivot.zxyz, s.meanOffset.zxyz, factor.zxyz, offset.zxyz);
}
