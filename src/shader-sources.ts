import combineMoments from '../shaders/combine-moments.wgsl?raw';
import fusedPerThread from '../shaders/fused-per-thread.wgsl?raw';
import fusedPerWorkgroup from '../shaders/fused-per-workgroup.wgsl?raw';
import instanceParams from '../shaders/instance-params.wgsl?raw';
import moments from '../shaders/moments.wgsl?raw';
import normalize from '../shaders/normalize.wgsl?raw';
import partialMoments from '../shaders/partial-moments.wgsl?raw';
import workgroupMoments from '../shaders/workgroup-moments.wgsl?raw';
import type { KernelName } from './planner';

// WGSL has no #include: each kernel's module is the shared files it needs followed by its
// own file, concatenated in this order. Nothing else is added to the text.
const KERNEL_FILES: Record<KernelName, readonly string[]> = {
  'fused-per-thread': [instanceParams, moments, fusedPerThread],
  'fused-per-workgroup': [instanceParams, moments, workgroupMoments, fusedPerWorkgroup],
  'partial-moments': [instanceParams, moments, workgroupMoments, partialMoments],
  'combine-moments': [instanceParams, moments, combineMoments],
  normalize: [instanceParams, normalize],
};

export function kernelSource(kernel: KernelName): string {
  return KERNEL_FILES[kernel].join('\n');
}
