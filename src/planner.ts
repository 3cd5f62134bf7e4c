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

/**
 * A run of whole instances bound as one window of input and output: the whole tensor unless it
 * exceeds maxStorageBufferBindingSize. Windows start on an instance (nchw) or an image (nhwc).
 */
export interface PlanWindow {
  /** Index (n * C + c) of the window's first instance in the whole tensor. */
  readonly firstInstance: number;
  readonly instanceCount: number;
  /** Start of the binding in input and output, a multiple of minStorageBufferOffsetAlignment. */
  readonly byteOffset: number;
  /** Size of the binding: from byteOffset to the window's last element. */
  readonly byteLength: number;
  /** Elements from byteOffset to the window's first element. */
  readonly elementOffset: number;
  readonly dispatches: readonly KernelDispatch[];
}

/** Values per Element the kernels load: 4 (a vec4f) for nchw instances whose size is a multiple of 4. */
export type VectorWidth = 1 | 4;

/** Plain data: what the encoder dispatches and what scratch memory it needs. */
export interface InstanceNormPlan {
  readonly strategy: Strategy;
  readonly vectorWidth: VectorWidth;
  /** Carried out in order; one window unless the tensor exceeds one storage binding. */
  readonly windows: readonly PlanWindow[];
  /** Elements (of vectorWidth values) of one instance reduced by one workgroup of 'partial-moments' (split only, else the whole instance). */
  readonly chunkSize: number;
  readonly chunksPerInstance: number;
  /** Bytes of (count, meanOffset, variance) partials of the largest window: 16 per chunk, 0 when not split. */
  readonly partialsBytes: number;
  /** Bytes of per-instance statistics of the largest window: 16 per instance, 0 when fused. */
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

// Measured on SwiftShader (BENCHMARKS.md): a workgroup of one SIMD group (4 invocations) makes
// barriers nearly free there; one workgroup per instance beats splitting once there are a few
// instances for its two cores.
const CPU_ADAPTER_TUNING: PlannerTuning = {
  perThreadMaxSpatial: 1024,
  perWorkgroupMaxSpatial: 16384,
  instancesToFillDevice: 4,
  reductionWorkgroupSize: 4,
  elementsPerReductionThread: 4096,
};

const PER_THREAD_WORKGROUP_SIZE = 64;
const NORMALIZE_WORKGROUP_SIZE = 256;

/**
 * Chooses the strategy, windows and dispatch sizes for a tensor on a device. `strategy` forces
 * one (tests run every strategy over the same shapes; the choice never changes a result beyond rounding).
 */
export function planInstanceNorm(geometry: TensorGeometry, profile: DeviceProfile, strategy?: Strategy): InstanceNormPlan {
  const tuning = profile.isCpuAdapter ? CPU_ADAPTER_TUNING : GPU_TUNING;
  const chosen = strategy ?? defaultStrategy(geometry, tuning);
  if (!STRATEGIES.includes(chosen)) {
    throw new InstanceNormError(`strategy must be one of ${STRATEGIES.map((s) => `'${s}'`).join(', ')}, got '${String(chosen)}'`);
  }
  const reductionSize = Math.min(tuning.reductionWorkgroupSize, largestPowerOfTwoAtMost(profile.maxInvocationsPerWorkgroup));
  const vectorWidth: VectorWidth = geometry.layout === 'nchw' && geometry.spatialSize % 4 === 0 ? 4 : 1;
  const instanceElements = geometry.spatialSize / vectorWidth;
  const chunkSize = chosen === 'split' ? reductionSize * tuning.elementsPerReductionThread : instanceElements;
  const chunksPerInstance = Math.ceil(instanceElements / chunkSize);
  const windows = bindingWindows(geometry, profile).map((w) => ({
    ...w,
    dispatches: windowDispatches(chosen, w.instanceCount, chunksPerInstance, reductionSize, profile),
  }));
  const largest = Math.max(...windows.map((w) => w.instanceCount));
  return {
    strategy: chosen,
    vectorWidth,
    windows,
    chunkSize,
    chunksPerInstance,
    partialsBytes: chosen === 'split' ? largest * chunksPerInstance * 16 : 0,
    statsBytes: chosen === 'split' ? largest * 16 : 0,
  };
}

function windowDispatches(
  strategy: Strategy,
  instanceCount: number,
  chunksPerInstance: number,
  reductionSize: number,
  profile: DeviceProfile,
): KernelDispatch[] {
  const grid = (count: number) => workgroupGrid(count, profile.maxWorkgroupsPerDimension);
  const perThreadGrid = grid(Math.ceil(instanceCount / PER_THREAD_WORKGROUP_SIZE));
  switch (strategy) {
    case 'fused-per-thread':
      return [{ kernel: 'fused-per-thread', workgroupSize: PER_THREAD_WORKGROUP_SIZE, workgroups: perThreadGrid }];
    case 'fused-per-workgroup':
      return [{ kernel: 'fused-per-workgroup', workgroupSize: reductionSize, workgroups: grid(instanceCount) }];
    case 'split':
      return [
        { kernel: 'partial-moments', workgroupSize: reductionSize, workgroups: grid(instanceCount * chunksPerInstance) },
        { kernel: 'combine-moments', workgroupSize: PER_THREAD_WORKGROUP_SIZE, workgroups: perThreadGrid },
        { kernel: 'normalize', workgroupSize: NORMALIZE_WORKGROUP_SIZE, workgroups: grid(instanceCount * chunksPerInstance) },
      ];
  }
}

/**
 * Splits the tensor into runs of whole instances (nchw) or whole images (nhwc, where the
 * instances of an image interleave) that each fit one storage binding, with the binding's
 * start rounded down to the device's offset alignment.
 */
export function bindingWindows(g: TensorGeometry, profile: DeviceProfile): Omit<PlanWindow, 'dispatches'>[] {
  const limit = profile.maxStorageBufferBindingSize;
  const align = profile.minStorageBufferOffsetAlignment;
  const bytes = g.elementCount * 4;
  if (bytes <= limit) {
    return [{ firstInstance: 0, instanceCount: g.instanceCount, byteOffset: 0, byteLength: bytes, elementOffset: 0 }];
  }
  const unitInstances = g.layout === 'nchw' ? 1 : g.channels;
  const unitBytes = unitInstances * g.spatialSize * 4;
  // A window may start up to align - 4 bytes past its aligned binding offset.
  const unitsPerWindow = Math.floor((limit - (align - 4)) / unitBytes);
  if (unitsPerWindow < 1) {
    const unit = g.layout === 'nchw' ? 'one instance' : `one image (the ${g.channels} interleaved instances of nhwc)`;
    throw new InstanceNormError(
      `shape [${g.shape.join(', ')}] needs ${bytes} bytes and ${unit} alone needs ${unitBytes} bytes, ` +
        `more than this device's maxStorageBufferBindingSize of ${limit}`,
    );
  }
  const units = g.instanceCount / unitInstances;
  const windows: Omit<PlanWindow, 'dispatches'>[] = [];
  for (let firstUnit = 0; firstUnit < units; firstUnit += unitsPerWindow) {
    const count = Math.min(unitsPerWindow, units - firstUnit);
    const startByte = firstUnit * unitBytes;
    const byteOffset = startByte - (startByte % align);
    const elementOffset = (startByte - byteOffset) / 4;
    windows.push({
      firstInstance: firstUnit * unitInstances,
      instanceCount: count * unitInstances,
      byteOffset,
      byteLength: startByte - byteOffset + count * unitBytes,
      elementOffset,
    });
  }
  return windows;
}

function defaultStrategy(g: TensorGeometry, tuning: PlannerTuning): Strategy {
  if (g.spatialSize <= tuning.perThreadMaxSpatial) return 'fused-per-thread';
  if (g.spatialSize <= tuning.perWorkgroupMaxSpatial || g.instanceCount >= tuning.instancesToFillDevice) {
    return 'fused-per-workgroup';
  }
  return 'split';
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
