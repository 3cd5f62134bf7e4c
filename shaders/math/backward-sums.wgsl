// The backward pass's scratch, after the statistics entries: per statistics entry
// vec4(mean of dy, mean of dy · x̂, 0, 0) over the instance, where x̂ = (x - mean) / spread
// is the normalized input and dy the gradient of the output (binding 6, read as the residual).
// The per-chunk partial sums share the partials region of the moments, which are used up by then.

struct GradientSums {
  dy: Value,       // sum of dy
  dyXhat: Value,   // sum of dy · x̂
}

// Sums of dy and dy · x̂ over positions first, first + step, ... < end of one instance, in
// blocks whose partial sums are added, so that no single f32 sum grows long.
fn rangeGradientSums(instance: u32, s: Stats, first: u32, end: u32, step: u32) -> GradientSums {
  enterInstance(instance);
  let indexStep = step * params.spatialStride;
  var total = GradientSums(Value(0.0), Value(0.0));
  var position = first;
  var index = elementIndex(instance, first);
  while (position < end) {
    let blockEnd = min(end, position + MOMENTS_BLOCK * step);
    var block = GradientSums(Value(0.0), Value(0.0));
    for (; position < blockEnd; position += step) {
      let dy = loadResidual(index);
      let xhat = ((loadElement(index) - s.pivot) - s.meanOffset) * s.invStd;
      block.dy += elementSum(dy);
      block.dyXhat += elementSum(dy * xhat);
      index += indexStep;
    }
    total.dy += block.dy;
    total.dyXhat += block.dyXhat;
  }
  return total;
}

// Index in scratch of the backward sums of statistics entry `entry` of the window.
fn gradientEntry(entry: u32) -> u32 {
  return params.statsBase + params.instanceCount * LANES + entry;
}

// The means of dy and dy · x̂ of a kernel instance, per lane.
fn loadGradientMeans(instance: u32) -> GradientSums {
  var dy = vec4f(0.0);
  var dyXhat = vec4f(0.0);
  for (var lane = 0u; lane < LANES; lane++) {
    let g = scratch[gradientEntry(instance * LANES + lane)];
    dy[lane] = g.x;
    dyXhat[lane] = g.y;
  }
  return GradientSums(fromLanes(dy), fromLanes(dyXhat));
}

fn storeGradientMeans(instance: u32, means: GradientSums) {
  for (var lane = 0u; lane < LANES; lane++) {
    scratch[gradientEntry(instance * LANES + lane)] = vec4f(laneOf(means.dy, lane), laneOf(means.dyXhat, lane), 0.0, 0.0);
  }
}

// What x̂ · mean(dy · x̂) is multiplied by in dx: 1 where the spread is sqrt(var + epsilon). With
// epsilon on the standard deviation σ (params.epsilonOnStd) the spread d = σ + epsilon moves as σ
// does, which gives d / σ = 1 / (1 - epsilon · invStd), and 0 where σ is 0 (x̂ is 0 there).
// From invStd, so that the saved statistics serve as well as the reduced ones.
fn spreadSlope(invStd: Value) -> Value {
  let rest = Value(1.0) - params.epsilon * invStd;
  return select(Value(1.0), select(Value(0.0), Value(1.0) / rest, rest > Value(0.0)), params.epsilonOnStd == 1u);
}

// Writes the input gradient for positions first, first + step, ... < end of one instance:
//   dx = scale · invStd · (dy - mean(dy) - x̂ · slope · mean(dy · x̂))   with the batch's statistics,
//   dx = scale · invStd · dy                                           in eval mode (an affine map).
fn applyGradient(instance: u32, s: Stats, means: GradientSums, first: u32, end: u32, step: u32) {
  enterInstance(instance);
  let batch = params.batchStatistics == 1u;
  let meanDy = select(Value(0.0), means.dy, batch);
  let meanDyXhat = select(Value(0.0), means.dyXhat * spreadSlope(s.invStd), batch);
  let factor = select(s.invStd, s.invStd * scaleValues(instance), params.hasScale == 1u);
  let indexStep = step * params.spatialStride;
  var index = elementIndex(instance, first);
  for (var position = first; position < end; position += step) {
    let xhat = ((loadElement(index) - s.pivot) - s.meanOffset) * s.invStd;
    storeElement(index, (loadResidual(index) - meanDy - xhat * meanDyXhat) * factor);
    index += indexStep;
  }
}
