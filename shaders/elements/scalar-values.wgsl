// Values of one instance: each kernel instance is one (n, c), with one statistics entry.

alias Value = f32;

const LANES = 1u;

// 1 / the spread of an instance of variance `variance` (laneInverseSpread, moments.wgsl).
fn inverseSpread(variance: Value) -> Value {
  return laneInverseSpread(variance);
}

// scale and bias of the instance: index c, or n * C + c where they are per instance.
fn scaleValues(instance: u32) -> Value {
  return scale[instanceImage(instance) * params.scaleImageStride + instanceChannel(instance)];
}

fn biasValues(instance: u32) -> Value {
  return bias[instanceImage(instance) * params.biasImageStride + instanceChannel(instance)];
}

// GroupNorm (fused kernels): a group's pivot is its first value, and its moments are those of
// its one lane.
fn groupPivot(first: Value) -> Value {
  return first;
}

fn groupMoments(m: Moments) -> Moments {
  return m;
}

// Partial moments of chunk `chunk` of an instance, with the instance's pivot.
fn storePartial(instance: u32, chunk: u32, pivot: Value, m: Moments) {
  scratch[instance * params.chunksPerInstance + chunk] = vec4f(m.count, m.mean, m.variance, pivot);
}

fn loadPartial(instance: u32, chunk: u32) -> Moments {
  let p = scratch[instance * params.chunksPerInstance + chunk];
  return Moments(p.x, p.y, p.z);
}

fn loadPartialPivot(instance: u32) -> Value {
  return scratch[instance * params.chunksPerInstance].w;
}

fn storeStats(instance: u32, s: Stats) {
  scratch[params.statsBase + instance] = vec4f(s.pivot, s.meanOffset, s.invStd, s.variance);
}

fn loadStats(instance: u32) -> Stats {
  let s = scratch[params.statsBase + instance];
  return Stats(s.x, s.y, s.z, s.w);
}

// Writes the instance's mean and spread to statsArrays at its tensor index n * C + c.
fn exportStats(instance: u32, s: Stats) {
  let index = params.firstInstance + instance;
  statsArrays[index] = s.pivot + s.meanOffset;
  statsArrays[params.exportedSpreadOffset + index] = select(s.invStd, standardDeviation(s.invStd), params.exportStd == 1u);
}

// The spread from its inverse: 0 where that is 0 (the spread below 2^-126).
fn standardDeviation(invStd: Value) -> Value {
  return select(1.0 / invStd, 0.0, invStd == 0.0);
}

// Statistics from the running mean and variance of the instance's channel (eval mode).
fn runningStats(instance: u32) -> Stats {
  let c = instanceChannel(instance);
  let variance = channelValues[params.tensorChannels + c];
  return Stats(channelValues[c], 0.0, inverseSpread(variance), variance);
}

// One lane of a Value, and a Value from four lanes: a kernel instance has one lane here.
fn laneOf(v: Value, lane: u32) -> f32 {
  return v;
}

fn fromLanes(lanes: vec4f) -> Value {
  return lanes.x;
}
