// Plan 'split', pass 1 of 3: one workgroup reduces one chunk of one instance to its
// moments relative to the instance pivot, so that a large instance keeps every core busy.
// Workgroup w handles chunk (w % chunksPerInstance) of instance (w / chunksPerInstance).

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroupId: vec3u,
        @builtin(num_workgroups) workgroupCount: vec3u,
        @builtin(local_invocation_index) localIndex: u32) {
  let chunkIndex = linearWorkgroupIndex(workgroupId, workgroupCount);
  // Uniform across the workgroup, so the barriers below stay in uniform control flow.
  if (chunkIndex >= params.instanceCount * params.chunksPerInstance) {
    return;
  }
  let instance = chunkIndex / params.chunksPerInstance;
  let chunk = chunkIndex % params.chunksPerInstance;
  let chunkStart = chunk * params.chunkSize;
  let chunkEnd = min(chunkStart + params.chunkSize, params.spatialSize);
  let pivot = instancePivot(instance);
  let local = rangeMoments(instance, pivot, chunkStart + localIndex, chunkEnd, WORKGROUP_SIZE);
  let merged = workgroupMoments(local, localIndex);
  if (localIndex == 0u) {
    storePartial(instance, chunk, pivot, merged);
  }
}
