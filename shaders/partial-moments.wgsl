// Plan 'split', pass 1 of 3: one workgroup reduces one chunk of one instance to its
// moments relative to the instance pivot, so that a large instance keeps every core busy.
// Workgroup w handles chunk (w % chunksPerInstance) of instance (w / chunksPerInstance).

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroupId: vec3u,
        @builtin(num_workgroups) workgroupCount: vec3u,
        @builtin(local_invocation_index) localIndex: u32) {
  let partialIndex = linearWorkgroupIndex(workgroupId, workgroupCount);
  // Uniform across the workgroup, so the barriers below stay in uniform control flow.
  if (partialIndex >= params.instanceCount * params.chunksPerInstance) {
    return;
  }
  let instance = partialIndex / params.chunksPerInstance;
  let chunkStart = (partialIndex % params.chunksPerInstance) * params.chunkSize;
  let chunkEnd = min(chunkStart + params.chunkSize, params.spatialSize);
  let pivot = firstValue(input[elementIndex(instance, 0u)]);
  let local = rangeMoments(instance, pivot, chunkStart + localIndex, chunkEnd, WORKGROUP_SIZE);
  let merged = workgroupMoments(local, localIndex);
  if (localIndex == 0u) {
    partials[partialIndex] = packMoments(merged);
  }
}
