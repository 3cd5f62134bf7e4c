// Moments of one nhwc channel group over a run of positions, read as the row passes read them
// (row-chunks.wgsl: neighbouring invocations on neighbouring channel groups), eight rows merged at
// once (Chan's formula), where Welford's update (moments.wgsl, addValue) takes a step, a division
// and a merge a value. For kernels composed with lane-values.wgsl and the vec4 or half4 storage
// of a channel group, whose Element is its Value.

// Positions merged at once.
const ROW_STEP = 8u;

// Moments of positions start ..< end of `instance`, relative to `pivot`, in blocks of about
// MOMENTS_BLOCK positions merged into the total, as rangeMoments does.
fn rowRangeMoments(instance: u32, pivot: Value, start: u32, end: u32) -> Moments {
  enterInstance(instance);
  let stride = params.spatialStride;
  var index = elementIndex(instance, start);
  var position = start;
  var total = emptyMoments();
  while (position + ROW_STEP <= end) {
    let blockEnd = min(end, position + MOMENTS_BLOCK);
    var block = emptyMoments();
    for (; position + ROW_STEP <= blockEnd; position += ROW_STEP) {
      block = mergeMoments(block, eightRows(index, stride, pivot));
      index += ROW_STEP * stride;
    }
    total = mergeMoments(total, block);
  }
  for (; position < end; position++) {
    total = accumulateAt(total, index, pivot);
    index += stride;
  }
  return total;
}

// The moments of the eight Elements from `index`, `stride` apart, relative to the pivot. The
// deviations are quartered before squaring (exactly), so that the sum of the eight squares, half
// the variance, stays within f32 wherever the variance does (vec4-pair-elements.wgsl).
fn eightRows(index: u32, stride: u32, pivot: Value) -> Moments {
  let a0 = loadElement(index) - pivot;
  let a1 = loadElement(index + stride) - pivot;
  let a2 = loadElement(index + 2u * stride) - pivot;
  let a3 = loadElement(index + 3u * stride) - pivot;
  let a4 = loadElement(index + 4u * stride) - pivot;
  let a5 = loadElement(index + 5u * stride) - pivot;
  let a6 = loadElement(index + 6u * stride) - pivot;
  let a7 = loadElement(index + 7u * stride) - pivot;
  let mean = (((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))) * 0.125;
  let d0 = (a0 - mean) * 0.25;
  let d1 = (a1 - mean) * 0.25;
  let d2 = (a2 - mean) * 0.25;
  let d3 = (a3 - mean) * 0.25;
  let d4 = (a4 - mean) * 0.25;
  let d5 = (a5 - mean) * 0.25;
  let d6 = (a6 - mean) * 0.25;
  let d7 = (a7 - mean) * 0.25;
  let squares = ((d0 * d0 + d1 * d1) + (d2 * d2 + d3 * d3)) + ((d4 * d4 + d5 * d5) + (d6 * d6 + d7 * d7));
  return Moments(8.0, mean, squares * 2.0);
}
