import type { Layout } from './options';

/** The sizes of a tensor that a normalization needs, derived once from its shape and layout. */
export interface TensorGeometry {
  readonly layout: Layout;
  readonly shape: readonly number[];
  /** Batch size N. */
  readonly batch: number;
  /** Channel count C. */
  readonly channels: number;
  /** Product of the spatial dimensions: the element count of one instance. */
  readonly spatialSize: number;
  /** N * C: how many instances are normalized independently. */
  readonly instanceCount: number;
  /** N * C * spatialSize. */
  readonly elementCount: number;
}

/** Geometry of a shape already checked by validateShape. */
export function tensorGeometry(shape: readonly number[], layout: Layout): TensorGeometry {
  const batch = shape[0];
  const channels = layout === 'nchw' ? shape[1] : shape[shape.length - 1];
  const spatial = layout === 'nchw' ? shape.slice(2) : shape.slice(1, -1);
  const spatialSize = spatial.reduce((a, b) => a * b, 1);
  return {
    layout,
    shape: shape.slice(),
    batch,
    channels,
    spatialSize,
    instanceCount: batch * channels,
    elementCount: batch * channels * spatialSize,
  };
}

/** A key naming the layout and shape, e.g. 'nchw:1x3x64x64'. */
export function geometryKey(g: TensorGeometry): string {
  return `${g.layout}:${g.shape.join('x')}`;
}
