// Plan 'fused-per-thread': one invocation normalizes one whole instance, reading it twice
// (moments, then output) with no barrier. For many small instances: it needs no workgroup
// reduction, and in nhwc neighbouring invocations read neighbouring channels.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroupId: vec3u,
        @builtin(num_workgroups) workgroupCount: vec3u,
        @builtin(local_invocation_index) localIndex: u32) {
  let instance = linearWorkgroupIndex(workgroupId, workgroupCount) * WORKGROUP_SIZE + localIndex;
  if (instance >= params.instanceCount) {
    return;
  }
  let pivot = instancePivot(instance);
  let s = instanceStats(pivot, rangeMoments(instance, pivot, 0u, params.spatialSize, 1u));
  if (SAVE_STATS) {
    exportStats(instance, s);
  }
  normalizeRange(instance, s, 0u, params.spatialSize, 1u);
}
