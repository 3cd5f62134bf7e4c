// Plan 'split', pass 3 of 3: one invocation per element applies its instance's statistics
// (combine-moments.wgsl) and the affine map. Reads and writes run through memory in order.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroupId: vec3u,
        @builtin(num_workgroups) workgroupCount: vec3u,
        @builtin(local_invocation_index) localIndex: u32) {
  let index = linearWorkgroupIndex(workgroupId, workgroupCount) * WORKGROUP_SIZE + localIndex;
  if (index >= params.elementCount) {
    return;
  }
  let instance = instanceOfElement(index);
  let s = stats[instance];
  let at = params.elementOffset + index;
  output[at] = ((input[at] - s.x) - s.y) * affineScale(instance, s.z) + affineBias(instance);
}
