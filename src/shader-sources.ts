import combineMoments from '../shaders/combine-moments.wgsl?raw';
import fusedPerThread from '../shaders/fused-per-thread.wgsl?raw';
import fusedPerWorkgroup from '../shaders/fused-per-workgroup.wgsl?raw';
import instanceParams from '../shaders/instance-params.wgsl?raw';
import moments from '../shaders/moments.wgsl?raw';
import normalize from '../shaders/normalize.wgsl?raw';
import partialMoments from '../shaders/partial-moments.wgsl?raw';
import scalarElements from '../shaders/scalar-elements.wgsl?raw';
import vec4Elements from '../shaders/vec4-elements.wgsl?raw';
import workgroupMoments from '../shaders/workgroup-moments.wgsl?raw';
import type { KernelName, VectorWidth } from './planner';

// WGSL has no #include: each kernel's module is the shared files it needs, the Element file of
// its vector width (which declares input and output), and its own file, concatenated.
// Nothing else is added to the text; module-scope declarations may come in any order.
const KERNEL_FILES: Record<KernelName, readonly string[]> = {
  'fused-per-thread': [instanceParams, moments, fusedPerThread],
  'fused-per-workgroup': [instanceParams, moments, workgroupMoments, fusedPerWorkgroup],
  'partial-moments': [instanceParams, moments, workgroupMoments, partialMoments],
  'combine-moments': [instanceParams, moments, combineMoments],
  normalize: [instanceParams, moments, normalize],
};

const ELEMENT_FILES: Record<VectorWidth, string> = { 1: scalarElements, 4: vec4Elements };

export function kernelSource(kernel: KernelName, vectorWidth: VectorWidth): string {
  return [...KERNEL_FILES[kernel], ELEMENT_FILES[vectorWidth]].join('\n');
}
