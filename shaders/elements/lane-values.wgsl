// Values of four adjacent channels of one nhwc image, one per lane of a vec4f: a kernel
// instance is a channel group, and neighbouring invocations read neighbouring memory.
// Lanes past C (in the last group when C is not a multiple of 4) compute on zeros and are
// never stored.

alias Value = vec4f;

const LANES = 4u;

// 1 / the spread of each lane's variance (laneInverseSpread, moments.wgsl).
fn inverseSpread(variance: Value) -> Value {
  return vec4f(
    laneInverseSpread(variance.x),
    laneInverseSpread(variance.y),
    laneInverseSpread(variance.z),
    laneInverseSpread(variance.w),
  );
}

// The channels of a group's lanes, clamped to C - 1 (lanes past C read channel C - 1).
fn laneChannels(instance: u32) -> vec4u {
  return min(vec4u(instanceChannel(instance)) + vec4u(0u, 1u, 2u, 3u), vec4u(params.tensorChannels - 1u));
}

// scale and bias of the group's four channels: index c, or n * C + c where they are per instance.
fn scaleValues(instance: u32) -> Value {
  let c = laneChannels(instance) + instanceImage(instance) * params.scaleImageStride;
  return vec4f(scale[c.x], scale[c.y], scale[c.z], scale[c.w]);
}

fn biasValues(instance: u32) -> Value {
  let c = laneChannels(instance) + instanceImage(instance) * params.biasImageStride;
  return vec4f(bias[c.x], bias[c.y], bias[c.z], bias[c.w]);
}

// GroupNorm (fused kernels): every lane of a group's channel groups takes the group's pivot, its
// first channel's first value, so that the lanes' moments merge with no shift.
fn groupPivot(first: Value) -> Value {
  return select(first, Value(first.x), GROUPED);
}

// GroupNorm: the moments of the four lanes (equal counts, one pivot) merged into the group's, in
// every lane; deviations halved before squaring, and variances scaled before adding, so that
// nothing overflows where the result does not (moments.wgsl).
fn groupMoments(m: Moments) -> Moments {
  if (!GROUPED) {
    return m;
  }
  let mean = dot(m.mean, vec4f(0.25));
  let deviation = (m.mean - mean) * 0.5;
  return Moments(m.count * 4.0, Value(mean), Value(dot(m.variance, vec4f(0.25)) + dot(deviation, deviation)));
}

// Statistics entries are per lane: entry LANES * instance + lane, its partials
// (entry * chunksPerInstance + chunk).
fn partialIndex(instance: u32, lane: u32, chunk: u32) -> u32 {
  return (instance * LANES + lane) * params.chunksPerInstance + chunk;
}

fn storePartial(instance: u32, chunk: u32, pivot: Value, m: Moments) {
  for (var lane = 0u; lane < LANES; lane++) {
    scratch[partialIndex(instance, lane, chunk)] = vec4f(m.count, m.mean[lane], m.variance[lane], pivot[lane]);
  }
}

fn loadPartial(instance: u32, chunk: u32) -> Moments {
  let a = scratch[partialIndex(instance, 0u, chunk)];
  let b = scratch[partialIndex(instance, 1u, chunk)];
  let c = scratch[partialIndex(instance, 2u, chunk)];
  let d = scratch[partialIndex(instance, 3u, chunk)];
  return Moments(a.x, vec4f(a.y, b.y, c.y, d.y), vec4f(a.z, b.z, c.z, d.z));
}

fn loadPartialPivot(instance: u32) -> Value {
  return vec4f(scratch[partialIndex(instance, 0u, 0u)].w, scratch[partialIndex(instance, 1u, 0u)].w,
               scratch[partialIndex(instance, 2u, 0u)].w, scratch[partialIndex(instance, 3u, 0u)].w);
}

fn storeStats(instance: u32, s: Stats) {
  for (var lane = 0u; lane < LANES; lane++) {
    scratch[params.statsBase + instance * LANES + lane] = vec4f(s.pivot[lane], s.meanOffset[lane], s.invStd[lane], s.variance[lane]);
  }
}

fn loadStats(instance: u32) -> Stats {
  let a = scratch[params.statsBase + instance * LANES];
  let b = scratch[params.statsBase + instance * LANES + 1u];
  let c = scratch[params.statsBase + instance * LANES + 2u];
  let d = scratch[params.statsBase + instance * LANES + 3u];
  return Stats(vec4f(a.x, b.x, c.x, d.x), vec4f(a.y, b.y, c.y, d.y), vec4f(a.z, b.z, c.z, d.z), vec4f(a.w, b.w, c.w, d.w));
}

// Writes the mean and spread of the group's channels below C to statsArrays at their tensor
// indices n * C + c.
fn exportStats(instance: u32, s: Stats) {
  let first = instanceChannel(instance);
  let index = instanceImage(instance) * params.tensorChannels + first;
  let mean = s.pivot + s.meanOffset;
  let spread = select(s.invStd, standardDeviation(s.invStd), params.exportStd == 1u);
  for (var lane = 0u; lane < min(LANES, params.tensorChannels - first); lane++) {
    statsArrays[index + lane] = mean[lane];
    statsArrays[params.exportedSpreadOffset + index + lane] = spread[lane];
  }
}

// The spread from its inverse: 0 where that is 0 (the spread below 2^-126).
fn standardDeviation(invStd: Value) -> Value {
  return select(1.0 / invStd, Value(0.0), invStd == Value(0.0));
}

// Statistics from the running means and variances of the group's channels (eval mode).
fn runningStats(instance: u32) -> Stats {
  let c = laneChannels(instance);
  let v = vec4u(params.tensorChannels);
  let mean = vec4f(channelValues[c.x], channelValues[c.y], channelValues[c.z], channelValues[c.w]);
  let variance = vec4f(channelValues[v.x + c.x], channelValues[v.y + c.y], channelValues[v.z + c.z], channelValues[v.w + c.w]);
  return Stats(mean, vec4f(0.0), inverseSpread(variance), variance);
}

// One lane of a Value, and a Value from four lanes.
fn laneOf(v: Value, lane: u32) -> f32 {
  return v[lane];
}

fn fromLanes(lanes: vec4f) -> Value {
  return lanes;
}
