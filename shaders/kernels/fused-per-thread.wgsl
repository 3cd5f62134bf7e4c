// Plan 'fused-per-thread': one invocation normalizes one whole instance (for GroupNorm one group
// of groupInstances() kernel instances), reading it twice (moments, then output) with no
// barrier. For many small instances: it needs no workgroup reduction, and in nhwc neighbouring
// invocations read neighbouring channels.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroupId: vec3u,
        @builtin(num_workgroups) workgroupCount: vec3u,
        @builtin(local_invocation_index) localIndex: u32) {
  let unit = linearWorkgroupIndex(workgroupId, workgroupCount) * WORKGROUP_SIZE + localIndex;
  let instances = groupInstances();
  if (unit * instances >= params.instanceCount) {
    return;
  }
  let first = unit * instances;
  let pivot = groupPivot(instancePivot(first));
  let s = instanceStats(pivot, groupMoments(unitMoments(first, instances, pivot, 0u, 1u)));
  for (var k = 0u; k < instances; k++) {
    if (SAVE_STATS) {
      exportStats(first + k, s);
    }
    normalizeRange(first + k, s, 0u, params.spatialSize, 1u);
  }
}
