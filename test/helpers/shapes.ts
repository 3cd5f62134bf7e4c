import type { Layout } from '../../src';

/** A tensor described layout-independently: batch, channels and spatial dimensions. */
export interface TensorCase {
  readonly batch: number;
  readonly channels: number;
  readonly spatial: readonly number[];
}

/** The shape of a case in a layout: [N, C, ...spatial] or [N, ...spatial, C]. */
export function shapeOf(t: TensorCase, layout: Layout): number[] {
  return layout === 'nchw' ? [t.batch, t.channels, ...t.spatial] : [t.batch, ...t.spatial, t.channels];
}

export function elementCount(t: TensorCase): number {
  return t.batch * t.channels * t.spatial.reduce((a, b) => a * b, 1);
}

/** NCHW data of a case rearranged to NHWC. */
export function toChannelsLast(data: Float32Array, t: TensorCase): Float32Array {
  const size = t.spatial.reduce((a, b) => a * b, 1);
  const out = new Float32Array(data.length);
  for (let n = 0; n < t.batch; n++) {
    for (let c = 0; c < t.channels; c++) {
      for (let s = 0; s < size; s++) {
        out[(n * size + s) * t.channels + c] = data[(n * t.channels + c) * size + s];
      }
    }
  }
  return out;
}

export function describeCase(t: TensorCase): string {
  return `N=${t.batch} C=${t.channels} spatial=${t.spatial.join('×')}`;
}
