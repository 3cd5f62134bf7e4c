// Plan 'split' on a GPU, pass 2 of 2: one workgroup per chunk of one instance, as normalize.wgsl,
// first merges all the instance's chunk moments itself (as combine-moments-per-workgroup.wgsl:
// every workgroup of the instance alike, to the same bits), then normalizes its chunk. A few
// reads of partials per workgroup cost less than a dispatch of their own, about 5 µs on an H100.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroupId: vec3u,
        @builtin(num_workgroups) workgroupCount: vec3u,
        @builtin(local_invocation_index) localIndex: u32) {
  let chunkIndex = linearWorkgroupIndex(workgroupId, workgroupCount);
  // Uniform across the workgroup, so the barriers below stay in uniform control flow.
  if (chunkIndex >= chunkCount()) {
    return;
  }
  let c = workgroupChunk(chunkIndex);
  var local = emptyMoments();
  for (var chunk = localIndex; chunk < params.chunksPerInstance; chunk += WORKGROUP_SIZE) {
    local = mergeMoments(local, loadPartial(c.instance, chunk));
  }
  let s = instanceStats(loadPartialPivot(c.instance), workgroupMoments(local, localIndex));
  normalizeRange(c.instance, s, c.start + localIndex, c.end, WORKGROUP_SIZE);
}
