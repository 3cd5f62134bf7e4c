// Merge the moments held by each invocation of a workgroup into one, by a tree in
// workgroup memory: log2(WORKGROUP_SIZE) + 1 barriers. WORKGROUP_SIZE is a power of two.

var<workgroup> sharedMoments: array<vec4f, WORKGROUP_SIZE>;

fn workgroupMoments(local: Moments, localIndex: u32) -> Moments {
  sharedMoments[localIndex] = packMoments(local);
  workgroupBarrier();
  for (var width = WORKGROUP_SIZE / 2u; width > 0u; width = width / 2u) {
    if (localIndex < width) {
      let merged = mergeMoments(unpackMoments(sharedMoments[localIndex]), unpackMoments(sharedMoments[localIndex + width]));
      sharedMoments[localIndex] = packMoments(merged);
    }
    workgroupBarrier();
  }
  return unpackMoments(sharedMoments[0]);
}
