// Backward, pass 2 on a GPU: one workgroup per kernel instance adds the chunk sums of all its
// lanes, each invocation a strided share of the chunks, then a tree in workgroup memory
// (workgroup-sums.wgsl), and stores their means over the instance's S values. One invocation per
// entry (backward-combine.wgsl) reads the chunks one after another: on a GPU the reads'
// latencies add up.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroupId: vec3u,
        @builtin(num_workgroups) workgroupCount: vec3u,
        @builtin(local_invocation_index) localIndex: u32) {
  let instance = linearWorkgroupIndex(workgroupId, workgroupCount);
  // Uniform across the workgroup, so the barriers below stay in uniform control flow.
  if (instance >= params.instanceCount) {
    return;
  }
  var dy = vec4f(0.0);
  var dyXhat = vec4f(0.0);
  for (var chunk = localIndex; chunk < params.chunksPerInstance; chunk += WORKGROUP_SIZE) {
    for (var lane = 0u; lane < LANES; lane++) {
      let sums = scratch[(instance * LANES + lane) * params.chunksPerInstance + chunk].xy;
      dy[lane] += sums.x;
      dyXhat[lane] += sums.y;
    }
  }
  let total = workgroupSums(GradientSums(fromLanes(dy), fromLanes(dyXhat)), localIndex);
  if (localIndex == 0u) {
    let values = f32(params.instanceValues);
    storeGradientMeans(instance, GradientSums(total.dy / values, total.dyXhat / values));
  }
}
