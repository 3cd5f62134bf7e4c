// Plan 'fused-per-workgroup': one workgroup normalizes one instance (for GroupNorm one group of
// groupInstances() kernel instances) in a single dispatch. Each invocation accumulates a
// strided share of every instance of its unit, the workgroup merges the shares
// (workgroup-moments.wgsl), then every invocation writes its share of the output.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroupId: vec3u,
        @builtin(num_workgroups) workgroupCount: vec3u,
        @builtin(local_invocation_index) localIndex: u32) {
  let unit = linearWorkgroupIndex(workgroupId, workgroupCount);
  let instances = groupInstances();
  // Uniform across the workgroup, so the barriers below stay in uniform control flow.
  if (unit * instances >= params.instanceCount) {
    return;
  }
  let first = unit * instances;
  let pivot = groupPivot(instancePivot(first));
  let local = unitMoments(first, instances, pivot, localIndex, WORKGROUP_SIZE);
  let s = instanceStats(pivot, groupMoments(workgroupMoments(local, localIndex)));
  for (var k = 0u; k < instances; k++) {
    if (SAVE_STATS && localIndex == 0u) {
      exportStats(first + k, s);
    }
    normalizeRange(first + k, s, localIndex, params.spatialSize, WORKGROUP_SIZE);
  }
}
