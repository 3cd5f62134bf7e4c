// Arithmetic of rgb-quad: four positions of an nhwc RGB image (C = 3, S a multiple of 4, so
// every image starts on 16 bytes) as the three vec4s they fill: (r0 g0 b0 r1) (g1 b1 r2 g2)
// (b2 r3 g3 b3), with lane-values.wgsl (lanes r, g, b; the fourth unused) and the vec4 storage
// of vec4-elements.wgsl. Aligned 16-byte loads and stores of four values each, where
// masked-channel-elements.wgsl takes four scalar loads and three stores per position. Element
// indices count vec4s; a kernel step (a "position" of Params) is one quad, three vec4s. The
// moments take a quad at once (four values per channel); the normalize step
// (rgb-quad-normalize.wgsl) its three vec4s one by one, so the epilogue sees a vec4 Element.

// The first vec4 of an instance holds its first position's r, g, b in lanes 0-2.
fn firstValue(e: Element) -> Value {
  return e;
}

// The moments step of rangeMoments (moments.wgsl): the quad whose first vec4 is at `index`,
// four values per channel, merged as one set (Chan's formula), as four-position-elements.wgsl:
// the deviations halved before squaring.
fn accumulateAt(m: Moments, index: u32, pivot: Value) -> Moments {
  let a = loadElement(index);
  let b = loadElement(index + 1u);
  let c = loadElement(index + 2u);
  let p0 = vec4f(a.xyz, 0.0) - pivot;
  let p1 = vec4f(a.w, b.xy, 0.0) - pivot;
  let p2 = vec4f(b.zw, c.x, 0.0) - pivot;
  let p3 = vec4f(c.yzw, 0.0) - pivot;
  let mean = (p0 + p1 + p2 + p3) * 0.25;
  let d0 = (p0 - mean) * 0.5;
  let d1 = (p1 - mean) * 0.5;
  let d2 = (p2 - mean) * 0.5;
  let d3 = (p3 - mean) * 0.5;
  return mergeMoments(m, Moments(4.0, mean, d0 * d0 + d1 * d1 + d2 * d2 + d3 * d3));
}
