// Moments of a set of values: count, mean (relative to the instance pivot) and variance (the
// biased one, sum of squared deviations / count), per lane of a Value. Welford's update adds
// one value; Chan's formula merges two sets. Both stay accurate where
// sum(x^2) - sum(x)^2 / n cancels catastrophically. Kept as a variance rather than a sum of
// squares, so that nothing grows with the count, and every product is formed already scaled by
// its weight (never a bare square of a difference, which may be twice the largest deviation):
// each term then lies below the variance it adds to, so f32 holds deviations from the mean up
// to sqrt(f32 max) = 1.8e19, and beyond them the variance is inf, not a wrong number.

struct Moments {
  count: f32,
  mean: Value,
  variance: Value,
}

// Statistics of a whole instance (per lane): mean = pivot + meanOffset; the biased variance
// is kept for the running statistics.
struct Stats {
  pivot: Value,
  meanOffset: Value,
  invStd: Value,
  variance: Value,
}

fn emptyMoments() -> Moments {
  return Moments(0.0, Value(0.0), Value(0.0));
}

// variance' = variance (count - 1) / count + delta (value - mean') / count, with delta / count
// (the mean's step) formed first: delta (value - mean') alone overflows where variance' does
// not. Two terms, both >= 0 and below variance', so that no order of adding them overflows:
// compilers may reassociate f32 sums (Mesa's lavapipe, under Firefox, turned
// variance + (step (value - mean') - variance / count) into a sum through
// variance + step (value - mean'), above f32's max where variance' is near it).
fn addValue(m: Moments, value: Value) -> Moments {
  let count = m.count + 1.0;
  let inverse = 1.0 / count;
  let step = (value - m.mean) * inverse;
  let mean = m.mean + step;
  return Moments(count, mean, m.variance * (m.count * inverse) + step * (value - mean));
}

fn mergeMoments(a: Moments, b: Moments) -> Moments {
  let count = a.count + b.count;
  if (count == 0.0) {
    return a;
  }
  let delta = b.mean - a.mean;
  let weightA = a.count / count;
  let weightB = b.count / count;
  // delta^2 weightA weightB as (delta weightA) (delta weightB): delta^2 alone may overflow.
  let shift = delta * weightB;
  return Moments(count, a.mean + shift, weightA * a.variance + weightB * b.variance + (delta * weightA) * shift);
}

// The statistics of an instance from its moments, 1 / spread by the rule of laneInverseSpread
// (inverseSpread, values files).
fn instanceStats(pivot: Value, m: Moments) -> Stats {
  return Stats(pivot, m.mean, inverseSpread(m.variance), m.variance);
}

// `inverse`, 1 / sqrt(v) or 1 / v of one lane, where f32 can tell:
// - 0 where v is below f32's smallest normal number 2^-126 (0, or a subnormal that GPUs may
//   flush to 0): PyTorch's InvStd is 0 at v = 0, so a constant instance with epsilon 0 gives the
//   bias, and a finite input never gives NaN;
// - NaN where v overflowed (inf) or is NaN: never a silently wrong 1/sqrt(inf) = 0.
// The tests are on the exponent bits: WGSL lets compilers assume float arithmetic never meets
// inf or NaN, and subnormals may compare as 0 or not.
fn laneGuarded(v: f32, inverse: f32) -> f32 {
  let bits = bitcast<u32>(v);
  let exponent = bits & 0x7f800000u;
  let nan = bitcast<f32>(bits | 0x00400000u); // +inf with a mantissa bit set: a quiet NaN
  return select(select(inverse, nan, exponent == 0x7f800000u), 0.0, exponent == 0u);
}

// 1 / sqrt(v) of one lane, v = var + epsilon, by the rule of laneGuarded.
fn laneInverseStd(v: f32) -> f32 {
  return laneGuarded(v, inverseSqrt(v));
}

// 1 / the spread an instance of variance `variance` is divided by, one lane: sqrt(var + epsilon),
// or with params.epsilonOnStd (keras-contrib's placement) sqrt(var) + epsilon, a var below
// 2^-126 counted as 0 there (GPUs may flush it); 0 or NaN by the rule of laneGuarded.
fn laneInverseSpread(variance: f32) -> f32 {
  if (params.epsilonOnStd == 0u) {
    return laneInverseStd(variance + params.epsilon);
  }
  let deviation = select(sqrt(variance), 0.0, (bitcast<u32>(variance) & 0x7f800000u) == 0u);
  let spread = deviation + params.epsilon;
  return laneGuarded(spread, 1.0 / spread);
}

// Welford's running mean loses accuracy once its increments fall below the mean's ulp
// (after about 1e5 values in f32): values are accumulated in blocks of MOMENTS_BLOCK and
// the blocks merged with Chan's formula.
const MOMENTS_BLOCK = 256u;

// Moments of the values of positions first, first + step, ... < end of one instance, minus pivot.
// Indices advance by addition: integer division per element is slow on some devices.
fn rangeMoments(instance: u32, pivot: Value, first: u32, end: u32, step: u32) -> Moments {
  enterInstance(instance);
  let indexStep = step * params.spatialStride;
  var total = emptyMoments();
  var position = first;
  var index = elementIndex(instance, first);
  while (position < end) {
    let blockEnd = min(end, position + MOMENTS_BLOCK * step);
    var block = emptyMoments();
    for (; position < blockEnd; position += step) {
      block = accumulateAt(block, index, pivot);
      index += indexStep;
    }
    total = mergeMoments(total, block);
  }
  return total;
}

// Moments of a fused kernel's unit, from kernel instance `first` (its `instances` instances; more
// than one for a GroupNorm group), over positions start, start + step, ... of each: one range of
// positions where the group's instances follow one another in memory, else one per instance.
fn unitMoments(first: u32, instances: u32, pivot: Value, start: u32, step: u32) -> Moments {
  if (groupIsContiguous()) {
    return rangeMoments(first, pivot, start, instances * params.spatialSize, step);
  }
  var m = rangeMoments(first, pivot, start, params.spatialSize, step);
  for (var k = 1u; k < instances; k++) {
    m = mergeMoments(m, rangeMoments(first + k, pivot, start, params.spatialSize, step));
  }
  return m;
}

// The pivot of an instance: its first value.
fn instancePivot(instance: u32) -> Value {
  enterInstance(instance);
  return firstValue(loadElement(elementIndex(instance, 0u)));
}
