import { BindGroupCache } from './bind-group-cache';
import { type DeviceProfile, deviceProfile } from './device-profile';
import { ImmutableBufferCache } from './immutable-buffer-cache';
import type { InstanceStats } from './options';
import { BINDINGS, deviceKernels, type EpilogueVariant, kernelPipeline, NO_EPILOGUE } from './pipeline-cache';
import { ELEMENT_KINDS, type InstanceNormPlan, type KernelDispatch, planInstanceNorm, type Strategy } from './planner';
import { ScratchBuffers } from './scratch-buffers';
import { geometryKey, type TensorGeometry } from './tensor-geometry';
import { tunedStrategy } from './tuning-table';
import { type CallParams, callParamsKey, packParams } from './uniforms';
import type { CheckedEpilogue } from './validation';

/** A checked call on GPU buffers: what GpuBackend.encode records. */
export interface GpuCall {
  readonly geometry: TensorGeometry;
  readonly epsilon: number;
  readonly epilogue: CheckedEpilogue;
  readonly input: GPUBuffer;
  readonly output: GPUBuffer;
  readonly scale?: Float32Array | GPUBuffer;
  readonly bias?: Float32Array | GPUBuffer;
  /** scale holds N × C values (index n * C + c) rather than C. */
  readonly scalePerInstance?: boolean;
  readonly biasPerInstance?: boolean;
  /** Added by the epilogue: a tensor of the input's shape. */
  readonly residual?: GPUBuffer;
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

  /** The plan for a shape: the forced strategy, else the one tune() measured fastest, else the planner's. */
  plan(geometry: TensorGeometry): InstanceNormPlan {
    const key = geometryKey(geometry);
    let plan = this.plans.get(key);
    if (!plan) {
      const strategy = this.strategy ?? tunedStrategy(this.profile.adapterName, geometry);
      plan = planInstanceNorm(geometry, this.profile, strategy);
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
    plan: InstanceNormPlan = this.plan(call.geometry),
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
    return plan;
  }

  /**
   * Records the statistics of every instance into `target`: one vec4f per statistics entry,
   * (pivot, meanOffset, 1 / sqrt(var + epsilon), 0), entries in the order of the returned plan
   * (lanes of channel groups in nhwc). The split plan's first two passes, nothing written to output.
   */
  encodeStats(encoder: GPUCommandEncoder, call: StatsCall, target: GPUBuffer): InstanceNormPlan {
    const plan = planInstanceNorm(call.geometry, this.profile, 'split');
    const { lanes } = ELEMENT_KINDS[plan.elements];
    plan.windows.forEach((window, windowIndex) => {
      // One pass per window: the statistics scratch is copied out between them.
      const pass = encoder.beginComputePass({ label: 'InstanceNorm.stats.pass' });
      pass.setBindGroup(0, this.windowBindGroup(call, plan, windowIndex, undefined));
      this.dispatch(
        pass,
        plan,
        window.dispatches.filter((d) => d.kernel !== 'normalize'),
        NO_EPILOGUE,
      );
      pass.end();
      const bytes = window.instanceCount * lanes * 16;
      encoder.copyBufferToBuffer(this.scratch.statsBuffer(plan.statsBytes), 0, target, window.firstInstance * lanes * 16, bytes);
    });
    return plan;
  }

  /** The bind group of one window of a plan; `output` undefined binds a placeholder (statistics only). */
  private windowBindGroup(
    call: StatsCall,
    plan: InstanceNormPlan,
    windowIndex: number,
    output: GPUBuffer | undefined,
  ): GPUBindGroup {
    const window = plan.windows[windowIndex];
    const params: CallParams = {
      epsilon: call.epsilon,
      hasScale: call.scale !== undefined,
      hasBias: call.bias !== undefined,
      scalePerInstance: call.scalePerInstance === true,
      biasPerInstance: call.biasPerInstance === true,
      activationAlpha: call.epilogue?.activationAlpha ?? 0,
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
    bindings[BINDINGS.scale] = { buffer: this.affineBuffer(call.scale) };
    bindings[BINDINGS.bias] = { buffer: this.affineBuffer(call.bias) };
    bindings[BINDINGS.partials] = { buffer: this.scratch.partialsBuffer(plan.partialsBytes) };
    bindings[BINDINGS.stats] = { buffer: this.scratch.statsBuffer(plan.statsBytes) };
    bindings[BINDINGS.residual] = call.residual
      ? { buffer: call.residual, offset: window.byteOffset, size: window.byteLength }
      : { buffer: this.scratch.placeholder };
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

  private affineBuffer(value: Float32Array | GPUBuffer | undefined): GPUBuffer {
    if (value === undefined) return this.scratch.placeholder;
    if (value instanceof Float32Array) return this.affineArrays.get(value, value);
    return value;
  }
}

/**
 * Per-instance statistics from statistics entries (pivot, meanOffset, invStd, 0); in nhwc,
 * entry (n * groups + g) * 4 + lane holds channel 4g + lane. The mean is formed in float64.
 */
export function unpackStats(entries: Float32Array, g: TensorGeometry, lanes: number): InstanceStats {
  const mean = new Float32Array(g.instanceCount);
  const invStd = new Float32Array(g.instanceCount);
  const groups = Math.ceil(g.channels / lanes);
  for (let n = 0; n < g.batch; n++) {
    for (let c = 0; c < g.channels; c++) {
      const entry = lanes === 1 ? n * g.channels + c : (n * groups + Math.floor(c / lanes)) * lanes + (c % lanes);
      mean[n * g.channels + c] = entries[4 * entry] + entries[4 * entry + 1];
      invStd[n * g.channels + c] = entries[4 * entry + 2];
    }
  }
  return { mean, invStd };
}
