// Plan 'split', pass 1 of 3: one workgroup reduces one chunk of one instance to its
// moments relative to the instance pivot (Chunk, instance-params.wgsl).

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
  let pivot = instancePivot(c.instance);
  let local = rangeMoments(c.instance, pivot, c.start + localIndex, c.end, WORKGROUP_SIZE);
  let merged = workgroupMoments(local, localIndex);
  if (localIndex == 0u) {
    storePartial(c.instance, c.index, pivot, merged);
  }
}
