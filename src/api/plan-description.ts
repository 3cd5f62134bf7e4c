import type { Strategy } from '../gpu/planner.js';

/**
 * What the GPU backend carries out for a call, as {@link InstanceNorm.plan} returns it: plain,
 * frozen data, to inspect (in tests, or to see why a shape is slow). Its details follow the
 * kernels and may change between versions.
 *
 * @example
 * const plan = norm.plan([2, 320, 64, 64], { groups: 32 });
 * console.log(plan.strategy, plan.windows[0].dispatches.map((d) => d.kernel));
 */
export interface InstanceNormPlan {
  /** How the work is divided among invocations and workgroups. */
  readonly strategy: Strategy;
  /** How the kernels load the tensor: `'scalar'`, `'vec4-position'`, `'vec4-channel'`, `'rgb-quad'`, `'half4-position'`, … */
  readonly elements: string;
  /** How a workgroup merges what its invocations hold: by `subgroupAdd` (`'subgroups'`), or a tree in workgroup memory. */
  readonly reduction: 'subgroups' | 'workgroup-tree';
  /** Kernel instances per image: C, or the ceil(C / 4) channel groups of nhwc. */
  readonly instancesPerImage: number;
  /** Carried out in order; one window unless the tensor exceeds one storage binding. */
  readonly windows: readonly {
    /** The window's first kernel instance. */
    readonly firstInstance: number;
    /** Kernel instances in the window. */
    readonly instanceCount: number;
    /** Start of the window's binding of input and output, in bytes. */
    readonly byteOffset: number;
    /** Size of that binding, in bytes. */
    readonly byteLength: number;
    /** Elements from byteOffset to the window's first element. */
    readonly elementOffset: number;
    /** The dispatches of the window, in order, in one compute pass. */
    readonly dispatches: readonly {
      /** The kernel: the name of its file in `shaders/`. */
      readonly kernel: string;
      /** Invocations per workgroup. */
      readonly workgroupSize: number;
      /** Workgroup grid (x, y). */
      readonly workgroups: readonly [number, number];
    }[];
  }[];
  /** Elements of one instance reduced by one workgroup of the split plan's first pass; the whole instance when fused. */
  readonly chunkSize: number;
  /** Chunks per kernel instance: 1 when fused. */
  readonly chunksPerInstance: number;
  /** Bytes of scratch for the chunks' partial moments: 0 when not split. */
  readonly partialsBytes: number;
  /** Bytes of scratch for per-instance statistics. */
  readonly statsBytes: number;
}
