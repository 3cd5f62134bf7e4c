// Up to four adjacent channels of one nhwc position, by scalar loads into a vec4f, with
// lane-values.wgsl: for C not a multiple of 4 (an RGB image, say). The element index is that
// of the group's first value; lanes past C read 0 and are never written.

alias Element = vec4f;

@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;

// Channels of the instance (channel group) being loaded or stored: set once per instance by
// enterInstance, so that no element needs a division to find it.
var<private> activeLanes: u32 = 4u;

fn enterInstance(instance: u32) {
  activeLanes = min(4u, params.tensorChannels - instanceChannel(instance));
}

fn loadElement(index: u32) -> Element {
  var e = vec4f(0.0);
  for (var lane = 0u; lane < activeLanes; lane++) {
    e[lane] = input[index + lane];
  }
  return e;
}

fn storeElement(index: u32, e: Element) {
  for (var lane = 0u; lane < activeLanes; lane++) {
    output[index + lane] = e[lane];
  }
}

fn firstValue(e: Element) -> Value {
  return e;
}

fn accumulate(m: Moments, e: Element, pivot: Value) -> Moments {
  return addValue(m, e - pivot);
}

fn normalizeElement(e: Element, s: Stats, factor: Value, offset: Value) -> Element {
  return ((e - s.pivot) - s.meanOffset) * factor + offset;
}
