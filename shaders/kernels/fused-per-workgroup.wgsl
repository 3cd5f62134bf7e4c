// Plan 'fused-per-workgroup': one workgroup normalizes one instance in a single dispatch.
// Each invocation accumulates a strided share of the instance, the workgroup merges the
// shares (workgroup-moments.wgsl), then every invocation writes its share of the output.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroupId: vec3u,
        @builtin(num_workgroups) workgroupCount: vec3u,
        @builtin(local_invocation_index) localIndex: u32) {
  let instance = linearWorkgroupIndex(workgroupId, workgroupCount);
  // Uniform across the workgroup, so the barriers below stay in uniform control flow.
  if (instance >= params.instanceCount) {
    return;
  }
  let pivot = instancePivot(instance);
  let local = rangeMoments(instance, pivot, localIndex, params.spatialSize, WORKGROUP_SIZE);
  let s = instanceStats(pivot, workgroupMoments(local, localIndex));
  if (SAVE_STATS && localIndex == 0u) {
    exportStats(instance, s);
  }
  normalizeRange(instance, s, localIndex, params.spatialSize, WORKGROUP_SIZE);
}
