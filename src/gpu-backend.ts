import { BindGroupCache } from './bind-group-cache';
import { type DeviceProfile, deviceProfile } from './device-profile';
import { ImmutableBufferCache } from './immutable-buffer-cache';
import { BINDINGS, deviceKernels, type EpilogueVariant, kernelPipeline, NO_EPILOGUE } from './pipeline-cache';
import {
  type InstanceNormPlan,
  type KernelDispatch,
  planGroupNorm,
  planInstanceNorm,
  planInstanceStats,
  planWithRunningStats,
  type RunningStatsUse,
  type Strategy,
} from './planner';
import { ScratchBuffers } from './scratch-buffers';
import { geometryKey, type TensorGeometry } from './tensor-geometry';
import { tunedStrategy } from './tuning-table';
import { type CallParams, callParamsKey, packParams } from './uniforms';
import { type CheckedEpilogue, type CheckedRunning, isGpuBuffer } from './validation';

/** A checked call on GPU buffers: what GpuBackend.encode records. */
export interface GpuCall {
  readonly geometry: TensorGeometry;
  readonly epsilon: number;
  readonly epilogue: CheckedEpilogue;
  readonly input: GPUBuffer;
  readonly output: GPUBuffer;
  readonly scale?: AffineSource;
  readonly bias?: AffineSource;
  /** scale holds N × C values (index n * C + c) rather than C. */
  readonly scalePerInstance?: boolean;
  readonly biasPerInstance?: boolean;
  /** Added by the epilogue: a tensor of the input's shape. */
  readonly residual?: GPUBuffer;
  /** Running statistics to update or to normalize with. */
  readonly running?: CheckedRunning;
  /** GroupNorm: channels per group; 1 (or absent) for instance norm. */
  readonly groupChannels?: number;
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
  private readonly plans = new Map<string, InstanceNormPlan>();

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
   * planner's; with running statistics, the plan that updates or uses them.
   */
  plan(geometry: TensorGeometry, running?: RunningStatsUse, groupChannels = 1): InstanceNormPlan {
    const key = `${geometryKey(geometry)}|${running ?? ''}|${groupChannels}`;
    let plan = this.plans.get(key);
    if (!plan) {
      const strategy = this.strategy ?? tunedStrategy(this.profile.adapterName, geometry);
      if (running) plan = planWithRunningStats(geometry, this.profile, running);
      else if (groupChannels > 1) plan = planGroupNorm(geometry, this.profile, groupChannels);
      else plan = planInstanceNorm(geometry, this.profile, strategy);
      if (this.plans.size >= 256) this.plans.clear();
      this.plans.set(key, plan);
    }
    return plan;
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
    plan: InstanceNormPlan = this.plan(call.geometry, call.running?.use, call.groupChannels),
    timestampWrites?: GPUComputePassTimestampWrites,
  ): InstanceNormPlan {
    const pass = encoder.beginComputePass({ label: `InstanceNorm.${plan.strategy}.pass`, timestampWrites });
    const epilogue: EpilogueVariant = {
      activation: call.epilogue.activation,
      residual: call.residual ? call.epilogue.residualPosition : 'none',
    };
    plan.windows.forEach((window, windowIndex) => {
      pass.setBindGroup(0, this.windowBindGroup(call, plan, windowIndex, call.output));
      this.dispatch(pass, plan, window.dispatches, epilogue);
    });
    pass.end();
    if (call.running?.use === 'update') call.running.stats.batchesTracked++;
    return plan;
  }

  /**
   * Records the statistics of every instance into `target` as two [N, C] float32 arrays: the
   * means from its start, then from float `spread.offset` 1 / sqrt(var + epsilon), or
   * sqrt(var + epsilon) with `spread.std`. Nothing is written to an output.
   */
  encodeStats(
    encoder: GPUCommandEncoder,
    call: StatsCall,
    target: GPUBuffer,
    spread: StatsSpread = { offset: call.geometry.instanceCount, std: false },
  ): InstanceNormPlan {
    const plan = planInstanceStats(call.geometry, this.profile, call.groupChannels);
    const pass = encoder.beginComputePass({ label: 'InstanceNorm.stats.pass' });
    plan.windows.forEach((window, windowIndex) => {
      pass.setBindGroup(
        0,
        this.windowBindGroup({ ...call, running: undefined }, plan, windowIndex, undefined, { target, ...spread }),
      );
      this.dispatch(pass, plan, window.dispatches, NO_EPILOGUE);
    });
    pass.end();
    return plan;
  }

  /**
   * Records adaptive instance normalization: the style's per-instance mean and sqrt(var + eps),
   * exported into scratch, become the scale and bias of the content's normalization (per
   * instance where the style has the content's N images, per channel where it has one).
   */
  encodeAdain(encoder: GPUCommandEncoder, content: GpuCall, style: Pick<StatsCall, 'geometry' | 'input'>): InstanceNormPlan {
    const count = style.geometry.instanceCount;
    const align = this.profile.minStorageBufferOffsetAlignment;
    const spreadByteOffset = Math.ceil((count * 4) / align) * align;
    const buffer = this.scratch.styleStatsBuffer(spreadByteOffset + count * 4);
    this.encodeStats(encoder, { ...style, epsilon: content.epsilon }, buffer, { offset: spreadByteOffset / 4, std: true });
    const perInstance = style.geometry.batch > 1;
    return this.encode(encoder, {
      ...content,
      scale: { buffer, offset: spreadByteOffset, size: count * 4 },
      bias: { buffer, offset: 0, size: count * 4 },
      scalePerInstance: perInstance,
      biasPerInstance: perInstance,
    });
  }

  /** The bind group of one window of a plan; `output` undefined binds a placeholder (statistics only). */
  private windowBindGroup(
    call: StatsCall,
    plan: InstanceNormPlan,
    windowIndex: number,
    output: GPUBuffer | undefined,
    statsOut?: StatsSpread & { readonly target: GPUBuffer },
  ): GPUBindGroup {
    const window = plan.windows[windowIndex];
    const params: CallParams = {
      epsilon: call.epsilon,
      hasScale: call.scale !== undefined,
      hasBias: call.bias !== undefined,
      scalePerInstance: call.scalePerInstance === true,
      biasPerInstance: call.biasPerInstance === true,
      activationAlpha: call.epilogue?.activationAlpha ?? 0,
      exportedSpreadOffset: statsOut?.offset ?? 0,
      exportStd: statsOut?.std === true,
      ...runningUpdate(call.running, call.geometry.batch),
      groupChannels: call.groupChannels ?? 1,
    };
    // The plan (by shape and strategy), the call's values and the window determine the Params block.
    const paramsKey = `${geometryKey(call.geometry)}|${plan.strategy}|${callParamsKey(params)}|${windowIndex}`;
    const bindings: GPUBufferBinding[] = [];
    bindings[BINDINGS.params] = {
      buffer: this.uniforms.getDetermined(paramsKey, () => packParams(call.geometry, plan, window, params)),
    };
    bindings[BINDINGS.input] = { buffer: call.input, offset: window.byteOffset, size: window.byteLength };
    bindings[BINDINGS.output] = output
      ? { buffer: output, offset: window.byteOffset, size: window.byteLength }
      : { buffer: this.scratch.outputPlaceholder };
    bindings[BINDINGS.scale] = this.affineBuffer(call.scale);
    bindings[BINDINGS.bias] = this.affineBuffer(call.bias);
    bindings[BINDINGS.scratch] = { buffer: this.scratch.momentsBuffer(plan.partialsBytes + plan.statsBytes) };
    bindings[BINDINGS.residual] = call.residual
      ? { buffer: call.residual, offset: window.byteOffset, size: window.byteLength }
      : { buffer: this.scratch.placeholder };
    bindings[BINDINGS.statsOut] = { buffer: statsOut?.target ?? this.scratch.statsOutPlaceholder };
    bindings[BINDINGS.running] = { buffer: call.running?.stats.gpuBufferOn(this.device) ?? this.scratch.runningPlaceholder };
    return this.bindGroups.get(bindings, () =>
      this.device.createBindGroup({
        label: 'InstanceNorm.bindGroup',
        layout: deviceKernels(this.device).bindGroupLayout,
        entries: bindings.map((resource, binding) => ({ binding, resource })),
      }),
    );
  }

  private dispatch(
    pass: GPUComputePassEncoder,
    plan: InstanceNormPlan,
    dispatches: readonly KernelDispatch[],
    epilogue: EpilogueVariant,
  ): void {
    for (const d of dispatches) {
      pass.setPipeline(kernelPipeline(this.device, d.kernel, plan.elements, d.workgroupSize, epilogue));
      pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1]);
    }
  }

  destroy(): void {
    this.scratch.destroy();
    this.uniforms.destroy();
    this.affineArrays.destroy();
  }

  private affineBuffer(value: AffineSource | undefined): GPUBufferBinding {
    if (value === undefined) return { buffer: this.scratch.placeholder };
    if (value instanceof Float32Array) return { buffer: this.affineArrays.get(value, value) };
    if (isGpuBuffer(value)) return { buffer: value };
    return value;
  }
}

/**
 * The update's coefficients, running = decay * running + weight * (sum over the batch): PyTorch's
 * momentum, or for momentum null the cumulative average 1 / (updates so far + 1).
 */
function runningUpdate(running: CheckedRunning | undefined, batch: number): { runningDecay: number; runningWeight: number } {
  if (running?.use !== 'update') return { runningDecay: 1, runningWeight: 0 };
  const momentum = running.momentum ?? 1 / (running.stats.batchesTracked + 1);
  return { runningDecay: 1 - momentum, runningWeight: momentum / batch };
}
