// Plan 'split', pass 2 of 3 on a GPU: one workgroup per instance merges the moments of the
// instance's chunks, each invocation a strided share of them, then a tree in workgroup memory.
// One invocation per instance (combine-moments.wgsl) reads the chunks one after another: on a
// GPU each read's latency adds up (an H100 took about 40 µs for 256 chunks).

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroupId: vec3u,
        @builtin(num_workgroups) workgroupCount: vec3u,
        @builtin(local_invocation_index) localIndex: u32) {
  let instance = linearWorkgroupIndex(workgroupId, workgroupCount);
  // Uniform across the workgroup, so the barriers below stay in uniform control flow.
  if (instance >= params.instanceCount) {
    return;
  }
  var local = emptyMoments();
  for (var chunk = localIndex; chunk < params.chunksPerInstance; chunk += WORKGROUP_SIZE) {
    local = mergeMoments(local, loadPartial(instance, chunk));
  }
  let merged = workgroupMoments(local, localIndex);
  if (localIndex == 0u) {
    storeStats(instance, instanceStats(loadPartialPivot(instance), merged));
  }
}
