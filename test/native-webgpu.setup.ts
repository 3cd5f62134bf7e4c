// The GPU suite on a native WebGPU in Node (vitest.native.config.ts): navigator.gpu from Dawn,
// and the one other browser API the suite uses, localStorage (tune() persists its winners there).
import { installNativeWebGpu } from '../scripts/native-webgpu.mjs';

await installNativeWebGpu();

class MemoryStorage {
  private readonly items = new Map<string, string>();
  get length() {
    return this.items.size;
  }
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    this.items.set(key, String(value));
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
  clear() {
    this.items.clear();
  }
  key(index: number) {
    return [...this.items.keys()][index] ?? null;
  }
}
Object.defineProperty(globalThis, 'localStorage', { value: new MemoryStorage(), configurable: true });
