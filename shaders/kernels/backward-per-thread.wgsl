// Backward for many small instances, as fused-per-thread.wgsl: one invocation per instance
// takes the statistics (reduced here where params.recomputeStats is 1, else from the entries a
// load kernel wrote), sums dy and dy · x̂, stores their means for backward-affine and writes the
// input gradient. No barrier, and no chunk partials.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroupId: vec3u,
        @builtin(num_workgroups) workgroupCount: vec3u,
        @builtin(local_invocation_index) localIndex: u32) {
  let instance = linearWorkgroupIndex(workgroupId, workgroupCount) * WORKGROUP_SIZE + localIndex;
  if (instance >= params.instanceCount) {
    return;
  }
  var s: Stats;
  if (params.recomputeStats == 1u) {
    let pivot = instancePivot(instance);
    s = instanceStats(pivot, rangeMoments(instance, pivot, 0u, params.spatialSize, 1u));
  } else {
    s = loadStats(instance);
  }
  let sums = rangeGradientSums(instance, s, 0u, params.spatialSize, 1u);
  let count = f32(params.instanceValues);
  let means = GradientSums(sums.dy / count, sums.dyXhat / count);
  storeGradientMeans(instance, means);
  applyGradient(instance, s, means, 0u, params.spatialSize, 1u);
}
