// Merge the moments held by each invocation of a workgroup into one with subgroup operations,
// in place of the tree of workgroup-moments.wgsl where the device has 'subgroups': each subgroup
// merges its own by subgroupAdd, then, after a single barrier, every invocation merges the
// subgroups' results in the order of their first invocation: the same order in every workgroup,
// as combine-and-normalize.wgsl wants of the workgroups of one instance. The module starts with
// `enable subgroups;` (shader-sources.ts). Called once per workgroup: the leader bits below are
// only cleared when the workgroup starts.

var<workgroup> subgroupCounts: array<f32, WORKGROUP_SIZE>;
var<workgroup> subgroupMeans: array<Value, WORKGROUP_SIZE>;
var<workgroup> subgroupVariances: array<Value, WORKGROUP_SIZE>;
// Bit i set: slot i holds the moments of the subgroup whose first invocation is i.
var<workgroup> subgroupLeaders: array<atomic<u32>, (WORKGROUP_SIZE + 31u) / 32u>;

// Chan's merge over a subgroup: the count, the count-weighted mean, then each invocation's
// variance plus its squared distance to that mean, weighted alike (the square formed weighted,
// as in moments.wgsl, so that no term exceeds the sum). Empty invocations weigh 0.
fn subgroupMergeMoments(m: Moments) -> Moments {
  let count = subgroupAdd(m.count);
  let weight = m.count / max(count, 1.0);
  let mean = subgroupAdd(m.mean * weight);
  let delta = m.mean - mean;
  return Moments(count, mean, subgroupAdd(weight * m.variance + (delta * weight) * delta));
}

fn workgroupMoments(local: Moments, localIndex: u32) -> Moments {
  let merged = subgroupMergeMoments(local);
  // Subgroups are disjoint, so their first invocations are distinct slots.
  let leader = subgroupMin(localIndex);
  if (localIndex == leader) {
    subgroupCounts[leader] = merged.count;
    subgroupMeans[leader] = merged.mean;
    subgroupVariances[leader] = merged.variance;
    atomicOr(&subgroupLeaders[leader / 32u], 1u << (leader % 32u));
  }
  workgroupBarrier();
  var total = emptyMoments();
  for (var word = 0u; word < (WORKGROUP_SIZE + 31u) / 32u; word++) {
    var bits = atomicLoad(&subgroupLeaders[word]);
    while (bits != 0u) {
      let slot = word * 32u + countTrailingZeros(bits);
      total = mergeMoments(total, Moments(subgroupCounts[slot], subgroupMeans[slot], subgroupVariances[slot]));
      bits &= bits - 1u;
    }
  }
  return total;
}
