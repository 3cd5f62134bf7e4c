import type { CheckedCall, CheckedEpilogue, CheckedRunning } from '../core/checked-call.js';
import { geometryKey, type TensorGeometry } from '../core/tensor-geometry.js';
import { isFloat32Array, isGpuBuffer } from '../core/value-kinds.js';
import { BindGroupCache } from './bind-group-cache.js';
import { type DeviceProfile, deviceProfile } from './device-profile.js';
import { ImmutableBufferCache } from './immutable-buffer-cache.js';
import { BINDINGS, deviceKernels, type EpilogueVariant, kernelPipeline, NO_EPILOGUE } from './pipeline-cache.js';
import {
  type GpuPlan,
  type KernelDispatch,
  planBackward,
  planGroupNorm,
  planInstanceNorm,
  planInstanceStats,
  planSavingStats,
  planWithRunningStats,
  type RunningStatsUse,
  type Strategy,
} from './planner.js';
import { ScratchBuffers } from './scratch-buffers.js';
import { tunedStrategy } from './tuning-table.js';
import { type CallParams, packParams } from './uniforms.js';

/**
 * A checked call (validation's CheckedCall: geometry, epsilon, epilogue, running statistics,
 * groups) with its sources and buffers on the GPU: what GpuBackend.encode records.
 */
export interface GpuCall
  extends Pick<CheckedCall, 'geometry' | 'epsilon' | 'epsilonPlacement' | 'epilogue' | 'running'>,
    Partial<Pick<CheckedCall, 'groupChannels'>> {
  readonly input: GPUBuffer;
  readonly output: GPUBuffer;
  readonly scale?: AffineSource;
  readonly bias?: AffineSource;
  /** scale holds N × C values (index n * C + c) rather than C. */
  readonly scalePerInstance?: boolean;
  readonly biasPerInstance?: boolean;
  /** Added by the epilogue: a tensor of the input's shape. */
  readonly residual?: GPUBuffer;
  /** Receives each instance's mean and 1 / sqrt(var + eps) as [N, C] arrays, for the backward. */
  readonly saveStats?: GPUBuffer;
  /** The running statistics update this call makes: how many came before it (RunningStats.reserveUpdate). */
  readonly runningUpdate?: { readonly updatesBefore: number };
  /** See {@link CallBuffers}. */
  readonly buffers?: CallBuffers;
}

/**
 * Where a call's parameter and affine buffers come from: `'cached'`, the backend's caches, for
 * encode(), whose buffers must live until the app submits; or a list that receives new
 * buffers, which the caller destroys once it has submitted the work itself (run()), so that
 * run() never evicts what an unsubmitted encode() recorded.
 */
export type CallBuffers = 'cached' | GPUBuffer[];

/** A checked backward call on GPU buffers: what GpuBackend.encodeBackward records. */
export interface GpuBackwardCall extends Pick<CheckedCall, 'epsilon' | 'epsilonPlacement'> {
  readonly geometry: TensorGeometry;
  readonly input: GPUBuffer;
  readonly gradOutput: GPUBuffer;
  readonly gradInput: GPUBuffer;
  readonly scale?: AffineSource;
  readonly scalePerInstance?: boolean;
  readonly biasPerInstance?: boolean;
  /** Receives the scale gradient, then the bias gradient (C or N × C values each). */
  readonly gradAffine?: GPUBuffer;
  /** The forward's statistics, as saveStats wrote them; reduced again where absent. */
  readonly savedStats?: GPUBuffer;
  /** Eval mode: the forward normalized with these running statistics. */
  readonly running?: CheckedRunning;
  /** See {@link CallBuffers}. */
  readonly buffers?: CallBuffers;
}

/** The commands of one window, prepared before the pass begins. */
interface WindowCommands {
  readonly bindGroup: GPUBindGroup;
  readonly dispatches: readonly { readonly pipeline: GPUComputePipeline; readonly workgroups: readonly [number, number] }[];
}

/** What a window binds beyond a call's own buffers. */
interface WindowBindings {
  readonly output?: GPUBuffer;
  readonly instanceStats?: StatsSpread & { readonly target: GPUBuffer };
  readonly channelValues?: GPUBuffer;
  readonly batchStatistics?: boolean;
  readonly recomputeStats?: boolean;
}

/** scale or bias: an array (uploaded once, cached), a whole buffer, or a range of one. */
export type AffineSource = Float32Array | GPUBuffer | GPUBufferBinding;

/** Where encodeStats() puts the second [N, C] array, in floats, and whether it holds sqrt(var + eps). */
export interface StatsSpread {
  readonly offset: number;
  readonly std: boolean;
}

/** A call that writes no output: statistics only. */
export type StatsCall = Omit<GpuCall, 'output' | 'epilogue'> & { readonly epilogue?: CheckedEpilogue };

/**
 * Carries out plans on one device: owns the scratch, uniform and affine buffers of one
 * InstanceNorm and records each plan's dispatches into a caller's command encoder.
 */
export class GpuBackend {
  private readonly scratch: ScratchBuffers;
  private readonly uniforms: ImmutableBufferCache<string>;
  private readonly affineArrays: ImmutableBufferCache<Float32Array>;
  private readonly bindGroups = new BindGroupCache();
  // Plans by layout and shape: planning is pure, and a model calls the same shapes again and again.
  private readonly plans = new Map<string, GpuPlan>();

  /** `profile` defaults to the device's own; tests inject smaller limits to reach rare code paths. */
  constructor(
    readonly device: GPUDevice,
    private readonly strategy: Strategy | undefined,
    readonly profile: DeviceProfile = deviceProfile(device),
  ) {
    this.scratch = new ScratchBuffers(device);
    this.uniforms = new ImmutableBufferCache(device, 'InstanceNorm.params', GPUBufferUsage.UNIFORM);
    this.affineArrays = new ImmutableBufferCache(device, 'InstanceNorm.affine', GPUBufferUsage.STORAGE);
  }

  /**
   * The plan for a shape: the forced strategy, else the one tune() measured fastest, else the
   * planner's; with running statistics, the plan that updates or uses them; for GroupNorm the
   * group plan (of the forced strategy where it has one). Saving statistics keeps a fused plan
   * (its kernels save them) and adds export-stats to a split one.
   */
  plan(geometry: TensorGeometry, running?: RunningStatsUse, groupChannels = 1, saveStats = false): GpuPlan {
    const key = `${geometryKey(geometry)}|${running ?? ''}|${groupChannels}|${+saveStats}`;
    let plan = this.plans.get(key);
    if (!plan) {
      // Frozen: plan() hands it to callers, and an edited plan would change later calls.
      plan = deepFreeze(this.freshPlan(geometry, running, groupChannels, saveStats));
      if (this.plans.size >= 256) this.plans.clear();
      this.plans.set(key, plan);
    }
    return plan;
  }

  private freshPlan(geometry: TensorGeometry, running: RunningStatsUse | undefined, groupChannels: number, saveStats: boolean) {
    if (running) {
      return saveStats && running === 'update'
        ? planSavingStats(geometry, this.profile, running)
        : planWithRunningStats(geometry, this.profile, running);
    }
    if (groupChannels > 1) return planGroupNorm(geometry, this.profile, groupChannels, this.strategy);
    const strategy = this.strategy ?? tunedStrategy(this.profile.adapterName, geometry);
    const plan = planInstanceNorm(geometry, this.profile, strategy);
    return saveStats && plan.strategy === 'split' ? planSavingStats(geometry, this.profile) : plan;
  }

  /** Forgets cached plans, after tune() found a faster strategy. */
  replan(): void {
    this.plans.clear();
  }

  /**
   * Records a call. `plan` replaces the backend's own (tune() times each strategy this way);
   * `timestampWrites` times the compute pass.
   */
  encode(
    encoder: GPUCommandEncoder,
    call: GpuCall,
    plan: GpuPlan = this.plan(call.geometry, call.running?.use, call.groupChannels, call.saveStats !== undefined),
    timestampWrites?: GPUComputePassTimestampWrites,
  ): GpuPlan {
    const epilogue: EpilogueVariant = {
      activation: call.epilogue.activation,
      residual: call.residual ? call.epilogue.residualPosition : 'none',
      // Fused plans save statistics in their kernels; split ones have an export-stats dispatch.
      saveStats: call.saveStats !== undefined && plan.strategy !== 'split',
      grouped: plan.grouped,
    };
    const instanceStats = call.saveStats && { target: call.saveStats, offset: call.geometry.instanceCount, std: false };
    const commands = plan.windows.map((window, windowIndex) =>
      this.windowCommands(call, plan, windowIndex, { output: call.output, instanceStats }, window.dispatches, epilogue),
    );
    recordPass(encoder, `InstanceNorm.${plan.strategy}.pass`, commands, timestampWrites);
    return plan;
  }

  /**
   * Records the statistics of every instance into `target` as two [N, C] float32 arrays: the
   * means from its start, then from float `spread.offset` 1 / spread (sqrt(var + epsilon), or
   * sqrt(var) + epsilon), or the spread itself with `spread.std`. Nothing is written to an output.
   */
  encodeStats(
    encoder: GPUCommandEncoder,
    call: StatsCall,
    target: GPUBuffer,
    spread: StatsSpread = { offset: call.geometry.instanceCount, std: false },
  ): GpuPlan {
    const plan = planInstanceStats(call.geometry, this.profile, call.groupChannels);
    const bound = { instanceStats: { target, ...spread } };
    const commands = plan.windows.map((window, windowIndex) =>
      this.windowCommands({ ...call, running: undefined }, plan, windowIndex, bound, window.dispatches, NO_EPILOGUE),
    );
    recordPass(encoder, 'InstanceNorm.stats.pass', commands);
    return plan;
  }

  /**
   * Records adaptive instance normalization: the style's per-instance mean and sqrt(var + eps),
   * exported into scratch, become the scale and bias of the content's normalization (per
   * instance where the style has the content's N images, per channel where it has one).
   */
  encodeAdain(encoder: GPUCommandEncoder, content: GpuCall, style: Pick<StatsCall, 'geometry' | 'input'>): GpuPlan {
    const count = style.geometry.instanceCount;
    const align = this.profile.minStorageBufferOffsetAlignment;
    const spreadByteOffset = Math.ceil((count * 4) / align) * align;
    const buffer = this.scratch.styleStatsBuffer(spreadByteOffset + count * 4);
    this.encodeStats(
      encoder,
      { ...style, epsilon: content.epsilon, epsilonPlacement: content.epsilonPlacement, buffers: content.buffers },
      buffer,
      {
        offset: spreadByteOffset / 4,
        std: true,
      },
    );
    const perInstance = style.geometry.batch > 1;
    return this.encode(encoder, {
      ...content,
      scale: { buffer, offset: spreadByteOffset, size: count * 4 },
      bias: { buffer, offset: 0, size: count * 4 },
      scalePerInstance: perInstance,
      biasPerInstance: perInstance,
    });
  }

  /**
   * Records the backward pass: the input gradient into gradInput and, with gradAffine, the
   * gradients of scale and bias (planBackward).
   */
  encodeBackward(encoder: GPUCommandEncoder, call: GpuBackwardCall): GpuPlan {
    const source = call.running ? 'running' : call.savedStats ? 'saved' : 'recompute';
    // As the forward: one invocation per instance where the forward plan takes that.
    const plan = planBackward(
      call.geometry,
      this.profile,
      source,
      this.strategy ?? tunedStrategy(this.profile.adapterName, call.geometry),
    );
    const forward: StatsCall = {
      geometry: call.geometry,
      epsilon: call.epsilon,
      epsilonPlacement: call.epsilonPlacement,
      input: call.input,
      scale: call.scale,
      scalePerInstance: call.scalePerInstance,
      biasPerInstance: call.biasPerInstance,
      residual: call.gradOutput, // dy is read where the residual is
      running: call.running && { ...call.running, use: 'normalize-with' },
      buffers: call.buffers,
    };
    const bound: WindowBindings = {
      output: call.gradInput,
      instanceStats: call.savedStats && { target: call.savedStats, offset: call.geometry.instanceCount, std: false },
      channelValues: call.gradAffine,
      batchStatistics: call.running === undefined,
      recomputeStats: source === 'recompute',
    };
    const commands = plan.windows.flatMap((window, windowIndex) => {
      const dispatches = window.dispatches.filter((d) => d.kernel !== 'backward-affine' || call.gradAffine);
      if (!call.running) return [this.windowCommands(forward, plan, windowIndex, bound, dispatches, NO_EPILOGUE)];
      // load-running-stats reads the running statistics where backward-affine writes gradients: binding 8 of its own.
      const loading = { ...bound, channelValues: undefined };
      return [
        this.windowCommands(forward, plan, windowIndex, loading, dispatches.slice(0, 1), NO_EPILOGUE),
        this.windowCommands(forward, plan, windowIndex, bound, dispatches.slice(1), NO_EPILOGUE),
      ];
    });
    recordPass(encoder, 'InstanceNorm.backward.pass', commands);
    return plan;
  }

  /**
   * The bind group and pipelines of some dispatches of one window, made before a pass begins:
   * anything here that throws then leaves the caller's encoder as it was.
   */
  private windowCommands(
    call: StatsCall,
    plan: GpuPlan,
    windowIndex: number,
    bound: WindowBindings,
    dispatches: readonly KernelDispatch[],
    epilogue: EpilogueVariant,
  ): WindowCommands {
    return {
      bindGroup: this.windowBindGroup(call, plan, windowIndex, bound),
      dispatches: dispatches.map((d) => ({
        pipeline: kernelPipeline(this.device, d.kernel, plan.elements, plan.reduction, d.workgroupSize, epilogue),
        workgroups: d.workgroups,
      })),
    };
  }

  /**
   * The bind group of one window of a plan. `bound` names what the call binds beyond its own
   * buffers; whatever is absent is a placeholder.
   */
  private windowBindGroup(call: StatsCall, plan: GpuPlan, windowIndex: number, bound: WindowBindings): GPUBindGroup {
    const { output, instanceStats, channelValues } = bound;
    const window = plan.windows[windowIndex];
    const params: CallParams = {
      epsilon: call.epsilon,
      epsilonOnStd: call.epsilonPlacement === 'std',
      hasScale: call.scale !== undefined,
      hasBias: call.bias !== undefined,
      scalePerInstance: call.scalePerInstance === true,
      biasPerInstance: call.biasPerInstance === true,
      activationAlpha: call.epilogue?.activationAlpha ?? 0,
      exportedSpreadOffset: instanceStats?.offset ?? 0,
      exportStd: instanceStats?.std === true,
      ...runningUpdate(call, call.geometry.batch),
      groupChannels: call.groupChannels ?? 1,
      batchStatistics: bound.batchStatistics ?? true,
      recomputeStats: bound.recomputeStats ?? false,
    };
    const bindings: GPUBufferBinding[] = [];
    bindings[BINDINGS.params] = { buffer: this.paramsBuffer(packParams(call.geometry, plan, window, params), call.buffers) };
    bindings[BINDINGS.input] = { buffer: call.input, offset: window.byteOffset, size: window.byteLength };
    bindings[BINDINGS.output] = output
      ? { buffer: output, offset: window.byteOffset, size: window.byteLength }
      : { buffer: this.scratch.outputPlaceholder };
    bindings[BINDINGS.scale] = this.affineBuffer(call.scale, call.buffers);
    bindings[BINDINGS.bias] = this.affineBuffer(call.bias, call.buffers);
    bindings[BINDINGS.scratch] = { buffer: this.scratch.momentsBuffer(plan.partialsBytes + plan.statsBytes) };
    bindings[BINDINGS.residual] = call.residual
      ? { buffer: call.residual, offset: window.byteOffset, size: window.byteLength }
      : { buffer: this.scratch.placeholder };
    bindings[BINDINGS.statsArrays] = { buffer: instanceStats?.target ?? this.scratch.statsArraysPlaceholder };
    bindings[BINDINGS.channelValues] = {
      buffer: channelValues ?? call.running?.stats.gpuBufferOn(this.device) ?? this.scratch.channelValuesPlaceholder,
    };
    return this.bindGroups.get(bindings, () =>
      this.device.createBindGroup({
        label: 'InstanceNorm.bindGroup',
        layout: deviceKernels(this.device).bindGroupLayout,
        entries: bindings.map((resource, binding) => ({ binding, resource })),
      }),
    );
  }

  destroy(): void {
    this.scratch.destroy();
    this.uniforms.destroy();
    this.affineArrays.destroy();
  }

  /**
   * The Params block's buffer. Its bytes are its key: whatever changes them (shape, plan, window,
   * element kind, the call's values) gives another buffer, with nothing to list by hand.
   */
  private paramsBuffer(packed: Uint32Array, buffers: CallBuffers | undefined): GPUBuffer {
    if (Array.isArray(buffers))
      return transientBuffer(this.device, 'InstanceNorm.params', GPUBufferUsage.UNIFORM, packed, buffers);
    return this.uniforms.getDetermined(packed.join(','), () => packed);
  }

  private affineBuffer(value: AffineSource | undefined, buffers: CallBuffers | undefined): GPUBufferBinding {
    if (value === undefined) return { buffer: this.scratch.placeholder };
    if (isFloat32Array(value)) {
      if (Array.isArray(buffers)) {
        return { buffer: transientBuffer(this.device, 'InstanceNorm.affine', GPUBufferUsage.STORAGE, value, buffers) };
      }
      return { buffer: this.affineArrays.get(value, value) };
    }
    if (isGpuBuffer(value)) return { buffer: value };
    return value;
  }
}

/** A buffer holding `contents`, added to `created` for its caller to destroy after its submit. */
function transientBuffer(
  device: GPUDevice,
  label: string,
  usage: GPUBufferUsageFlags,
  contents: ArrayBufferView,
  created: GPUBuffer[],
): GPUBuffer {
  const size = Math.max(16, Math.ceil(contents.byteLength / 4) * 4);
  const buffer = device.createBuffer({ label, size, usage, mappedAtCreation: true });
  created.push(buffer);
  new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(contents.buffer, contents.byteOffset, contents.byteLength));
  buffer.unmap();
  return buffer;
}

/** Begins a compute pass on the caller's encoder and records prepared commands: nothing here throws. */
function recordPass(
  encoder: GPUCommandEncoder,
  label: string,
  commands: readonly WindowCommands[],
  timestampWrites?: GPUComputePassTimestampWrites,
): void {
  const pass = encoder.beginComputePass({ label, timestampWrites });
  for (const { bindGroup, dispatches } of commands) {
    pass.setBindGroup(0, bindGroup);
    for (const { pipeline, workgroups } of dispatches) {
      pass.setPipeline(pipeline);
      pass.dispatchWorkgroups(workgroups[0], workgroups[1]);
    }
  }
  pass.end();
}

/**
 * The update's coefficients, running = decay * running + weight * (sum over the batch): PyTorch's
 * momentum, or for momentum null the cumulative average 1 / (updates before this one + 1).
 */
function runningUpdate(call: StatsCall, batch: number): { runningDecay: number; runningWeight: number } {
  const running = call.running;
  if (running?.use !== 'update') return { runningDecay: 1, runningWeight: 0 };
  const updatesBefore = call.runningUpdate?.updatesBefore ?? running.stats.batchesTracked;
  const momentum = running.momentum ?? 1 / (updatesBefore + 1);
  return { runningDecay: 1 - momentum, runningWeight: momentum / batch };
}

/** `value` and everything it holds, frozen. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
