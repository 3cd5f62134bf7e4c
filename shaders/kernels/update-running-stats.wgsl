// Training with running statistics, after combine-moments: one invocation per channel c folds
// the window's instances of c into the running mean and variance, PyTorch's update
//   running = (1 - momentum) * running + momentum * (batch value averaged over N),
// with the unbiased variance. A tensor in several windows adds its images window by window;
// the decay is applied once, in the window that holds the channel's instance of image 0.
// One invocation per channel, so no two write the same value and no float atomics are needed.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroupId: vec3u,
        @builtin(num_workgroups) workgroupCount: vec3u,
        @builtin(local_invocation_index) localIndex: u32) {
  let channel = linearWorkgroupIndex(workgroupId, workgroupCount) * WORKGROUP_SIZE + localIndex;
  if (channel >= params.tensorChannels) {
    return;
  }
  // Each image's share weighted before adding, not the N values summed first: a sum of N
  // variances near f32's largest would overflow where their weighted mean does not.
  let varianceWeight = params.runningWeight * params.unbiasFactor;
  var meanShare = 0.0;
  var varianceShare = 0.0;
  var found = false;
  for (var n = 0u; n < params.imageCount; n++) {
    let entry = channelEntry(n, channel);
    if (entry != NO_ENTRY) {
      let s = scratch[params.statsBase + entry];
      meanShare += (s.x + s.y) * params.runningWeight;
      varianceShare += s.w * varianceWeight;
      found = true;
    }
  }
  if (!found) {
    return;
  }
  let decay = select(1.0, params.runningDecay, channelEntry(0u, channel) != NO_ENTRY);
  let variance = params.tensorChannels + channel;
  channelValues[channel] = channelValues[channel] * decay + meanShare;
  channelValues[variance] = channelValues[variance] * decay + varianceShare;
}
