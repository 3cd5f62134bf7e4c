/**
 * The optional features of this browser's WebGPU adapter, read when a test file is collected, so
 * that a test of an optional feature can be skipped by name where the device lacks it (the
 * library asks for each of them where the adapter has it: src/gpu/device-request.ts).
 */
export async function adapterFeatures(): Promise<ReadonlySet<string>> {
  const adapter = await globalThis.navigator?.gpu?.requestAdapter().catch(() => null);
  return new Set(adapter ? [...adapter.features] : []);
}

/** A test name with the reason it is skipped where `missing`: read in the output as a sentence. */
export function unlessMissing(name: string, feature: string, missing: boolean): string {
  return missing ? `${name} (skipped: this device lacks the '${feature}' feature)` : name;
}
