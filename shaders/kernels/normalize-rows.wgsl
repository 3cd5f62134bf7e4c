// Plan 'split' by rows, pass 3 of 3 (partial-moments-rows.wgsl): one workgroup per chunk of an
// image's positions and slice of channel groups (row-chunks.wgsl), each invocation writing its
// channel group over the chunk with the statistics combine-moments wrote, four rows a loop step.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroupId: vec3u,
        @builtin(num_workgroups) workgroupCount: vec3u,
        @builtin(local_invocation_index) localIndex: u32) {
  let r = workgroupRowChunk(linearWorkgroupIndex(workgroupId, workgroupCount));
  if (localIndex >= r.groups) {
    return;
  }
  let instance = r.firstInstance + localIndex;
  enterInstance(instance);
  let s = loadStats(instance);
  let factor = select(s.invStd, s.invStd * scaleValues(instance), params.hasScale == 1u);
  let offset = select(Value(0.0), biasValues(instance), params.hasBias == 1u);
  let stride = params.spatialStride;
  var index = elementIndex(instance, r.start);
  var position = r.start;
  for (; position + 4u <= r.end; position += 4u) {
    normalizeAt(index, s, factor, offset);
    normalizeAt(index + stride, s, factor, offset);
    normalizeAt(index + 2u * stride, s, factor, offset);
    normalizeAt(index + 3u * stride, s, factor, offset);
    index += 4u * stride;
  }
  for (; position < r.end; position++) {
    normalizeAt(index, s, factor, offset);
    index += stride;
  }
}
