// Adds the GradientSums held by each invocation of a workgroup, by a tree in workgroup memory:
// log2(WORKGROUP_SIZE) + 1 barriers, as workgroup-moments.wgsl. WORKGROUP_SIZE is a power of two.

var<workgroup> sharedDy: array<Value, WORKGROUP_SIZE>;
var<workgroup> sharedDyXhat: array<Value, WORKGROUP_SIZE>;

fn workgroupSums(local: GradientSums, localIndex: u32) -> GradientSums {
  sharedDy[localIndex] = local.dy;
  sharedDyXhat[localIndex] = local.dyXhat;
  workgroupBarrier();
  for (var width = WORKGROUP_SIZE / 2u; width > 0u; width = width / 2u) {
    if (localIndex < width) {
      sharedDy[localIndex] += sharedDy[localIndex + width];
      sharedDyXhat[localIndex] += sharedDyXhat[localIndex + width];
    }
    workgroupBarrier();
  }
  return GradientSums(sharedDy[0], sharedDyXhat[0]);
}
