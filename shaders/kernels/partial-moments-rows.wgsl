// Plan 'split' by rows, pass 1 of 3, for nhwc channel groups on CPU adapters (planner.ts, byRows):
// one workgroup per chunk of an image's positions and slice of channel groups (row-chunks.wgsl),
// each invocation reducing its channel group over the chunk (row-moments.wgsl) to a partial of
// the split plan, for combine-moments or combine-group-moments. No barrier.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) workgroupId: vec3u,
        @builtin(num_workgroups) workgroupCount: vec3u,
        @builtin(local_invocation_index) localIndex: u32) {
  let r = workgroupRowChunk(linearWorkgroupIndex(workgroupId, workgroupCount));
  if (localIndex >= r.groups) {
    return;
  }
  let instance = r.firstInstance + localIndex;
  let pivot = instancePivot(instance);
  storePartial(instance, r.chunk, pivot, rowRangeMoments(instance, pivot, r.start, r.end));
}
