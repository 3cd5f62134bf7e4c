/** Seeded generator (mulberry32): the same seed gives the same data on every run and machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `length` normal values with the given mean and standard deviation (Box–Muller). */
export function randomNormal(length: number, seed: number, mean = 0, std = 1): Float32Array {
  const random = seededRandom(seed);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const u = 1 - random();
    const v = random();
    out[i] = mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return out;
}

/** `length` values uniform in [low, high). */
export function randomUniform(length: number, seed: number, low: number, high: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length }, () => low + (high - low) * random());
}
