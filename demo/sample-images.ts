/**
 * Procedural sample images, generated in the page so that the demo downloads nothing: each a
 * 256×256 RGB tensor in NCHW order with values in [0, 1], with colour statistics of its own, so
 * that moving one's statistics onto another is plain to see.
 */
export const IMAGE_SIZE = 256;

export interface SampleImage {
  readonly name: string;
  readonly pixels: () => Float32Array;
}

export const SAMPLE_IMAGES: readonly SampleImage[] = [
  { name: 'Dunes', pixels: () => render(dunes) },
  { name: 'Lagoon', pixels: () => render(lagoon) },
  { name: 'Neon grid', pixels: () => render(neonGrid) },
  { name: 'Autumn forest', pixels: () => render(autumnForest) },
  { name: 'Marble', pixels: () => render(marble) },
];

type Shader = (u: number, v: number) => [number, number, number];

function render(shader: Shader): Float32Array {
  const plane = IMAGE_SIZE * IMAGE_SIZE;
  const out = new Float32Array(3 * plane);
  for (let y = 0; y < IMAGE_SIZE; y++) {
    for (let x = 0; x < IMAGE_SIZE; x++) {
      const [r, g, b] = shader(x / IMAGE_SIZE, y / IMAGE_SIZE);
      const i = y * IMAGE_SIZE + x;
      out[i] = clamp01(r);
      out[plane + i] = clamp01(g);
      out[2 * plane + i] = clamp01(b);
    }
  }
  return out;
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));
const mix = (a: number, b: number, t: number) => a + (b - a) * t;

/** Smooth value noise in [0, 1]: a hashed lattice, interpolated, summed over octaves. */
function noise(x: number, y: number, octaves = 4): number {
  let total = 0;
  let amplitude = 0.5;
  let frequency = 1;
  for (let o = 0; o < octaves; o++) {
    total += amplitude * latticeNoise(x * frequency, y * frequency);
    amplitude *= 0.5;
    frequency *= 2;
  }
  return total / (1 - 0.5 ** octaves);
}

function latticeNoise(x: number, y: number): number {
  const xi = Math.floor(x);
  const yi = Math.floor(y);
  const fx = x - xi;
  const fy = y - yi;
  const sx = fx * fx * (3 - 2 * fx);
  const sy = fy * fy * (3 - 2 * fy);
  const top = mix(hash(xi, yi), hash(xi + 1, yi), sx);
  const bottom = mix(hash(xi, yi + 1), hash(xi + 1, yi + 1), sx);
  return mix(top, bottom, sy);
}

function hash(x: number, y: number): number {
  let h = Math.imul(x, 374761393) + Math.imul(y, 668265263);
  h = Math.imul(h ^ (h >>> 13), 1274126177);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

function dunes(u: number, v: number): [number, number, number] {
  const ridge = Math.sin(14 * (u + 0.25 * noise(u * 3, v * 3)) + 6 * v);
  const sky = v < 0.3 ? 1 - v / 0.3 : 0;
  const shade = 0.5 + 0.25 * ridge + 0.1 * noise(u * 20, v * 20);
  return [mix(0.85 * shade + 0.2, 0.55, sky), mix(0.6 * shade + 0.1, 0.7, sky), mix(0.3 * shade, 0.95, sky)];
}

function lagoon(u: number, v: number): [number, number, number] {
  const waves = 0.5 + 0.5 * Math.sin(30 * v + 8 * noise(u * 4, v * 4));
  const depth = Math.hypot(u - 0.6, v - 0.55);
  return [0.05 + 0.15 * waves, 0.45 + 0.3 * waves - 0.3 * depth, 0.55 + 0.3 * (1 - depth)];
}

function neonGrid(u: number, v: number): [number, number, number] {
  const line = (t: number) => Math.exp(-((((t * 12) % 1) - 0.5) ** 2) * 120);
  const horizon = Math.max(0, v - 0.4) / 0.6;
  const gx = line(0.5 + (u - 0.5) / (horizon + 0.05));
  const gy = line(1 / (horizon + 0.05));
  const glow = v < 0.4 ? Math.exp(-Math.hypot(u - 0.5, v - 0.3) * 6) : 0;
  return [0.08 + gx * 0.9 + glow, 0.02 + gy * 0.8 + 0.4 * glow, 0.18 + 0.7 * (gx + gy) + 0.2 * glow];
}

function autumnForest(u: number, v: number): [number, number, number] {
  const leaves = noise(u * 10, v * 10, 5);
  const trunk = Math.abs(Math.sin(u * 22 + 2 * noise(u * 2, v * 2))) < 0.12 ? 1 : 0;
  const light = 1 - 0.6 * v;
  return [
    mix(0.75 * leaves + 0.25, 0.3, trunk) * light,
    mix(0.35 * leaves + 0.1, 0.2, trunk) * light,
    mix(0.1, 0.1, trunk) * light,
  ];
}

function marble(u: number, v: number): [number, number, number] {
  const veins = Math.abs(Math.sin(8 * (u + v) + 5 * noise(u * 4, v * 4, 5)));
  const tone = 0.55 + 0.4 * veins;
  return [tone * 0.92, tone * 0.92, tone];
}
