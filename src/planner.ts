import type { DeviceProfile } from './device-profile';
import { InstanceNormError } from './errors';
import type { TensorGeometry } from './tensor-geometry';

/**
 * How a normalization is carried out on the GPU:
 * - 'fused-per-thread': one dispatch, one invocation per instance, no barrier. Small instances.
 * - 'fused-per-workgroup': one dispatch, one workgroup per instance. Medium instances.
 * - 'split': partial moments over chunks, a combine, then an elementwise normalize: three
 *   dispatches, so that a few large instances spread over the whole device.
 */
export type Strategy = 'fused-per-thread' | 'fused-per-workgroup' | 'split';

export const STRATEGIES: readonly Strategy[] = ['fused-per-thread', 'fused-per-workgroup', 'split'];

/** A compute kernel: the name of its file in shaders/. */
export type KernelName = 'fused-per-thread' | 'fused-per-workgroup' | 'partial-moments' | 'combine-moments' | 'normalize';

export interface KernelDispatch {
  readonly kernel: KernelName;
  readonly workgroupSize: number;
  /** Workgroup grid: x * y covers the work; y > 1 only beyond maxComputeWorkgroupsPerDimension. */
  readonly workgroups: readonly [number, number];
}

/** Plain data: what the encoder dispatches and what scratch memory it needs. */
export interface InstanceNormPlan {
  readonly strategy: Strategy;
  readonly dispatches: readonly KernelDispatch[];
  /** Elements of one instance reduced by one workgroup of 'partial-moments' (split only, else spatialSize). */
  readonly chunkSize: number;
  readonly chunksPerInstance: number;
  /** Bytes of (count, meanOffset, m2) partials: 16 per chunk, 0 when not split. */
  readonly partialsBytes: number;
  /** Bytes of per-instance statistics: 16 per instance, 0 when fused. */
  readonly statsBytes: number;
}

/** Per-adapter constants of the default plan. A CPU adapter wants few barriers and few dispatches. */
interface PlannerTuning {
  /** Largest instance normalized by one invocation. */
  readonly perThreadMaxSpatial: number;
  /** Largest instance normalized by one workgroup when there are too few instances to fill the device. */
  readonly perWorkgroupMaxSpatial: number;
  /** Instances enough to keep every core busy with one workgroup each. */
  readonly instancesToFillDevice: number;
  readonly reductionWorkgroupSize: number;
  readonly elementsPerReductionThread: number;
}

const GPU_TUNING: PlannerTuning = {
  perThreadMaxSpatial: 64,
  perWorkgroupMaxSpatial: 16384,
  instancesToFillDevice: 256,
  reductionWorkgroupSize: 256,
  elementsPerReductionThread: 16,
};

const CPU_ADAPTER_TUNING: PlannerTuning = {
  perThreadMaxSpatial: 1024,
  perWorkgroupMaxSpatial: 65536,
  instancesToFillDevice: 16,
  reductionWorkgroupSize: 64,
  elementsPerReductionThread: 256,
};

const PER_THREAD_WORKGROUP_SIZE = 64;
const NORMALIZE_WORKGROUP_SIZE = 256;

/**
 * Chooses the strategy and dispatch sizes for a tensor on a device. `strategy` forces one
 * (tests run every strategy over the same shapes; the choice never changes a result beyond rounding).
 */
export function planInstanceNorm(geometry: TensorGeometry, profile: DeviceProfile, strategy?: Strategy): InstanceNormPlan {
  const tuning = profile.isCpuAdapter ? CPU_ADAPTER_TUNING : GPU_TUNING;
  const reductionSize = Math.min(tuning.reductionWorkgroupSize, largestPowerOfTwoAtMost(profile.maxInvocationsPerWorkgroup));
  const chosen = strategy ?? defaultStrategy(geometry, tuning);
  const grid = (count: number) => workgroupGrid(count, profile.maxWorkgroupsPerDimension);
  const { instanceCount, spatialSize, elementCount } = geometry;

  switch (chosen) {
    case 'fused-per-thread':
      return fusedPlan(chosen, geometry, {
        kernel: 'fused-per-thread',
        workgroupSize: PER_THREAD_WORKGROUP_SIZE,
        workgroups: grid(Math.ceil(instanceCount / PER_THREAD_WORKGROUP_SIZE)),
      });
    case 'fused-per-workgroup':
      return fusedPlan(chosen, geometry, {
        kernel: 'fused-per-workgroup',
        workgroupSize: reductionSize,
        workgroups: grid(instanceCount),
      });
    case 'split': {
      const chunkSize = reductionSize * tuning.elementsPerReductionThread;
      const chunksPerInstance = Math.ceil(spatialSize / chunkSize);
      return {
        strategy: 'split',
        dispatches: [
          { kernel: 'partial-moments', workgroupSize: reductionSize, workgroups: grid(instanceCount * chunksPerInstance) },
          {
            kernel: 'combine-moments',
            workgroupSize: PER_THREAD_WORKGROUP_SIZE,
            workgroups: grid(Math.ceil(instanceCount / PER_THREAD_WORKGROUP_SIZE)),
          },
          {
            kernel: 'normalize',
            workgroupSize: NORMALIZE_WORKGROUP_SIZE,
            workgroups: grid(Math.ceil(elementCount / NORMALIZE_WORKGROUP_SIZE)),
          },
        ],
        chunkSize,
        chunksPerInstance,
        partialsBytes: instanceCount * chunksPerInstance * 16,
        statsBytes: instanceCount * 16,
      };
    }
    default:
      throw new InstanceNormError(`strategy must be one of 'fused-per-thread', 'fused-per-workgroup', 'split', got '${String(chosen)}'`);
  }
}

function defaultStrategy(g: TensorGeometry, tuning: PlannerTuning): Strategy {
  if (g.spatialSize <= tuning.perThreadMaxSpatial) return 'fused-per-thread';
  if (g.spatialSize <= tuning.perWorkgroupMaxSpatial || g.instanceCount >= tuning.instancesToFillDevice) {
    return 'fused-per-workgroup';
  }
  return 'split';
}

function fusedPlan(strategy: Strategy, g: TensorGeometry, dispatch: KernelDispatch): InstanceNormPlan {
  return {
    strategy,
    dispatches: [dispatch],
    chunkSize: g.spatialSize,
    chunksPerInstance: 1,
    partialsBytes: 0,
    statsBytes: 0,
  };
}

/** A 1-D grid where it fits in one dimension, else 2-D; the kernels skip the excess workgroups. */
export function workgroupGrid(count: number, maxPerDimension: number): [number, number] {
  if (count <= maxPerDimension) return [count, 1];
  const rows = Math.ceil(count / maxPerDimension);
  if (rows > maxPerDimension) {
    throw new InstanceNormError(
      `the tensor needs ${count} workgroups, more than maxComputeWorkgroupsPerDimension² = ${maxPerDimension ** 2}`,
    );
  }
  return [maxPerDimension, rows];
}

function largestPowerOfTwoAtMost(n: number): number {
  return 2 ** Math.floor(Math.log2(n));
}
