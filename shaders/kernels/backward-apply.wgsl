// Backward, pass 3 of the chunked plan: one workgroup per chunk of one instance, as
// normalize.wgsl, writes the input gradient (applyGradient, backward-sums.wgsl).

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroupId: vec3u,
        @builtin(num_workgroups) workgroupCount: vec3u,
        @builtin(local_invocation_index) localIndex: u32) {
  let chunkIndex = linearWorkgroupIndex(workgroupId, workgroupCount);
  if (chunkIndex >= chunkCount()) {
    return;
  }
  let c = workgroupChunk(chunkIndex);
  applyGradient(c.instance, loadStats(c.instance), loadGradientMeans(c.instance), c.start + localIndex, c.end, WORKGROUP_SIZE);
}
