import type { RunningStatsUse } from '../core/checked-call.js';
import { argumentError, unsupportedError } from '../core/errors.js';
import { STRATEGIES, type Strategy } from '../core/options.js';
import type { TensorGeometry } from '../core/tensor-geometry.js';
import type { DeviceProfile } from './device-profile.js';

// Defined with the options that name them; kept here too for the planner's users.
export { type RunningStatsUse, STRATEGIES, type Strategy };

/** A compute kernel: the name of its file in shaders/. */
export type KernelName =
  | 'fused-per-thread'
  | 'fused-per-workgroup'
  | 'partial-moments'
  | 'partial-moments-rows'
  | 'combine-moments'
  | 'combine-moments-per-workgroup'
  | 'normalize'
  | 'normalize-rows'
  | 'combine-and-normalize'
  | 'export-stats'
  | 'load-running-stats'
  | 'update-running-stats'
  | 'combine-group-moments'
  | 'load-saved-stats'
  | 'backward-partials'
  | 'backward-combine'
  | 'backward-combine-per-workgroup'
  | 'backward-apply'
  | 'backward-affine'
  | 'backward-per-thread';

/**
 * How the kernels that merge across a workgroup (workgroup-moments.wgsl, workgroup-sums.wgsl) do
 * it: 'subgroups' by subgroupAdd within each subgroup and one barrier, where the device has the
 * 'subgroups' feature; 'workgroup-tree' by a tree in workgroup memory, log2(size) + 1 barriers.
 */
export type WorkgroupReduction = 'subgroups' | 'workgroup-tree';

/** One dispatch of a plan. */
export interface KernelDispatch {
  /** Which kernel runs. */
  readonly kernel: KernelName;
  /** Invocations per workgroup (the WORKGROUP_SIZE override). */
  readonly workgroupSize: number;
  /** Workgroup grid: x * y covers the work; y > 1 only beyond maxComputeWorkgroupsPerDimension. */
  readonly workgroups: readonly [number, number];
}

/**
 * How the kernels load the tensor (shaders/*-elements.wgsl), and so what one kernel instance is:
 * - 'scalar': one f32 of one (n, c) instance; nchw of any size (and nhwc GroupNorm whose groups
 *   cut across channel groups of four, on CPU adapters: each channel strided by C).
 * - 'vec4-position': four consecutive positions of one nchw instance; sizes a multiple of 4.
 * - 'vec4-pair-position': eight, as two vec4s per step; sizes a multiple of 8, on CPU adapters
 *   (fewer loop steps and merges; forward kernels only, as rgb-quad); 'half4-pair-position' the
 *   same for halves.
 * - 'vec4-channel': four adjacent channels of one nhwc position (a channel group is a kernel
 *   instance); C a multiple of 4.
 * - 'masked-channel': up to four adjacent nhwc channels by scalar loads; any other C.
 * - 'rgb-quad': nhwc with C = 3 and S a multiple of 4: four positions as the three vec4s they
 *   fill, 16-byte loads and stores (forward kernels only: the backward's take a position at a time).
 * - 'half-*': the same four for float16 storage (halves packed two per u32 word), computed in f32;
 *   'half4-*' load 8 bytes, 'half-scalar' and 'half-masked-channel' single halves, stored atomically
 *   since a word may hold values of two invocations.
 */
export type ElementKind =
  | 'scalar'
  | 'vec4-position'
  | 'vec4-pair-position'
  | 'vec4-channel'
  | 'masked-channel'
  | 'rgb-quad'
  | 'half-scalar'
  | 'half4-position'
  | 'half4-pair-position'
  | 'half4-channel'
  | 'half-masked-channel';

/**
 * Per element kind: tensor values per Element (the unit of element indices), tensor instances
 * per kernel instance, and spatial positions per step of a kernel over an instance (the unit of
 * spatialSize and chunkSize).
 */
export const ELEMENT_KINDS: Record<ElementKind, { readonly values: number; readonly lanes: number; readonly positions: number }> =
  {
    scalar: { values: 1, lanes: 1, positions: 1 },
    'vec4-position': { values: 4, lanes: 1, positions: 4 },
    'vec4-pair-position': { values: 4, lanes: 1, positions: 8 },
    'vec4-channel': { values: 4, lanes: 4, positions: 1 },
    'masked-channel': { values: 1, lanes: 4, positions: 1 },
    'rgb-quad': { values: 4, lanes: 4, positions: 4 },
    'half-scalar': { values: 1, lanes: 1, positions: 1 },
    'half4-position': { values: 4, lanes: 1, positions: 4 },
    'half4-pair-position': { values: 4, lanes: 1, positions: 8 },
    'half4-channel': { values: 4, lanes: 4, positions: 1 },
    'half-masked-channel': { values: 1, lanes: 4, positions: 1 },
  };

/** What a plan is for, beyond the tensor and the device (planInstanceNorm). */
export interface PlanOptions {
  /** > 1: GroupNorm, each group of that many nchw instances kept in one window. */
  readonly groupChannels?: number;
  /**
   * Keep the split plan's three passes where a GPU would fold the merge into the normalize
   * pass: the plans derived from it read or replace the statistics entries the merge writes.
   */
  readonly separateCombine?: boolean;
  /** For the backward's kernels, which take one position at a time: no 'rgb-quad' or pair kinds. */
  readonly backward?: boolean;
  /** One channel per kernel instance ('scalar' or 'half-scalar'), whatever the layout (planGroupNorm). */
  readonly perChannel?: boolean;
}

/**
 * A run of whole kernel instances bound as one window of input and output: the whole tensor
 * unless it exceeds maxStorageBufferBindingSize. Windows start on an instance (nchw) or an
 * image (nhwc).
 */
export interface PlanWindow {
  /** The window's first kernel instance: (n, c) in nchw, (n, channel group) in nhwc. */
  readonly firstInstance: number;
  /** Kernel instances in the window. */
  readonly instanceCount: number;
  /** Start of the binding in input and output, a multiple of minStorageBufferOffsetAlignment. */
  readonly byteOffset: number;
  /** Size of the binding: from byteOffset to the window's last element. */
  readonly byteLength: number;
  /** Elements from byteOffset to the window's first element. */
  readonly elementOffset: number;
  /** Carried out in order on this window, in one compute pass. */
  readonly dispatches: readonly KernelDispatch[];
}

/** Plain data: what the encoder dispatches and what scratch memory it needs. */
export interface GpuPlan {
  /** How the work is divided among invocations and workgroups. */
  readonly strategy: Strategy;
  /** How the kernels load the tensor, and so what one kernel instance is. */
  readonly elements: ElementKind;
  /** How kernels with a workgroup per instance or chunk merge what their invocations hold. */
  readonly reduction: WorkgroupReduction;
  /** Kernel instances per image: C, or the ceil(C / 4) channel groups of nhwc. */
  readonly instancesPerImage: number;
  /** GroupNorm's fused plans: the fused kernels' unit is a group of consecutive kernel instances (their GROUPED override). */
  readonly grouped: boolean;
  /** Carried out in order; one window unless the tensor exceeds one storage binding. */
  readonly windows: readonly PlanWindow[];
  /** Elements of one instance reduced by one workgroup of 'partial-moments' (split only, else the whole instance). */
  readonly chunkSize: number;
  /** Workgroups of 'partial-moments' per kernel instance: ceil(instance elements / chunkSize); 1 when fused. */
  readonly chunksPerInstance: number;
  /** Bytes of (count, meanOffset, variance) partials of the largest window: 16 per chunk, 0 when not split. */
  readonly partialsBytes: number;
  /** Bytes of per-instance statistics of the largest window: 16 per instance, 0 when fused or the merge is folded into normalize. */
  readonly statsBytes: number;
}

/** Per-adapter constants of the default plan. A CPU adapter wants few barriers and few dispatches. */
interface PlannerTuning {
  /** Largest instance normalized by one invocation... */
  readonly perThreadMaxSpatial: number;
  /** ...given at least this many instances (else too few invocations keep the device busy). */
  readonly perThreadMinInstances: number;
  /** Largest instance, in values (positions × channels of a group), normalized by one workgroup when there are too few instances to fill the device. */
  readonly perWorkgroupMaxValues: number;
  /** Instances enough to keep every core busy with one workgroup each. */
  readonly instancesToFillDevice: number;
  readonly reductionWorkgroupSize: number;
  readonly elementsPerReductionThread: number;
  /** Smallest workgroup of 'fused-per-workgroup': a small instance gets one of about one element per invocation, down to this. */
  readonly minPerWorkgroupSize: number;
  /** Chunks per instance from which the split plan merges them by a workgroup per instance, not one invocation. */
  readonly workgroupCombineMinChunks: number;
  /** Whether the plain split plan merges the chunks in each normalizing workgroup, saving a dispatch. */
  readonly combineInNormalize: boolean;
}

// Measured on an H100 through Dawn (BENCHMARKS.md, steps 12-13): one workgroup per instance wins up
// to 16384 values an instance even with 16-64 instances, splitting beyond; split chunks of 2048
// elements (8 an invocation) keep more workgroups in flight than 4096, once a workgroup per
// instance merges the chunks.
const GPU_TUNING: PlannerTuning = {
  perThreadMaxSpatial: 64,
  perThreadMinInstances: 0,
  perWorkgroupMaxValues: 16384,
  instancesToFillDevice: 256,
  reductionWorkgroupSize: 256,
  elementsPerReductionThread: 8,
  minPerWorkgroupSize: 32,
  workgroupCombineMinChunks: 16,
  combineInNormalize: true,
};

// Measured on SwiftShader (BENCHMARKS.md): a workgroup of one SIMD group (4 invocations) makes
// barriers nearly free there; one invocation per instance wins up to 4096 positions once two
// workgroups of them keep both cores busy; one workgroup per instance beats splitting once
// there are a few instances.
const CPU_ADAPTER_TUNING: PlannerTuning = {
  perThreadMaxSpatial: 4096,
  perThreadMinInstances: 128,
  perWorkgroupMaxValues: 16384,
  instancesToFillDevice: 4,
  reductionWorkgroupSize: 4,
  elementsPerReductionThread: 4096,
  minPerWorkgroupSize: 4,
  workgroupCombineMinChunks: Number.POSITIVE_INFINITY,
  combineInNormalize: false,
};

// Preferred workgroups of the kernels of one invocation per instance (or entry) and of normalize,
// each clamped to the device's limit (workgroupLimit): 128 invocations in compatibility mode.
const PER_THREAD_WORKGROUP_SIZE = 64;
const NORMALIZE_WORKGROUP_SIZE = 256;

/**
 * The largest workgroup this device runs, a power of two: the kernels are one-dimensional, so
 * both maxComputeInvocationsPerWorkgroup and maxComputeWorkgroupSizeX bound it (the profile's
 * maxInvocationsPerWorkgroup is the smaller of the two).
 */
export function workgroupLimit(profile: DeviceProfile): number {
  return largestPowerOfTwoAtMost(profile.maxInvocationsPerWorkgroup);
}

/** Workgroup of the kernels of one invocation per instance or statistics entry. */
function perThreadSize(profile: DeviceProfile): number {
  return Math.min(PER_THREAD_WORKGROUP_SIZE, workgroupLimit(profile));
}

/**
 * Chooses the strategy, windows and dispatch sizes for a tensor on a device. `strategy` forces
 * one (tests run every strategy over the same shapes; the choice never changes a result beyond
 * rounding). On a CPU adapter the split plan of nhwc channel groups reads by rows (byRows), and
 * replaces a workgroup per channel group by default from ROW_MIN_VALUES values.
 */
export function planInstanceNorm(
  geometry: TensorGeometry,
  profile: DeviceProfile,
  strategy?: Strategy,
  options: PlanOptions = {},
): GpuPlan {
  const rows = readsByRows(geometry, profile) && !options.backward && !options.perChannel;
  let plan = planByInstances(geometry, profile, strategy, options);
  // Instance norm by rows where the default would give a workgroup to each channel group, from
  // ROW_MIN_VALUES values and C = 32 (GroupNorm: planGroupNorm): one invocation per channel group (many small instances)
  // reads rows in order already, in one dispatch, and with 16 channels a workgroup a channel group
  // did as well (BENCHMARKS.md, step 35).
  const byDefault = geometry.elementCount >= ROW_MIN_VALUES && geometry.channels >= 32 && (options.groupChannels ?? 1) === 1;
  if (rows && !strategy && plan.strategy === 'fused-per-workgroup' && byDefault) {
    plan = planByInstances(geometry, profile, 'split', options);
  }
  return rows && plan.strategy === 'split' ? byRows(plan, geometry, profile) : plan;
}

/** planInstanceNorm with the passes of partial-moments.wgsl and normalize.wgsl: a chunk of one instance per workgroup. */
function planByInstances(
  geometry: TensorGeometry,
  profile: DeviceProfile,
  strategy: Strategy | undefined,
  { groupChannels = 1, separateCombine = false, backward = false, perChannel = false }: PlanOptions,
): GpuPlan {
  const tuning = profile.isCpuAdapter ? CPU_ADAPTER_TUNING : GPU_TUNING;
  const half = geometry.dataType === 'float16';
  const elements = perChannel
    ? half
      ? 'half-scalar'
      : 'scalar'
    : elementKind(geometry, { multiPositionSteps: !backward, cpuAdapter: profile.isCpuAdapter });
  const { lanes, positions } = ELEMENT_KINDS[elements];
  const instancesPerImage = Math.ceil(geometry.channels / lanes);
  // The fused kernels' unit: an instance, or a group of whole kernel instances (planGroupNorm).
  const groupInstances = Math.max(1, groupChannels / lanes);
  const units = (geometry.batch * instancesPerImage) / groupInstances;
  const chosen = strategy ?? defaultStrategy(geometry.spatialSize * groupInstances, lanes, units, tuning);
  if (!STRATEGIES.includes(chosen)) {
    throw argumentError(
      'strategy',
      `strategy must be one of ${STRATEGIES.map((s) => `'${s}'`).join(', ')}, got '${String(chosen)}'`,
    );
  }
  // Steps of a kernel over one instance (its positions, or groups of four of them).
  const instanceElements = geometry.spatialSize / positions;
  const largestReduction = Math.min(tuning.reductionWorkgroupSize, workgroupLimit(profile));
  // One workgroup per instance: about one element per invocation for a small instance (fewer
  // idle invocations and barriers); the full reduction workgroup otherwise.
  const reductionSize =
    chosen === 'fused-per-workgroup'
      ? Math.min(largestReduction, Math.max(tuning.minPerWorkgroupSize, largestPowerOfTwoAtMost(instanceElements)))
      : largestReduction;
  const chunkSize = chosen === 'split' ? reductionSize * tuning.elementsPerReductionThread : instanceElements;
  const chunksPerInstance = Math.ceil(instanceElements / chunkSize);
  // Many chunks: a workgroup per instance merges them, about one chunk per invocation.
  const combineSize =
    chunksPerInstance >= tuning.workgroupCombineMinChunks
      ? Math.min(largestReduction, Math.max(tuning.minPerWorkgroupSize, largestPowerOfTwoAtMost(chunksPerInstance)))
      : 0;
  const foldsCombine = chosen === 'split' && tuning.combineInNormalize && !separateCombine;
  const windows = bindingWindows(geometry, profile, instancesPerImage, groupChannels).map((w) => {
    // A fused dispatch covers units; the split plan's passes cover kernel instances.
    const count = chosen === 'split' ? w.instanceCount : w.instanceCount / groupInstances;
    const dispatches = windowDispatches(chosen, count, chunksPerInstance, reductionSize, combineSize, profile);
    if (!foldsCombine) return { ...w, dispatches };
    // The normalizing workgroups merge the partials themselves: no statistics entries.
    const [partials, , normalize] = dispatches;
    return { ...w, dispatches: [partials, { ...normalize, kernel: 'combine-and-normalize' as const }] };
  });
  const largest = Math.max(...windows.map((w) => w.instanceCount));
  return {
    strategy: chosen,
    elements,
    reduction: profile.hasSubgroups ? 'subgroups' : 'workgroup-tree',
    instancesPerImage,
    grouped: groupChannels > 1 && chosen !== 'split',
    windows,
    chunkSize,
    chunksPerInstance,
    partialsBytes: chosen === 'split' ? largest * lanes * chunksPerInstance * 16 : 0,
    statsBytes: chosen === 'split' && !foldsCombine ? largest * lanes * 16 : 0,
  };
}

/**
 * GroupNorm with groups of `groupChannels` > 1 channels. A group is `groupChannels` consecutive
 * nchw instances, or in nhwc (C and the group a multiple of 4) consecutive channel groups of
 * four: the fused plans take a group as their unit (a workgroup or an invocation per group, one
 * dispatch), chosen as for instance norm from the group's size and count. Otherwise, and where
 * a few large groups must spread over the device, the split plan: per-channel partial moments
 * merged per group by combine-group-moments (one invocation per statistics entry), which writes
 * each channel its group's statistics for the unchanged normalize pass. A forced fused
 * `strategy` takes the split plan where groups are not whole kernel instances.
 */
export function planGroupNorm(
  geometry: TensorGeometry,
  profile: DeviceProfile,
  groupChannels: number,
  strategy?: Strategy,
): GpuPlan {
  const { lanes } = ELEMENT_KINDS[elementKind(geometry, { cpuAdapter: profile.isCpuAdapter })];
  const wholeInstances = groupChannels % lanes === 0 && geometry.channels % lanes === 0;
  // nhwc groups across channel groups of four, on a CPU adapter that reads the tensor by rows: the
  // split plan (by rows), unless a fused one is forced. Groups of whole channel groups stay fused:
  // there a workgroup per group already runs as fast as nchw (BENCHMARKS.md, step 35).
  if (!wholeInstances && readsByRows(geometry, profile) && (strategy === undefined || strategy === 'split')) {
    return planGroupSplit(geometry, profile, groupChannels);
  }
  // nhwc groups across channel groups of four, on a CPU adapter: a channel per kernel instance,
  // each read with a stride of C (a GPU would read such strides uncoalesced: split there).
  if (wholeInstances || profile.isCpuAdapter) {
    const fused = planInstanceNorm(geometry, profile, strategy, { groupChannels, perChannel: !wholeInstances });
    if (fused.strategy !== 'split') return fused;
  }
  return planGroupSplit(geometry, profile, groupChannels);
}

/** GroupNorm's split plan (planGroupNorm), which stats() takes for its statistics entries. */
function planGroupSplit(geometry: TensorGeometry, profile: DeviceProfile, groupChannels: number): GpuPlan {
  const split = planInstanceNorm(geometry, profile, 'split', { groupChannels, separateCombine: true });
  const windows = split.windows.map((w) => {
    // One invocation per group: windows hold whole groups (nchw) or whole images (nhwc).
    const groups =
      geometry.layout === 'nhwc'
        ? (w.instanceCount / split.instancesPerImage) * (geometry.channels / groupChannels)
        : w.instanceCount / groupChannels;
    const grid = workgroupGrid(Math.ceil(groups / perThreadSize(profile)), profile.maxWorkgroupsPerDimension);
    const dispatches = w.dispatches.map(
      (d): KernelDispatch =>
        isCombine(d) ? { kernel: 'combine-group-moments', workgroupSize: perThreadSize(profile), workgroups: grid } : d,
    );
    return { ...w, dispatches };
  });
  return { ...split, windows };
}

/** Positions of one workgroup's chunk in the row passes. */
const ROW_CHUNK_POSITIONS = 1024;
/** Channel groups of one workgroup of the row passes: one SIMD group of a CPU adapter (its lanes, 64 bytes of a row). */
const ROW_WORKGROUP_SIZE = 4;
/** Values from which a CPU adapter takes the split plan by rows (byRows) for an nhwc tensor rather than a workgroup per channel group. */
const ROW_MIN_VALUES = 65536;

/**
 * Whether the split plan of an nhwc tensor reads by rows (byRows): on CPU adapters (measured there
 * faster where it replaces a channel group's walk down the image, BENCHMARKS.md step 35), where C
 * is a multiple of 4 (the row passes take whole channel groups of four) and at least 16 (below
 * that a workgroup's four invocations would not all have a channel group, where the other plans
 * read a few whole rows at once).
 */
export function readsByRows(geometry: TensorGeometry, profile: DeviceProfile): boolean {
  return profile.isCpuAdapter && geometry.layout === 'nhwc' && geometry.channels % 4 === 0 && geometry.channels >= 16;
}

/**
 * A split plan by rows (readsByRows): partial-moments-rows and normalize-rows in place of
 * partial-moments and normalize, over chunks of ROW_CHUNK_POSITIONS positions, a workgroup of
 * invocations on consecutive channel groups each (row-chunks.wgsl), so that each piece of memory
 * is read by one workgroup, in its order; the combine between them (combine-moments, or a
 * GroupNorm's combine-group-moments) and the plans built on it are unchanged.
 */
function byRows(split: GpuPlan, geometry: TensorGeometry, profile: DeviceProfile): GpuPlan {
  const chunkSize = Math.min(geometry.spatialSize, ROW_CHUNK_POSITIONS);
  const chunksPerInstance = Math.ceil(geometry.spatialSize / chunkSize);
  const slices = Math.ceil(split.instancesPerImage / ROW_WORKGROUP_SIZE);
  const windows = split.windows.map((w) => {
    const images = w.instanceCount / split.instancesPerImage;
    const workgroups = workgroupGrid(images * chunksPerInstance * slices, profile.maxWorkgroupsPerDimension);
    const dispatches = w.dispatches.map((d): KernelDispatch => {
      if (d.kernel === 'partial-moments')
        return { kernel: 'partial-moments-rows', workgroupSize: ROW_WORKGROUP_SIZE, workgroups };
      if (d.kernel === 'normalize') return { kernel: 'normalize-rows', workgroupSize: ROW_WORKGROUP_SIZE, workgroups };
      return d;
    });
    return { ...w, dispatches };
  });
  const { lanes } = ELEMENT_KINDS[split.elements];
  const largest = Math.max(...windows.map((w) => w.instanceCount));
  return { ...split, windows, chunkSize, chunksPerInstance, partialsBytes: largest * lanes * chunksPerInstance * 16 };
}

/**
 * The plan of stats(): the split plan's reductions (per group where `groupChannels` > 1), then
 * export-stats writes each instance's statistics as [N, C] arrays; nothing normalized.
 */
export function planInstanceStats(geometry: TensorGeometry, profile: DeviceProfile, groupChannels = 1): GpuPlan {
  const split =
    groupChannels > 1
      ? planGroupSplit(geometry, profile, groupChannels)
      : planInstanceNorm(geometry, profile, 'split', { separateCombine: true });
  const windows = split.windows.map((w) => {
    const reductions = w.dispatches.filter((d) => !isNormalize(d));
    const exportStats: KernelDispatch = {
      kernel: 'export-stats',
      workgroupSize: perThreadSize(profile),
      workgroups: workgroupGrid(Math.ceil(w.instanceCount / perThreadSize(profile)), profile.maxWorkgroupsPerDimension),
    };
    return { ...w, dispatches: [...reductions, exportStats] };
  });
  return { ...split, windows };
}

/**
 * How a call uses running statistics: `'update'` (training: normalize with the batch's
 * statistics and fold them into the running ones) or `'normalize-with'` (eval: normalize with
 * the running ones, no reduction).
 */

/**
 * The plan of a call with running statistics, from the split plan, whose statistics entries the
 * extra kernels read or write: 'update' adds update-running-stats (one invocation per channel)
 * after combine-moments; 'normalize-with' replaces the reductions with load-running-stats.
 */
export function planWithRunningStats(geometry: TensorGeometry, profile: DeviceProfile, use: RunningStatsUse): GpuPlan {
  const split = planInstanceNorm(geometry, profile, 'split', { separateCombine: true });
  const channelGrid = workgroupGrid(Math.ceil(geometry.channels / perThreadSize(profile)), profile.maxWorkgroupsPerDimension);
  const windows = split.windows.map((w) => {
    const dispatches = w.dispatches.flatMap((d): KernelDispatch[] => {
      if (use === 'update' && isCombine(d)) {
        return [d, { kernel: 'update-running-stats', workgroupSize: perThreadSize(profile), workgroups: channelGrid }];
      }
      if (use === 'normalize-with' && isCombine(d)) return [perInstanceDispatch('load-running-stats', w.instanceCount, profile)];
      if (use === 'normalize-with' && (d.kernel === 'partial-moments' || d.kernel === 'partial-moments-rows')) return [];
      return [d];
    });
    return { ...w, dispatches };
  });
  return { ...split, windows, partialsBytes: use === 'normalize-with' ? 0 : split.partialsBytes };
}

/** Where the backward takes each instance's statistics from. */
export type BackwardStatsSource = 'recompute' | 'saved' | 'running';

/**
 * The backward pass, from the split plan's chunks: the statistics (reduced again, loaded from
 * the forward's saved ones, or from the running ones in eval mode), then backward-partials
 * (sums of dy and dy · x̂ per chunk), backward-combine (their means per instance),
 * backward-apply (the input gradient) and backward-affine (scale and bias gradients, one
 * invocation per channel). Scratch: partials, statistics entries, then as many gradient entries.
 */
export function planBackward(
  geometry: TensorGeometry,
  profile: DeviceProfile,
  source: BackwardStatsSource,
  strategy?: Strategy,
): GpuPlan {
  // The backward's kernels take a chunk of one instance per workgroup: decided as for the forward's by instances.
  const forward = planByInstances(geometry, profile, strategy, {});
  if (forward.strategy === 'fused-per-thread') return planBackwardPerThread(geometry, profile, source);
  const split = planInstanceNorm(geometry, profile, 'split', { separateCombine: true, backward: true });
  const { lanes } = ELEMENT_KINDS[split.elements];
  const grid = (count: number) => workgroupGrid(Math.ceil(count / perThreadSize(profile)), profile.maxWorkgroupsPerDimension);
  const windows = split.windows.map((w) => {
    const [partials, combine, normalize] = w.dispatches;
    const statistics: KernelDispatch[] =
      source === 'recompute'
        ? [partials, combine]
        : [perInstanceDispatch(source === 'saved' ? 'load-saved-stats' : 'load-running-stats', w.instanceCount, profile)];
    const dispatches: KernelDispatch[] = [
      ...statistics,
      { ...partials, kernel: 'backward-partials' },
      // The chunk sums merged as the forward's split plan merges its moments.
      combine.kernel === 'combine-moments-per-workgroup'
        ? { ...combine, kernel: 'backward-combine-per-workgroup' }
        : { kernel: 'backward-combine', workgroupSize: perThreadSize(profile), workgroups: grid(w.instanceCount * lanes) },
      { ...normalize, kernel: 'backward-apply' },
      { kernel: 'backward-affine', workgroupSize: perThreadSize(profile), workgroups: grid(geometry.channels) },
    ];
    return { ...w, dispatches };
  });
  return { ...split, windows, statsBytes: 2 * split.statsBytes };
}

/**
 * The backward where the forward takes one invocation per instance: the same, with
 * backward-per-thread (statistics, sums, input gradient) in place of the chunked passes.
 */
function planBackwardPerThread(geometry: TensorGeometry, profile: DeviceProfile, source: BackwardStatsSource): GpuPlan {
  const perThread = planInstanceNorm(geometry, profile, 'fused-per-thread', { backward: true });
  const { lanes } = ELEMENT_KINDS[perThread.elements];
  const windows = perThread.windows.map((w) => {
    const [fused] = w.dispatches;
    const load: KernelDispatch[] =
      source === 'recompute' ? [] : [{ ...fused, kernel: source === 'saved' ? 'load-saved-stats' : 'load-running-stats' }];
    const affine: KernelDispatch = {
      kernel: 'backward-affine',
      workgroupSize: perThreadSize(profile),
      workgroups: workgroupGrid(Math.ceil(geometry.channels / perThreadSize(profile)), profile.maxWorkgroupsPerDimension),
    };
    return { ...w, dispatches: [...load, { ...fused, kernel: 'backward-per-thread' as const }, affine] };
  });
  const entriesBytes = Math.max(...windows.map((w) => w.instanceCount)) * lanes * 16;
  return { ...perThread, windows, partialsBytes: 0, statsBytes: 2 * entriesBytes };
}

/** The forward plan that also saves each instance's statistics (export-stats after combine-moments). */
export function planSavingStats(geometry: TensorGeometry, profile: DeviceProfile, running?: 'update'): GpuPlan {
  const base = running
    ? planWithRunningStats(geometry, profile, running)
    : planInstanceNorm(geometry, profile, 'split', { separateCombine: true });
  const windows = base.windows.map((w) => {
    const exportStats: KernelDispatch = {
      kernel: 'export-stats',
      workgroupSize: perThreadSize(profile),
      workgroups: workgroupGrid(Math.ceil(w.instanceCount / perThreadSize(profile)), profile.maxWorkgroupsPerDimension),
    };
    const normalizeAt = w.dispatches.findIndex(isNormalize);
    return { ...w, dispatches: [...w.dispatches.slice(0, normalizeAt), exportStats, ...w.dispatches.slice(normalizeAt)] };
  });
  return { ...base, windows };
}

/** `combineSize`: invocations of a workgroup per instance merging the chunks, 0 for one invocation per instance. */
function windowDispatches(
  strategy: Strategy,
  instanceCount: number,
  chunksPerInstance: number,
  reductionSize: number,
  combineSize: number,
  profile: DeviceProfile,
): KernelDispatch[] {
  const grid = (count: number) => workgroupGrid(count, profile.maxWorkgroupsPerDimension);
  switch (strategy) {
    case 'fused-per-thread':
      return [perInstanceDispatch('fused-per-thread', instanceCount, profile)];
    case 'fused-per-workgroup':
      return [{ kernel: 'fused-per-workgroup', workgroupSize: reductionSize, workgroups: grid(instanceCount) }];
    case 'split':
      return [
        { kernel: 'partial-moments', workgroupSize: reductionSize, workgroups: grid(instanceCount * chunksPerInstance) },
        combineSize > 0
          ? { kernel: 'combine-moments-per-workgroup', workgroupSize: combineSize, workgroups: grid(instanceCount) }
          : perInstanceDispatch('combine-moments', instanceCount, profile),
        {
          kernel: 'normalize',
          workgroupSize: Math.min(NORMALIZE_WORKGROUP_SIZE, workgroupLimit(profile)),
          workgroups: grid(instanceCount * chunksPerInstance),
        },
      ];
  }
}

/** A kernel of one invocation per instance (or per statistics entry). */
function perInstanceDispatch(kernel: KernelName, count: number, profile: DeviceProfile): KernelDispatch {
  return {
    kernel,
    workgroupSize: perThreadSize(profile),
    workgroups: workgroupGrid(Math.ceil(count / perThreadSize(profile)), profile.maxWorkgroupsPerDimension),
  };
}

/** The split plan's pass that writes the output from the statistics entries. */
function isNormalize(d: KernelDispatch): boolean {
  return d.kernel === 'normalize' || d.kernel === 'normalize-rows';
}

/** The split plan's pass that merges the chunks' moments into each instance's statistics. */
function isCombine(d: KernelDispatch): boolean {
  return d.kernel === 'combine-moments' || d.kernel === 'combine-moments-per-workgroup';
}

/**
 * Splits the tensor into runs of whole instances (nchw) or whole images (nhwc, where the
 * instances of an image interleave) that each fit one storage binding, with the binding's
 * start rounded down to the device's offset alignment. Counts kernel instances, of which an
 * image holds `instancesPerImage`.
 */
export function bindingWindows(
  g: TensorGeometry,
  profile: DeviceProfile,
  instancesPerImage: number,
  groupChannels = 1,
): Omit<PlanWindow, 'dispatches'>[] {
  const limit = profile.maxStorageBufferBindingSize;
  const align = profile.minStorageBufferOffsetAlignment;
  const bytes = g.elementCount * g.valueBytes;
  // Storage bindings are a whole number of 4-byte words: halves round up to the next word.
  const wordBytes = (n: number) => Math.ceil(n / 4) * 4;
  if (wordBytes(bytes) <= limit) {
    const instanceCount = g.batch * instancesPerImage;
    return [{ firstInstance: 0, instanceCount, byteOffset: 0, byteLength: wordBytes(bytes), elementOffset: 0 }];
  }
  // A window holds whole nchw instances (whole groups of them for GroupNorm) or whole nhwc images.
  const unitInstances = g.layout === 'nchw' ? groupChannels : instancesPerImage;
  const unitBytes = (g.layout === 'nchw' ? groupChannels : g.channels) * g.spatialSize * g.valueBytes;
  // A window may start up to align - 4 bytes past its aligned binding offset (align - 2 for
  // halves, which may also end 2 bytes short of a word).
  const overhead = g.valueBytes === 4 ? align - 4 : align;
  const unitsPerWindow = Math.floor((limit - overhead) / unitBytes);
  if (unitsPerWindow < 1) {
    const unit =
      g.layout === 'nhwc'
        ? `one image (the ${g.channels} interleaved instances of nhwc)`
        : groupChannels > 1
          ? `one group of ${groupChannels} channels`
          : 'one instance';
    throw unsupportedError(
      `shape [${g.shape.join(', ')}] needs ${bytes} bytes and ${unit} alone needs ${unitBytes} bytes, ` +
        `more than this device's maxStorageBufferBindingSize of ${limit}`,
    );
  }
  const units = g.layout === 'nchw' ? g.instanceCount / groupChannels : g.batch;
  const windows: Omit<PlanWindow, 'dispatches'>[] = [];
  for (let firstUnit = 0; firstUnit < units; firstUnit += unitsPerWindow) {
    const count = Math.min(unitsPerWindow, units - firstUnit);
    const startByte = firstUnit * unitBytes;
    const byteOffset = startByte - (startByte % align);
    const elementOffset = (startByte - byteOffset) / g.valueBytes;
    windows.push({
      firstInstance: firstUnit * unitInstances,
      instanceCount: count * unitInstances,
      byteOffset,
      byteLength: wordBytes(startByte - byteOffset + count * unitBytes),
      elementOffset,
    });
  }
  return windows;
}

/**
 * Channel groups for nhwc, so that neighbouring invocations read neighbouring channels; vec4 where
 * aligned. `multiPositionSteps`: kernels that may take several positions a step (the forward's, not
 * the backward's), for 'rgb-quad' and, on a CPU adapter, 'vec4-pair-position'.
 */
export function elementKind(
  g: TensorGeometry,
  { multiPositionSteps = true, cpuAdapter = false }: { multiPositionSteps?: boolean; cpuAdapter?: boolean } = {},
): ElementKind {
  const half = g.dataType === 'float16';
  if (g.layout === 'nhwc') {
    if (g.channels % 4 === 0) return half ? 'half4-channel' : 'vec4-channel';
    // An RGB image whose images start on 16 bytes (S a multiple of 4): three vec4s per four positions.
    if (multiPositionSteps && !half && g.channels === 3 && g.spatialSize % 4 === 0) return 'rgb-quad';
    return half ? 'half-masked-channel' : 'masked-channel';
  }
  if (multiPositionSteps && cpuAdapter && g.spatialSize % 8 === 0) return half ? 'half4-pair-position' : 'vec4-pair-position';
  if (g.spatialSize % 4 === 0) return half ? 'half4-position' : 'vec4-position';
  return half ? 'half-scalar' : 'scalar';
}

/** The strategy for kernel instances of `spatialSize` positions, `instances` of them. */
function defaultStrategy(spatialSize: number, lanes: number, instances: number, tuning: PlannerTuning): Strategy {
  if (spatialSize <= tuning.perThreadMaxSpatial && instances >= tuning.perThreadMinInstances) return 'fused-per-thread';
  if (spatialSize * lanes <= tuning.perWorkgroupMaxValues || instances >= tuning.instancesToFillDevice) {
    return 'fused-per-workgroup';
  }
  return 'split';
}

/** A 1-D grid where it fits in one dimension, else 2-D; the kernels skip the excess workgroups. */
export function workgroupGrid(count: number, maxPerDimension: number): [number, number] {
  if (count <= maxPerDimension) return [count, 1];
  const rows = Math.ceil(count / maxPerDimension);
  if (rows > maxPerDimension) {
    throw unsupportedError(
      `the tensor needs ${count} workgroups, more than maxComputeWorkgroupsPerDimension² = ${maxPerDimension ** 2}`,
    );
  }
  return [maxPerDimension, rows];
}

function largestPowerOfTwoAtMost(n: number): number {
  return 2 ** Math.floor(Math.log2(n));
}
