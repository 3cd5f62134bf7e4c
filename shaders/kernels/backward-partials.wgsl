// Backward, pass 1 (after the statistics): one workgroup per chunk of one instance, as
// partial-moments.wgsl, sums dy and dy · x̂ over the chunk into the partials region.

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
  let local = rangeGradientSums(c.instance, loadStats(c.instance), c.start + localIndex, c.end, WORKGROUP_SIZE);
  let sums = workgroupSums(local, localIndex);
  if (localIndex == 0u) {
    for (var lane = 0u; lane < LANES; lane++) {
      let entry = c.instance * LANES + lane;
      scratch[entry * params.chunksPerInstance + c.index] = vec4f(laneOf(sums.dy, lane), laneOf(sums.dyXhat, lane), 0.0, 0.0);
    }
  }
}
