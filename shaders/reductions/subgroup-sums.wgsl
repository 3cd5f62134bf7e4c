// Adds the GradientSums held by each invocation of a workgroup with subgroup operations, as
// subgroup-moments.wgsl merges moments (in place of the tree of workgroup-sums.wgsl): subgroupAdd
// within each subgroup, then one barrier, then every invocation adds the subgroups' sums in the
// order of their first invocation. Called once per workgroup.

var<workgroup> subgroupDy: array<Value, WORKGROUP_SIZE>;
var<workgroup> subgroupDyXhat: array<Value, WORKGROUP_SIZE>;
// Bit i set: slot i holds the sums of the subgroup whose first invocation is i.
var<workgroup> subgroupLeaders: array<atomic<u32>, (WORKGROUP_SIZE + 31u) / 32u>;

fn workgroupSums(local: GradientSums, localIndex: u32) -> GradientSums {
  let dy = subgroupAdd(local.dy);
  let dyXhat = subgroupAdd(local.dyXhat);
  let leader = subgroupMin(localIndex);
  if (localIndex == leader) {
    subgroupDy[leader] = dy;
    subgroupDyXhat[leader] = dyXhat;
    atomicOr(&subgroupLeaders[leader / 32u], 1u << (leader % 32u));
  }
  workgroupBarrier();
  var total = GradientSums(Value(0.0), Value(0.0));
  for (var word = 0u; word < (WORKGROUP_SIZE + 31u) / 32u; word++) {
    var bits = atomicLoad(&subgroupLeaders[word]);
    while (bits != 0u) {
      let slot = word * 32u + countTrailingZeros(bits);
      total.dy += subgroupDy[slot];
      total.dyXhat += subgroupDyXhat[slot];
      bits &= bits - 1u;
    }
  }
  return total;
}
