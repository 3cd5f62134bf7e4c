import fourPositionElements from '../../shaders/elements/four-position-elements.wgsl?raw';
import halfElements from '../../shaders/elements/half-elements.wgsl?raw';
import halfMaskedChannelElements from '../../shaders/elements/half-masked-channel-elements.wgsl?raw';
import halfPacking from '../../shaders/elements/half-packing.wgsl?raw';
import halfScalarElements from '../../shaders/elements/half-scalar-elements.wgsl?raw';
import half4Elements from '../../shaders/elements/half4-elements.wgsl?raw';
import laneValues from '../../shaders/elements/lane-values.wgsl?raw';
import maskedChannelElements from '../../shaders/elements/masked-channel-elements.wgsl?raw';
import normalizeElement from '../../shaders/elements/normalize-element.wgsl?raw';
import rgbQuadElements from '../../shaders/elements/rgb-quad-elements.wgsl?raw';
import rgbQuadNormalize from '../../shaders/elements/rgb-quad-normalize.wgsl?raw';
import scalarElements from '../../shaders/elements/scalar-elements.wgsl?raw';
import scalarValues from '../../shaders/elements/scalar-values.wgsl?raw';
import valueElements from '../../shaders/elements/value-elements.wgsl?raw';
import vec4Elements from '../../shaders/elements/vec4-elements.wgsl?raw';
import vec4PairElements from '../../shaders/elements/vec4-pair-elements.wgsl?raw';
import vec4PairNormalize from '../../shaders/elements/vec4-pair-normalize.wgsl?raw';
import backwardAffine from '../../shaders/kernels/backward-affine.wgsl?raw';
import backwardApply from '../../shaders/kernels/backward-apply.wgsl?raw';
import backwardCombine from '../../shaders/kernels/backward-combine.wgsl?raw';
import backwardCombinePerWorkgroup from '../../shaders/kernels/backward-combine-per-workgroup.wgsl?raw';
import backwardPartials from '../../shaders/kernels/backward-partials.wgsl?raw';
import backwardPerThread from '../../shaders/kernels/backward-per-thread.wgsl?raw';
import combineAndNormalize from '../../shaders/kernels/combine-and-normalize.wgsl?raw';
import combineGroupMoments from '../../shaders/kernels/combine-group-moments.wgsl?raw';
import combineMoments from '../../shaders/kernels/combine-moments.wgsl?raw';
import combineMomentsPerWorkgroup from '../../shaders/kernels/combine-moments-per-workgroup.wgsl?raw';
import exportStats from '../../shaders/kernels/export-stats.wgsl?raw';
import fusedPerThread from '../../shaders/kernels/fused-per-thread.wgsl?raw';
import fusedPerWorkgroup from '../../shaders/kernels/fused-per-workgroup.wgsl?raw';
import loadRunningStats from '../../shaders/kernels/load-running-stats.wgsl?raw';
import loadSavedStats from '../../shaders/kernels/load-saved-stats.wgsl?raw';
import normalize from '../../shaders/kernels/normalize.wgsl?raw';
import normalizeRows from '../../shaders/kernels/normalize-rows.wgsl?raw';
import partialMoments from '../../shaders/kernels/partial-moments.wgsl?raw';
import partialMomentsRows from '../../shaders/kernels/partial-moments-rows.wgsl?raw';
import updateRunningStats from '../../shaders/kernels/update-running-stats.wgsl?raw';
import backwardSums from '../../shaders/math/backward-sums.wgsl?raw';
import epilogue from '../../shaders/math/epilogue.wgsl?raw';
import instanceParams from '../../shaders/math/instance-params.wgsl?raw';
import moments from '../../shaders/math/moments.wgsl?raw';
import normalizeRange from '../../shaders/math/normalize-range.wgsl?raw';
import rowChunks from '../../shaders/math/row-chunks.wgsl?raw';
import rowMoments from '../../shaders/math/row-moments.wgsl?raw';
import subgroupMoments from '../../shaders/reductions/subgroup-moments.wgsl?raw';
import subgroupSums from '../../shaders/reductions/subgroup-sums.wgsl?raw';
import workgroupMoments from '../../shaders/reductions/workgroup-moments.wgsl?raw';
import workgroupSums from '../../shaders/reductions/workgroup-sums.wgsl?raw';
import type { ElementKind, KernelName, WorkgroupReduction } from './planner.js';

// WGSL has no #include: each kernel's module is the files below concatenated, the shared
// ones, the values and elements files of its element kind (which declare Value, Element,
// input and output), then its own; module-scope declarations may come in any order. Nothing
// else is added to the text but `enable subgroups;` ahead of a subgroup variant.
const KERNEL_FILES: Record<KernelName, readonly string[]> = {
  'fused-per-thread': [normalizeRange, epilogue, fusedPerThread],
  'fused-per-workgroup': [normalizeRange, epilogue, workgroupMoments, fusedPerWorkgroup],
  'partial-moments': [workgroupMoments, partialMoments],
  'partial-moments-rows': [rowChunks, rowMoments, partialMomentsRows],
  'combine-moments': [combineMoments],
  'combine-moments-per-workgroup': [workgroupMoments, combineMomentsPerWorkgroup],
  'combine-group-moments': [combineGroupMoments],
  'load-saved-stats': [loadSavedStats],
  'backward-partials': [backwardSums, workgroupSums, backwardPartials],
  'backward-combine': [backwardSums, backwardCombine],
  'backward-combine-per-workgroup': [backwardSums, workgroupSums, backwardCombinePerWorkgroup],
  'backward-apply': [backwardSums, backwardApply],
  'backward-affine': [backwardSums, backwardAffine],
  'backward-per-thread': [backwardSums, backwardPerThread],
  normalize: [normalizeRange, epilogue, normalize],
  'normalize-rows': [normalizeRange, epilogue, rowChunks, normalizeRows],
  'combine-and-normalize': [normalizeRange, epilogue, workgroupMoments, combineAndNormalize],
  'export-stats': [exportStats],
  'load-running-stats': [loadRunningStats],
  'update-running-stats': [updateRunningStats],
};

/** Whether a kernel writes the output, and so has the epilogue's ACTIVATION and RESIDUAL overrides. */
export function writesOutput(kernel: KernelName): boolean {
  return KERNEL_FILES[kernel].includes(epilogue);
}

// Per element kind: how many instances one invocation follows (values file), the arithmetic of
// one Element, and its storage (f32, or halves packed in u32 words).
const ELEMENT_FILES: Record<ElementKind, readonly string[]> = {
  scalar: [scalarValues, valueElements, scalarElements],
  'vec4-position': [scalarValues, fourPositionElements, vec4Elements],
  'vec4-pair-position': [scalarValues, vec4PairElements, vec4Elements],
  'vec4-channel': [laneValues, valueElements, vec4Elements],
  'masked-channel': [laneValues, valueElements, maskedChannelElements],
  'rgb-quad': [laneValues, rgbQuadElements, vec4Elements],
  'half-scalar': [scalarValues, valueElements, halfPacking, halfElements, halfScalarElements],
  'half4-position': [scalarValues, fourPositionElements, halfPacking, half4Elements],
  'half4-pair-position': [scalarValues, vec4PairElements, halfPacking, half4Elements],
  'half4-channel': [laneValues, valueElements, halfPacking, half4Elements],
  'half-masked-channel': [laneValues, valueElements, halfPacking, halfElements, halfMaskedChannelElements],
};

// The kernels that normalize (those with normalize-range.wgsl) also take their element kind's
// normalize step: one Element at a time, a vec4 pair's two, or an rgb-quad's three vec4s.
function normalizeStep(elements: ElementKind): string {
  if (elements === 'rgb-quad') return rgbQuadNormalize;
  return elements === 'vec4-pair-position' || elements === 'half4-pair-position' ? vec4PairNormalize : normalizeElement;
}

/** Whether a kernel merges across its workgroup, and so has a 'subgroups' variant. */
export function reducesAcrossWorkgroup(kernel: KernelName): boolean {
  const files = KERNEL_FILES[kernel];
  return files.includes(workgroupMoments) || files.includes(workgroupSums);
}

// The subgroup variant of each workgroup-wide merge: the same function, by subgroup operations.
const SUBGROUP_FILES = new Map([
  [workgroupMoments, subgroupMoments],
  [workgroupSums, subgroupSums],
]);

export function kernelSource(kernel: KernelName, elements: ElementKind, reduction: WorkgroupReduction): string {
  const subgroups = reduction === 'subgroups' && reducesAcrossWorkgroup(kernel);
  const files = subgroups ? KERNEL_FILES[kernel].map((file) => SUBGROUP_FILES.get(file) ?? file) : KERNEL_FILES[kernel];
  const step = files.includes(normalizeRange) ? [normalizeStep(elements)] : [];
  // The one text added: a directive, which WGSL wants before every declaration.
  const directives = subgroups ? ['enable subgroups;'] : [];
  return [...directives, instanceParams, moments, ...ELEMENT_FILES[elements], ...step, ...files].join('\n');
}
