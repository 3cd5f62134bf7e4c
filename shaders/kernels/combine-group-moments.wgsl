// Plan 'split' for GroupNorm, pass 2 of 3, in place of combine-moments: one invocation per
// statistics entry (per channel of an image) merges the partial moments of every chunk of
// every channel in the channel's group, and writes the group's statistics as the channel's,
// so that the normalize pass needs no change. Each channel's partials are relative to that
// channel's pivot: they are shifted to the group's pivot (its first channel's) before merging.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroupId: vec3u,
        @builtin(num_workgroups) workgroupCount: vec3u,
        @builtin(local_invocation_index) localIndex: u32) {
  let entry = linearWorkgroupIndex(workgroupId, workgroupCount) * WORKGROUP_SIZE + localIndex;
  if (entry >= params.instanceCount * LANES) {
    return;
  }
  let instance = entry / LANES;
  let channel = instanceChannel(instance) + entry % LANES;
  if (channel >= params.tensorChannels) {
    return; // a lane past C: never stored
  }
  let imageFirst = instanceImage(instance) * params.channels; // first kernel instance of the image
  let groupFirst = channel - channel % params.groupChannels;
  var m = vec3f(0.0); // count, mean relative to the group pivot, variance
  var groupPivot = 0.0;
  for (var c = groupFirst; c < groupFirst + params.groupChannels; c++) {
    // The statistics entry of channel c of this image, within the window.
    let source = (imageFirst + c / LANES - params.firstInstance) * LANES + c % LANES;
    let pivot = scratch[source * params.chunksPerInstance].w;
    if (c == groupFirst) {
      groupPivot = pivot;
    }
    for (var chunk = 0u; chunk < params.chunksPerInstance; chunk++) {
      let p = scratch[source * params.chunksPerInstance + chunk];
      m = mergeLaneMoments(m, vec3f(p.x, p.y + (pivot - groupPivot), p.z));
    }
  }
  scratch[params.statsBase + entry] = vec4f(groupPivot, m.y, laneInverseSpread(m.z), m.z);
}

// mergeMoments (moments.wgsl) for one lane: Values are vec4f in lane mode, and a group's
// channels sit in different lanes.
fn mergeLaneMoments(a: vec3f, b: vec3f) -> vec3f {
  let count = a.x + b.x;
  if (count == 0.0) {
    return a;
  }
  let delta = b.y - a.y;
  let weightA = a.x / count;
  let weightB = b.x / count;
  let shift = delta * weightB;
  return vec3f(count, a.y + shift, weightA * a.z + weightB * b.z + (delta * weightA) * shift);
}
