// Moments of a set of values: count, mean (relative to the instance pivot) and variance (the
// biased one, sum of squared deviations / count). Welford's update adds one value; Chan's
// formula merges two sets. Both stay accurate where sum(x^2) - sum(x)^2 / n cancels
// catastrophically. Kept as a variance rather than a sum of squares, so that nothing grows
// with the count: f32 holds deviations up to about 1e19 from the mean.
// rangeMoments reads `input` (*-elements.wgsl) through elementIndex (instance-params.wgsl).

struct Moments {
  count: f32,
  mean: f32,
  variance: f32,
}

fn emptyMoments() -> Moments {
  return Moments(0.0, 0.0, 0.0);
}

fn addValue(m: Moments, value: f32) -> Moments {
  let count = m.count + 1.0;
  let inverse = 1.0 / count;
  let delta = value - m.mean;
  let mean = m.mean + delta * inverse;
  return Moments(count, mean, m.variance + (delta * (value - mean) - m.variance) * inverse);
}

fn mergeMoments(a: Moments, b: Moments) -> Moments {
  let count = a.count + b.count;
  if (count == 0.0) {
    return a;
  }
  let delta = b.mean - a.mean;
  let weightA = a.count / count;
  let weightB = b.count / count;
  return Moments(count, a.mean + delta * weightB, weightA * a.variance + weightB * b.variance + delta * delta * weightA * weightB);
}

fn packMoments(m: Moments) -> vec4f {
  return vec4f(m.count, m.mean, m.variance, 0.0);
}

fn unpackMoments(v: vec4f) -> Moments {
  return Moments(v.x, v.y, v.z);
}

// Statistics of a whole instance: vec4(pivot, meanOffset, 1 / sqrt(var + epsilon), 0).
// A variance that overflowed f32 gives NaN, never a silently wrong 1/sqrt(inf) = 0. The test
// is on the bits: WGSL lets compilers assume float arithmetic never meets inf or NaN.
fn instanceStats(pivot: f32, m: Moments) -> vec4f {
  let bits = bitcast<u32>(m.variance);
  let overflowed = (bits & 0x7f800000u) == 0x7f800000u;
  let nan = bitcast<f32>(bits | 0x00400000u); // +inf with a mantissa bit set: a quiet NaN
  let invStd = select(inverseSqrt(m.variance + params.epsilon), nan, overflowed);
  return vec4f(pivot, m.mean, invStd, 0.0);
}

// Welford's running mean loses accuracy once its increments fall below the mean's ulp
// (after about 1e5 values in f32): values are accumulated in blocks of MOMENTS_BLOCK and
// the blocks merged with Chan's formula.
const MOMENTS_BLOCK = 256u;

// Moments of the values of input[elementIndex(instance, p)] - pivot for p = first, first + step, ... < end.
// Indices advance by addition: integer division per element is slow on some devices.
fn rangeMoments(instance: u32, pivot: f32, first: u32, end: u32, step: u32) -> Moments {
  let base = elementIndex(instance, 0u);
  let indexStep = step * params.spatialStride;
  var total = emptyMoments();
  var position = first;
  var index = base + first * params.spatialStride;
  while (position < end) {
    let blockEnd = min(end, position + MOMENTS_BLOCK * step);
    var block = emptyMoments();
    for (; position < blockEnd; position += step) {
      block = accumulate(block, input[index], pivot);
      index += indexStep;
    }
    total = mergeMoments(total, block);
  }
  return total;
}
