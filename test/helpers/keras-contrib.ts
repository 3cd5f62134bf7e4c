import type { Layout } from '../../src';

// keras-contrib's InstanceNormalization, written out in float64 from its source
// (keras_contrib/layers/normalization/instancenormalization.py: `mean = K.mean(x, axes)`,
// `stddev = K.std(x, axes) + epsilon`, `(x - mean) / stddev * gamma + beta`), for the tests to
// check the library's 'std' epsilon placement against, rather than against itself.

/** A tensor's shape and layout; `groups` normalizes groups of C / groups channels together (G = 1: keras-contrib's axis None). */
export interface NormalizationCase {
  readonly shape: readonly number[];
  readonly layout: Layout;
  readonly groups?: number;
}

/** Channel count, image count, positions per channel and the flat index of value (n, c, s) of a case. */
export function layoutOf({ shape, layout }: NormalizationCase) {
  const N = shape[0];
  const C = layout === 'nchw' ? shape[1] : shape[shape.length - 1];
  const S = shape.reduce((a, b) => a * b, 1) / (N * C);
  const at = (n: number, c: number, s: number) => (layout === 'nchw' ? (n * C + c) * S + s : (n * S + s) * C + c);
  return { N, C, S, at };
}

/**
 * keras-contrib's formula in float64: per image and group of channels, the mean and the biased
 * standard deviation σ (K.std), y = (x − mean) / (σ + ε) · γ[c] + β[c].
 */
export function kerasContrib(
  x: ArrayLike<number>,
  t: NormalizationCase,
  epsilon: number,
  gamma?: ArrayLike<number>,
  beta?: ArrayLike<number>,
): Float64Array {
  const { N, C, S, at } = layoutOf(t);
  const perGroup = C / (t.groups ?? C);
  const y = new Float64Array(x.length);
  for (let n = 0; n < N; n++) {
    for (let first = 0; first < C; first += perGroup) {
      const indices: number[] = [];
      for (let c = first; c < first + perGroup; c++) for (let s = 0; s < S; s++) indices.push(at(n, c, s));
      const mean = indices.reduce((sum, i) => sum + x[i], 0) / indices.length;
      const sigma = Math.sqrt(indices.reduce((sum, i) => sum + (x[i] - mean) ** 2, 0) / indices.length);
      for (const i of indices) {
        const c = t.layout === 'nchw' ? Math.floor(i / S) % C : i % C;
        y[i] = ((x[i] - mean) / (sigma + epsilon)) * (gamma ? gamma[c] : 1) + (beta ? beta[c] : 0);
      }
    }
  }
  return y;
}
