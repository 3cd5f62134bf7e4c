import type { DataType, Layout } from './options.js';

/** The sizes of a tensor that a normalization needs, derived once from its shape and layout. */
export interface TensorGeometry {
  readonly layout: Layout;
  /** How values are stored: float32, or float16 (IEEE halves). */
  readonly dataType: DataType;
  /** Bytes of one stored value: 4 or 2. */
  readonly valueBytes: number;
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
export function tensorGeometry(shape: readonly number[], layout: Layout, dataType: DataType = 'float32'): TensorGeometry {
  const batch = shape[0];
  const channels = layout === 'nchw' ? shape[1] : shape[shape.length - 1];
  const spatial = layout === 'nchw' ? shape.slice(2) : shape.slice(1, -1);
  const spatialSize = spatial.reduce((a, b) => a * b, 1);
  return {
    layout,
    dataType,
    valueBytes: dataType === 'float16' ? 2 : 4,
    shape: shape.slice(),
    batch,
    channels,
    spatialSize,
    instanceCount: batch * channels,
    elementCount: batch * channels * spatialSize,
  };
}

/** Bytes a buffer of the tensor needs: its values, rounded up to whole 4-byte words. */
export function tensorBytes(g: TensorGeometry): number {
  return Math.ceil((g.elementCount * g.valueBytes) / 4) * 4;
}

/** The array type that holds the tensor on the CPU: Float32Array, or Uint16Array of half bits. */
export function arrayTypeName(g: TensorGeometry): string {
  return g.dataType === 'float16' ? 'Uint16Array' : 'Float32Array';
}

/** A key naming the layout, shape and data type, e.g. 'nchw:1x3x64x64' ('nchw:1x3x64x64:f16' for halves). */
export function geometryKey(g: TensorGeometry): string {
  return `${g.layout}:${g.shape.join('x')}${g.dataType === 'float16' ? ':f16' : ''}`;
}
