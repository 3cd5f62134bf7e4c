import { type DataType, type InstanceNorm, InstanceNormError, type InstanceNormOptions } from '../index.js';
import type { Takeover } from './find-takeovers.js';

// One normalization the library runs in a spliced session: the checks of the tensors it is given
// at run time (their dims, never a buffer's size: ORT rounds its buffers up), its constant scale
// and bias on the GPU, and the recording of its call into the run's encoder.

/** A tensor on the GPU, as a step reads or writes it. */
export interface GpuTensor {
  readonly buffer: GPUBuffer;
  readonly dims: readonly number[];
  readonly dataType: DataType;
}

/** The bytes a tensor of `dims` holds, rounded up to 16 (as ORT rounds its own buffers, so that its vec4 reads stay inside). */
export function paddedBytes(dims: readonly number[], dataType: DataType): number {
  const count = dims.reduce((a, b) => a * b, 1);
  return Math.max(16, Math.ceil((count * (dataType === 'float16' ? 2 : 4)) / 16) * 16);
}

/** An error about a tensor a step was given at run time. */
function runError(takeover: Takeover, message: string): InstanceNormError {
  return new InstanceNormError(`${takeover.anchor}: ${message}`, { code: 'unsupported' });
}

/** The library's side of one takeover: its parameter buffers, its checks, its encode. */
export class LibraryStep {
  private affine?: { channels: number; scale?: GPUBuffer; bias?: GPUBuffer };
  /** The input dims of the last run, for the plan. */
  lastShape?: readonly number[];
  /** Whether the last run's residual broadcast, so that ORT ran the Add. */
  residualRanInOrt = false;

  constructor(
    readonly takeover: Takeover,
    private readonly device: GPUDevice,
  ) {}

  /** The storage type of the step for an input tensor of ORT type `type`; throws where the library has none. */
  dataTypeOf(type: string): DataType {
    const dataType = type === 'float32' ? 'float32' : type === 'float16' ? 'float16' : undefined;
    if (!dataType)
      throw runError(this.takeover, `its input '${this.takeover.input}' is ${type}: the library runs float32 and float16`);
    if (this.takeover.dataType && dataType !== this.takeover.dataType) {
      throw runError(
        this.takeover,
        `its input '${this.takeover.input}' is ${type}, where the model's constants are ${this.takeover.dataType}`,
      );
    }
    return dataType;
  }

  /** Checks an input's dims against what the library and the model's constants allow. */
  checkDims(dims: readonly number[]): void {
    const t = this.takeover;
    const rank = dims.length;
    if (rank < 3 || rank > 5) {
      throw runError(
        t,
        `its input '${t.input}' has dims [${dims.join(', ')}]: the library takes rank 3 to 5 (N, C and 1 to 3 spatial dimensions)`,
      );
    }
    if ((t.rank !== undefined && rank !== t.rank) || rank < t.minRank) {
      throw runError(
        t,
        `its input '${t.input}' has rank ${rank}, where its scale broadcasts per channel at rank ${t.rank ?? `≥ ${t.minRank}`}`,
      );
    }
    const channels = t.layout === 'nchw' ? dims[1] : dims[rank - 1];
    if (t.channels !== undefined && channels !== t.channels) {
      throw runError(t, `its input '${t.input}' has ${channels} channels, where its scale has ${t.channels} values`);
    }
    if (t.groups !== undefined && channels % t.groups !== 0) {
      throw runError(t, `${t.groups} groups do not divide the ${channels} channels of '${t.input}'`);
    }
  }

  /**
   * Records the step into `encoder`: `input` normalized into `output` (with the residual where
   * given; without it, `upToAdd` stops before the Add, for ORT to run the rest).
   */
  encode(
    norm: InstanceNorm,
    encoder: GPUCommandEncoder,
    input: GpuTensor,
    output: GPUBuffer,
    residual?: GpuTensor,
    upToAdd = false,
  ): void {
    const t = this.takeover;
    const channels = t.layout === 'nchw' ? input.dims[1] : input.dims[input.dims.length - 1];
    const affine = this.affineBuffers(channels);
    // Up to the Add: the activation only where it comes before the Add.
    const activation = upToAdd && t.residualPosition === 'before-activation' ? 'none' : t.activation;
    const options: InstanceNormOptions = {
      layout: t.layout,
      dataType: input.dataType,
      epsilon: t.epsilon,
      activation,
      ...(activation === 'leakyRelu' && t.activationAlpha !== undefined ? { activationAlpha: t.activationAlpha } : {}),
      ...(t.groups !== undefined ? { groups: t.groups } : {}),
      ...(affine.scale ? { scale: affine.scale } : {}),
      ...(affine.bias ? { bias: affine.bias } : {}),
      ...(residual && !upToAdd ? { residual: residual.buffer, residualPosition: t.residualPosition } : {}),
    };
    norm.encode(encoder, input.buffer, output, input.dims, options);
    this.lastShape = [...input.dims];
  }

  /** The scale and bias as GPU buffers of `channels` float32 values, made once (again only if C changes). */
  private affineBuffers(channels: number): { scale?: GPUBuffer; bias?: GPUBuffer } {
    if (this.affine?.channels === channels) return this.affine;
    this.destroy();
    const upload = (values: readonly number[] | undefined, what: string) => {
      if (!values) return undefined;
      const data = new Float32Array(channels).fill(values[0]);
      if (values.length > 1) data.set(values);
      const buffer = this.device.createBuffer({
        label: `InstanceNorm.onnxruntime.${what}`,
        size: Math.max(16, Math.ceil(data.byteLength / 16) * 16),
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
      });
      this.device.queue.writeBuffer(buffer, 0, data);
      return buffer;
    };
    this.affine = { channels, scale: upload(this.takeover.scale, 'scale'), bias: upload(this.takeover.bias, 'bias') };
    return this.affine;
  }

  /** Frees the parameter buffers. */
  destroy(): void {
    this.affine?.scale?.destroy();
    this.affine?.bias?.destroy();
    this.affine = undefined;
  }
}
