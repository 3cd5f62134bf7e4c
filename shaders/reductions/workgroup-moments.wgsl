// Merge the moments held by each invocation of a workgroup into one, by a tree in
// workgroup memory: log2(WORKGROUP_SIZE) + 1 barriers. WORKGROUP_SIZE is a power of two.

var<workgroup> sharedCounts: array<f32, WORKGROUP_SIZE>;
var<workgroup> sharedMeans: array<Value, WORKGROUP_SIZE>;
var<workgroup> sharedVariances: array<Value, WORKGROUP_SIZE>;

fn workgroupMoments(local: Moments, localIndex: u32) -> Moments {
  sharedCounts[localIndex] = local.count;
  sharedMeans[localIndex] = local.mean;
  sharedVariances[localIndex] = local.variance;
  workgroupBarrier();
  for (var width = WORKGROUP_SIZE / 2u; width > 0u; width = width / 2u) {
    if (localIndex < width) {
      let other = localIndex + width;
      let merged = mergeMoments(
        Moments(sharedCounts[localIndex], sharedMeans[localIndex], sharedVariances[localIndex]),
        Moments(sharedCounts[other], sharedMeans[other], sharedVariances[other]),
      );
      sharedCounts[localIndex] = merged.count;
      sharedMeans[localIndex] = merged.mean;
      sharedVariances[localIndex] = merged.variance;
    }
    workgroupBarrier();
  }
  return Moments(sharedCounts[0], sharedMeans[0], sharedVariances[0]);
}
