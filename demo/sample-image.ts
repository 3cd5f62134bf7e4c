/**
 * A procedural 256×256 RGB test image, NCHW float32 in [0, 1]: soft rings and stripes with a
 * warm colour cast and low contrast, so that per-channel normalization visibly changes it.
 * Generated, so the demo downloads nothing.
 */
export function sampleImage(size = 256): Float32Array {
  const pixels = size * size;
  const image = new Float32Array(3 * pixels);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const u = x / size - 0.5;
      const v = y / size - 0.5;
      const rings = Math.sin(28 * Math.hypot(u, v));
      const stripes = Math.sin(9 * (u + 0.6 * v) + 2 * Math.sin(5 * v));
      const i = y * size + x;
      image[i] = 0.62 + 0.06 * rings + 0.03 * stripes; // red: high and flat
      image[pixels + i] = 0.45 + 0.04 * stripes + 0.02 * rings; // green
      image[2 * pixels + i] = 0.25 + 0.05 * rings * stripes; // blue: low
    }
  }
  return image;
}
