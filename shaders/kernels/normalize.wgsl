// Plan 'split', pass 3 of 3: one workgroup per chunk of one instance, as in partial-moments,
// applies the instance's statistics (combine-moments.wgsl) and the affine map. Each workgroup
// knows its instance, so no element needs an index division.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroupId: vec3u,
        @builtin(num_workgroups) workgroupCount: vec3u,
        @builtin(local_invocation_index) localIndex: u32) {
  let chunkIndex = linearWorkgroupIndex(workgroupId, workgroupCount);
  if (chunkIndex >= chunkCount()) {
    return;
  }
  let c = workgroupChunk(chunkIndex);
  normalizeRange(c.instance, loadStats(c.instance), c.start + localIndex, c.end, WORKGROUP_SIZE);
}
