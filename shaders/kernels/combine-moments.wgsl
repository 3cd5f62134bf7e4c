// Plan 'split', pass 2 of 3: one invocation per instance merges the moments of the
// instance's chunks (partial-moments.wgsl) into its statistics.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroupId: vec3u,
        @builtin(num_workgroups) workgroupCount: vec3u,
        @builtin(local_invocation_index) localIndex: u32) {
  let instance = linearWorkgroupIndex(workgroupId, workgroupCount) * WORKGROUP_SIZE + localIndex;
  if (instance >= params.instanceCount) {
    return;
  }
  var m = emptyMoments();
  for (var chunk = 0u; chunk < params.chunksPerInstance; chunk++) {
    m = mergeMoments(m, loadPartial(instance, chunk));
  }
  storeStats(instance, instanceStats(loadPartialPivot(instance), m));
}
