/**
 * The scratch memory of one InstanceNorm on one device: partial moments and per-instance
 * statistics of the split plan (one buffer, statistics after the partials), reused across calls and grown when a larger tensor needs
 * more; the style statistics of adain() (exported by one pass, read by the next of the same
 * call); placeholders bound where a call has no scale, bias or residual, or writes no output.
 * A call writes its scratch before it reads it, within its own compute pass, so calls
 * encoded one after another may share it.
 */
export class ScratchBuffers {
  readonly placeholder: GPUBuffer;
  // Bound as the writable output, instanceStats or channelValues: buffers of their own, as one buffer may not be
  // both read-only and writable in a dispatch.
  readonly outputPlaceholder: GPUBuffer;
  readonly statsArraysPlaceholder: GPUBuffer;
  readonly channelValuesPlaceholder: GPUBuffer;
  private moments: GPUBuffer;
  private styleStats: GPUBuffer;
  // Outgrown buffers, kept until destroy(): an encoder not yet submitted may still use them.
  // Sizes double, so there are few.
  private readonly outgrown: GPUBuffer[] = [];

  constructor(private readonly device: GPUDevice) {
    this.placeholder = this.create('InstanceNorm.placeholder', 16);
    this.outputPlaceholder = this.create('InstanceNorm.outputPlaceholder', 16);
    this.statsArraysPlaceholder = this.create('InstanceNorm.statsArraysPlaceholder', 16);
    this.channelValuesPlaceholder = this.create('InstanceNorm.channelValuesPlaceholder', 16);
    this.styleStats = this.create('InstanceNorm.styleStats', 16);
    this.moments = this.create('InstanceNorm.moments', 16);
  }

  /** The moments scratch (partials, then statistics entries), at least `bytes` long. */
  momentsBuffer(bytes: number): GPUBuffer {
    if (this.moments.size < bytes) {
      this.outgrown.push(this.moments);
      this.moments = this.create('InstanceNorm.moments', grownSize(bytes));
    }
    return this.moments;
  }

  /** The exported style statistics of adain(), at least `bytes` long. */
  styleStatsBuffer(bytes: number): GPUBuffer {
    if (this.styleStats.size < bytes) {
      this.outgrown.push(this.styleStats);
      this.styleStats = this.create('InstanceNorm.styleStats', grownSize(bytes));
    }
    return this.styleStats;
  }

  destroy(): void {
    this.placeholder.destroy();
    this.outputPlaceholder.destroy();
    this.statsArraysPlaceholder.destroy();
    this.channelValuesPlaceholder.destroy();
    this.styleStats.destroy();
    this.moments.destroy();
    for (const buffer of this.outgrown) buffer.destroy();
    this.outgrown.length = 0;
  }

  private create(label: string, size: number): GPUBuffer {
    return this.device.createBuffer({ label, size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  }
}

// Round up to a power of two, so a sequence of growing tensors reallocates only a few times.
function grownSize(bytes: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(16, bytes)));
}
