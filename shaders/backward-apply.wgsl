// Backward, pass 3: one workgroup per chunk of one instance, as normalize.wgsl, writes the
// input gradient (output binding):
//   dx = scale · invStd · (dy - mean(dy) - x̂ · mean(dy · x̂))   with the batch's statistics,
//   dx = scale · invStd · dy                                   in eval mode (an affine map).

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroupId: vec3u,
        @builtin(num_workgroups) workgroupCount: vec3u,
        @builtin(local_invocation_index) localIndex: u32) {
  let chunkIndex = linearWorkgroupIndex(workgroupId, workgroupCount);
  if (chunkIndex >= chunkCount()) {
    return;
  }
  let c = workgroupChunk(chunkIndex);
  let instance = c.instance;
  enterInstance(instance);
  let s = loadStats(instance);
  let batch = params.batchStatistics == 1u;
  let means = loadGradientMeans(instance);
  let meanDy = select(Value(0.0), means.dy, batch);
  let meanDyXhat = select(Value(0.0), means.dyXhat, batch);
  let factor = select(s.invStd, s.invStd * scaleValues(instance), params.hasScale == 1u);
  let indexStep = WORKGROUP_SIZE * params.spatialStride;
  var index = elementIndex(instance, c.start + localIndex);
  for (var position = c.start + localIndex; position < c.end; position += WORKGROUP_SIZE) {
    let xhat = ((loadElement(index) - s.pivot) - s.meanOffset) * s.invStd;
    storeElement(index, (loadResidual(index) - meanDy - xhat * meanDyXhat) * factor);
    index += indexStep;
  }
}
