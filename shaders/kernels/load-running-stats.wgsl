// Eval mode with running statistics, pass 1 of 2: one invocation per kernel instance writes
// the statistics entries from the running mean and variance of its channels, for the
// normalize pass that follows (normalize.wgsl).

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroupId: vec3u,
        @builtin(num_workgroups) workgroupCount: vec3u,
        @builtin(local_invocation_index) localIndex: u32) {
  let instance = linearWorkgroupIndex(workgroupId, workgroupCount) * WORKGROUP_SIZE + localIndex;
  if (instance >= params.instanceCount) {
    return;
  }
  storeStats(instance, runningStats(instance));
}
