// Backward, pass 4: the gradients of scale and bias into channelValues, scale's first, then
// bias's, each C values (per channel: summed over the images) or N × C (per instance):
//   dScale = S · mean(dy · x̂),  dBias = S · mean(dy)  per instance.
// One invocation per channel adds its instances in order: no float atomics. A tensor in
// several windows adds window by window; the window holding image 0 starts the sum.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroupId: vec3u,
        @builtin(num_workgroups) workgroupCount: vec3u,
        @builtin(local_invocation_index) localIndex: u32) {
  let channel = linearWorkgroupIndex(workgroupId, workgroupCount) * WORKGROUP_SIZE + localIndex;
  if (channel >= params.tensorChannels) {
    return;
  }
  let C = params.tensorChannels;
  let scaleLength = select(C, params.imageCount * C, params.scaleImageStride != 0u);
  let count = f32(params.instanceValues);
  var dScale = 0.0;
  var dBias = 0.0;
  var found = false;
  for (var n = 0u; n < params.imageCount; n++) {
    let entry = channelEntry(n, channel);
    if (entry != NO_ENTRY) {
      let g = scratch[gradientEntry(entry)];
      found = true;
      if (params.scaleImageStride != 0u) {
        channelValues[n * C + channel] = count * g.y;
      } else {
        dScale += count * g.y;
      }
      if (params.biasImageStride != 0u) {
        channelValues[scaleLength + n * C + channel] = count * g.x;
      } else {
        dBias += count * g.x;
      }
    }
  }
  if (!found) {
    return;
  }
  let holdsImage0 = channelEntry(0u, channel) != NO_ENTRY;
  if (params.scaleImageStride == 0u) {
    channelValues[channel] = select(channelValues[channel], 0.0, holdsImage0) + dScale;
  }
  if (params.biasImageStride == 0u) {
    channelValues[scaleLength + channel] = select(channelValues[scaleLength + channel], 0.0, holdsImage0) + dBias;
  }
}
