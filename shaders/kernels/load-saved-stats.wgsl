// Backward with the forward's statistics: one invocation per kernel instance writes its
// statistics entries from the saved [N, C] arrays in statsArrays (means, then from
// exportedSpreadOffset 1 / spread), instead of reducing the input again.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroupId: vec3u,
        @builtin(num_workgroups) workgroupCount: vec3u,
        @builtin(local_invocation_index) localIndex: u32) {
  let instance = linearWorkgroupIndex(workgroupId, workgroupCount) * WORKGROUP_SIZE + localIndex;
  if (instance >= params.instanceCount) {
    return;
  }
  // Lanes past C read channel C - 1, and are never stored.
  let first = instanceImage(instance) * params.tensorChannels + instanceChannel(instance);
  let last = instanceImage(instance) * params.tensorChannels + params.tensorChannels - 1u;
  var mean = vec4f(0.0);
  var invStd = vec4f(0.0);
  for (var lane = 0u; lane < LANES; lane++) {
    let index = min(first + lane, last);
    mean[lane] = statsArrays[index];
    invStd[lane] = statsArrays[params.exportedSpreadOffset + index];
  }
  storeStats(instance, Stats(fromLanes(mean), Value(0.0), fromLanes(invStd), Value(0.0)));
}
