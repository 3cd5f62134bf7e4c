// Backward, pass 2: one invocation per statistics entry adds the chunk sums of its instance
// and stores their means over the instance's S values (backward-sums.wgsl).

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroupId: vec3u,
        @builtin(num_workgroups) workgroupCount: vec3u,
        @builtin(local_invocation_index) localIndex: u32) {
  let entry = linearWorkgroupIndex(workgroupId, workgroupCount) * WORKGROUP_SIZE + localIndex;
  if (entry >= params.instanceCount * LANES) {
    return;
  }
  var sums = vec2f(0.0);
  for (var chunk = 0u; chunk < params.chunksPerInstance; chunk++) {
    sums += scratch[entry * params.chunksPerInstance + chunk].xy;
  }
  scratch[gradientEntry(entry)] = vec4f(sums / f32(params.instanceValues), 0.0, 0.0);
}
