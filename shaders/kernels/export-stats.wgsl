// After combine-moments: one invocation per kernel instance writes the statistics of its
// tensor instances to statsArrays as plain [N, C] arrays, for stats(), encodeStats() and the
// scale and bias of adain().

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroupId: vec3u,
        @builtin(num_workgroups) workgroupCount: vec3u,
        @builtin(local_invocation_index) localIndex: u32) {
  let instance = linearWorkgroupIndex(workgroupId, workgroupCount) * WORKGROUP_SIZE + localIndex;
  if (instance >= params.instanceCount) {
    return;
  }
  exportStats(instance, loadStats(instance));
}
