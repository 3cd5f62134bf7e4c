// Up to four adjacent channels of one nhwc position, by scalar loads into a vec4f, with
// lane-values.wgsl: for C not a multiple of 4 (an RGB image, say). The element index is that
// of the group's first value. Lanes past C load whatever follows (the next position's
// channels; past the binding, what robust buffer access gives): their moments stay in their
// own lanes and are never stored.

alias Element = vec4f;

@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;
@group(0) @binding(6) var<storage, read> residual: array<f32>;

// Channels of the instance (channel group) being loaded or stored: set once per instance by
// enterInstance, so that no element needs a division to find it.
var<private> activeLanes: u32 = 4u;

fn enterInstance(instance: u32) {
  activeLanes = min(4u, params.tensorChannels - instanceChannel(instance));
}

// Unrolled: a loop over lanes with dynamic vector indexing is several times slower.
fn loadElement(index: u32) -> Element {
  return vec4f(input[index], input[index + 1u], input[index + 2u], input[index + 3u]);
}

fn loadResidual(index: u32) -> Element {
  return vec4f(residual[index], residual[index + 1u], residual[index + 2u], residual[index + 3u]);
}

fn storeElement(index: u32, e: Element) {
  output[index] = e.x;
  if (activeLanes > 1u) {
    output[index + 1u] = e.y;
  }
  if (activeLanes > 2u) {
    output[index + 2u] = e.z;
  }
  if (activeLanes > 3u) {
    output[index + 3u] = e.w;
  }
}
