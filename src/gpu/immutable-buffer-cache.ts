/**
 * GPU buffers written once, at creation, and never again, looked up by a key and checked
 * against the bytes they must hold. A queue write lands before any command buffer is
 * submitted, so a buffer rewritten per call would hand every encode() still waiting in an
 * app's encoder the last call's data; a new buffer per distinct content avoids that.
 * Beyond `capacity` entries the least recently used is destroyed, so that live buffers stay
 * bounded however many distinct calls an app makes: an encoder that records more than
 * `capacity` distinct calls before it is submitted fails WebGPU validation at submit. A buffer
 * whose key now needs other bytes (an affine array written since) stays alive as an entry of
 * its own, as calls recorded with it may await their submit, and ages out like the others.
 */
export class ImmutableBufferCache<Key> {
  private readonly entries = new Map<Key | symbol, { buffer: GPUBuffer; bytes: Uint8Array }>();

  constructor(
    private readonly device: GPUDevice,
    private readonly label: string,
    private readonly usage: GPUBufferUsageFlags,
    private readonly capacity = 256,
  ) {}

  /** The buffer for `key` holding `contents`: a new one if the cached one holds other bytes. */
  get(key: Key, contents: ArrayBufferView): GPUBuffer {
    const bytes = new Uint8Array(contents.buffer, contents.byteOffset, contents.byteLength);
    const entry = this.entries.get(key);
    if (entry && sameBytes(entry.bytes, bytes)) return this.touch(key, entry);
    return this.create(key, bytes);
  }

  /** The buffer for a key that determines its contents: `contents` is called only to create it. */
  getDetermined(key: Key, contents: () => ArrayBufferView): GPUBuffer {
    const entry = this.entries.get(key);
    if (entry) return this.touch(key, entry);
    const view = contents();
    return this.create(key, new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  }

  private touch(key: Key | symbol, entry: { buffer: GPUBuffer; bytes: Uint8Array }): GPUBuffer {
    this.entries.delete(key);
    this.entries.set(key, entry); // most recently used last
    return entry.buffer;
  }

  private create(key: Key, bytes: Uint8Array): GPUBuffer {
    const replaced = this.entries.get(key);
    if (replaced) {
      this.entries.delete(key);
      this.entries.set(Symbol('replaced'), replaced);
    }
    while (this.entries.size >= this.capacity) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [Key | symbol, { buffer: GPUBuffer }];
      this.entries.delete(oldestKey);
      oldest.buffer.destroy();
    }
    // Storage and uniform bindings want sizes in multiples of 4, at least 16 bytes.
    const size = Math.max(16, Math.ceil(bytes.byteLength / 4) * 4);
    const buffer = this.device.createBuffer({ label: this.label, size, usage: this.usage, mappedAtCreation: true });
    new Uint8Array(buffer.getMappedRange()).set(bytes);
    buffer.unmap();
    this.entries.set(key, { buffer, bytes: bytes.slice() });
    return buffer;
  }

  get size(): number {
    return this.entries.size;
  }

  destroy(): void {
    for (const { buffer } of this.entries.values()) buffer.destroy();
    this.entries.clear();
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
