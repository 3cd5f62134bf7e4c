// The memory floor: a plain vec4 copy of the tensor, one vec4 per invocation. Reading and
// writing every byte once is all InstanceNorm needs at the least.

override WORKGROUP_SIZE: u32 = 256u;

@group(0) @binding(0) var<storage, read> source: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> destination: array<vec4f>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) count: vec3u) {
  let index = id.y * count.x * WORKGROUP_SIZE + id.x;
  if (index < arrayLength(&destination)) {
    destination[index] = source[index];
  }
}
