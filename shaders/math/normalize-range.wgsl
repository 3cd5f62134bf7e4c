// The output of the normalizing kernels (fused-per-thread, fused-per-workgroup, normalize):
// the affine map of the statistics and scale and bias, then the epilogue (epilogue.wgsl),
// in the same pass over memory.

// Fused kernels only: also write each instance's statistics to statsArrays (export-stats.wgsl's
// format), for the backward, so that saving them needs neither the split plan nor another pass.
override SAVE_STATS: bool = false;

// Writes output = epilogue((x - mean) * factor + offset) for positions first, first + step,
// ... < end of one instance.
fn normalizeRange(instance: u32, s: Stats, first: u32, end: u32, step: u32) {
  enterInstance(instance);
  let factor = select(s.invStd, s.invStd * scaleValues(instance), params.hasScale == 1u);
  let offset = select(Value(0.0), biasValues(instance), params.hasBias == 1u);
  let indexStep = step * params.spatialStride;
  var index = elementIndex(instance, first);
  for (var position = first; position < end; position += step) {
    normalizeAt(index, s, factor, offset);
    index += indexStep;
  }
}

// normalizeRange over positions start ..< end of one nhwc channel group, as the row passes read
// it (row-chunks.wgsl), four positions a loop step: on a CPU adapter each step costs more than
// its loads.
fn normalizeRowRange(instance: u32, s: Stats, start: u32, end: u32) {
  enterInstance(instance);
  let factor = select(s.invStd, s.invStd * scaleValues(instance), params.hasScale == 1u);
  let offset = select(Value(0.0), biasValues(instance), params.hasBias == 1u);
  let stride = params.spatialStride;
  var index = elementIndex(instance, start);
  var position = start;
  for (; position + 4u <= end; position += 4u) {
    normalizeAt(index, s, factor, offset);
    normalizeAt(index + stride, s, factor, offset);
    normalizeAt(index + 2u * stride, s, factor, offset);
    normalizeAt(index + 3u * stride, s, factor, offset);
    index += 4u * stride;
  }
  for (; position < end; position++) {
    normalizeAt(index, s, factor, offset);
    index += stride;
  }
}
