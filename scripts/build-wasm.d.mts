export function assembleCpuKernels(): Promise<Uint8Array>;
export function cpuKernelsModuleText(bytes: Uint8Array): string;
