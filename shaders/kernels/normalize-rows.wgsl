// Plan 'split' by rows, pass 3 of 3 (partial-moments-rows.wgsl): one workgroup per chunk of an
// image's positions and slice of channel groups (row-chunks.wgsl), each invocation writing its
// channel group over the chunk with the statistics combine-moments wrote.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroupId: vec3u,
        @builtin(num_workgroups) workgroupCount: vec3u,
        @builtin(local_invocation_index) localIndex: u32) {
  let r = workgroupRowChunk(linearWorkgroupIndex(workgroupId, workgroupCount));
  if (localIndex >= r.groups) {
    return;
  }
  let instance = r.firstInstance + localIndex;
  normalizeRowRange(instance, loadStats(instance), r.start, r.end);
}
