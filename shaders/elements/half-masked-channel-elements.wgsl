// Up to four adjacent nhwc channels of halves, by single-half loads into a vec4f, with
// lane-values.wgsl and half-elements.wgsl: for C not a multiple of 4. As in
// masked-channel-elements.wgsl, lanes past C load whatever follows and are never stored.

alias Element = vec4f;

// Channels of the channel group being loaded or stored, set once per instance.
var<private> activeLanes: u32 = 4u;

fn enterInstance(instance: u32) {
  activeLanes = min(4u, params.tensorChannels - instanceChannel(instance));
}

fn loadElement(index: u32) -> Element {
  return vec4f(loadHalf(index), loadHalf(index + 1u), loadHalf(index + 2u), loadHalf(index + 3u));
}

fn loadResidual(index: u32) -> Element {
  return vec4f(loadResidualHalf(index), loadResidualHalf(index + 1u), loadResidualHalf(index + 2u), loadResidualHalf(index + 3u));
}

fn storeElement(index: u32, e: Element) {
  storeHalf(index, e.x);
  if (activeLanes > 1u) {
    storeHalf(index + 1u, e.y);
  }
  if (activeLanes > 2u) {
    storeHalf(index + 2u, e.z);
  }
  if (activeLanes > 3u) {
    storeHalf(index + 3u, e.w);
  }
}
