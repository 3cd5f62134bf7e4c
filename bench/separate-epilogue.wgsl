// The epilogue as a pass of its own, for comparison with the fused one: y = silu(y) + residual
// over a normalized tensor, in place, one vec4 per invocation. What an app without a fused
// epilogue runs after the normalization.

override WORKGROUP_SIZE: u32 = 256u;

@group(0) @binding(0) var<storage, read_write> values: array<vec4f>;
@group(0) @binding(1) var<storage, read> residual: array<vec4f>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) count: vec3u) {
  let index = id.y * count.x * WORKGROUP_SIZE + id.x;
  if (index < arrayLength(&values)) {
    let v = values[index];
    values[index] = v / (1.0 + exp(-v)) + residual[index];
  }
}
