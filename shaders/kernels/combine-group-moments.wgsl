// Plan 'split' for GroupNorm, pass 2 of 3, in place of combine-moments: one invocation per
// group of the window merges the partial moments of every chunk of every channel in the group,
// and writes the group's statistics as each of its channels', so that the normalize pass needs no
// change. Each channel's partials are relative to that channel's pivot: they are shifted to the
// group's pivot (its first channel's) before merging.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroupId: vec3u,
        @builtin(num_workgroups) workgroupCount: vec3u,
        @builtin(local_invocation_index) localIndex: u32) {
  let index = linearWorkgroupIndex(workgroupId, workgroupCount) * WORKGROUP_SIZE + localIndex;
  // The window's first group: windows hold whole groups (nchw) or whole images (nhwc).
  let groupsPerImage = params.tensorChannels / params.groupChannels;
  let firstImage = params.firstInstance / params.channels;
  let firstChannel = (params.firstInstance % params.channels) * LANES;
  let group = firstImage * groupsPerImage + firstChannel / params.groupChannels + index;
  let image = group / groupsPerImage;
  let groupFirst = (group % groupsPerImage) * params.groupChannels;
  // A group past the window's last: its last channel is not in the window.
  if (channelEntry(image, groupFirst + params.groupChannels - 1u) == NO_ENTRY) {
    return;
  }
  var m = vec3f(0.0); // count, mean relative to the group pivot, variance
  var groupPivot = 0.0;
  for (var c = groupFirst; c < groupFirst + params.groupChannels; c++) {
    let source = channelEntry(image, c);
    let pivot = scratch[source * params.chunksPerInstance].w;
    if (c == groupFirst) {
      groupPivot = pivot;
    }
    for (var chunk = 0u; chunk < params.chunksPerInstance; chunk++) {
      let p = scratch[source * params.chunksPerInstance + chunk];
      m = mergeLaneMoments(m, vec3f(p.x, p.y + (pivot - groupPivot), p.z));
    }
  }
  let stats = vec4f(groupPivot, m.y, laneInverseSpread(m.z), m.z);
  for (var c = groupFirst; c < groupFirst + params.groupChannels; c++) {
    scratch[params.statsBase + channelEntry(image, c)] = stats;
  }
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
