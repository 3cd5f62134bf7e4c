/**
 * Bind groups of one GpuBackend, looked up by the identity of the buffers and ranges they bind,
 * so that repeated calls on the same buffers create none. A key names buffers by an id given
 * at first sight, so a destroyed buffer's entry is never hit again (a new buffer gets a new
 * id) and ages out; at most `capacity` entries are kept, least recently used dropped.
 */
export class BindGroupCache {
  private readonly groups = new Map<string, GPUBindGroup>();
  private readonly bufferIds = new WeakMap<GPUBuffer, number>();
  private nextId = 1;

  constructor(private readonly capacity = 256) {}

  /** The cached bind group for these bindings, or the one `create` makes. */
  get(bindings: readonly GPUBufferBinding[], create: () => GPUBindGroup): GPUBindGroup {
    const key = bindings.map((b) => `${this.idOf(b.buffer)}:${b.offset ?? 0}:${b.size ?? ''}`).join(',');
    let group = this.groups.get(key);
    if (group) {
      this.groups.delete(key);
    } else {
      group = create();
      if (this.groups.size >= this.capacity) this.groups.delete(this.groups.keys().next().value as string);
    }
    this.groups.set(key, group); // most recently used last
    return group;
  }

  private idOf(buffer: GPUBuffer): number {
    let id = this.bufferIds.get(buffer);
    if (id === undefined) {
      id = this.nextId++;
      this.bufferIds.set(buffer, id);
    }
    return id;
  }
}
