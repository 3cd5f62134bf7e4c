import { BindGroupCache } from './bind-group-cache';
import { type DeviceProfile, deviceProfile } from './device-profile';
import { ImmutableBufferCache } from './immutable-buffer-cache';
import { BINDINGS, deviceKernels, kernelPipeline } from './pipeline-cache';
import { type InstanceNormPlan, planInstanceNorm, type Strategy } from './planner';
import { ScratchBuffers } from './scratch-buffers';
import { geometryKey, type TensorGeometry } from './tensor-geometry';
import { tunedStrategy } from './tuning-table';
import { packParams } from './uniforms';

/** A checked call on GPU buffers: what GpuBackend.encode records. */
export interface GpuCall {
  readonly geometry: TensorGeometry;
  readonly epsilon: number;
  readonly input: GPUBuffer;
  readonly output: GPUBuffer;
  readonly scale?: Float32Array | GPUBuffer;
  readonly bias?: Float32Array | GPUBuffer;
}

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
    const { device } = this;
    const affine = { hasScale: call.scale !== undefined, hasBias: call.bias !== undefined };
    const scale = { buffer: this.affineBuffer(call.scale) };
    const bias = { buffer: this.affineBuffer(call.bias) };
    const partials = { buffer: this.scratch.partialsBuffer(plan.partialsBytes) };
    const stats = { buffer: this.scratch.statsBuffer(plan.statsBytes) };
    const layout = deviceKernels(device).bindGroupLayout;
    const pass = encoder.beginComputePass({ label: `InstanceNorm.${plan.strategy}.pass`, timestampWrites });
    plan.windows.forEach((window, windowIndex) => {
      // The plan (by shape), epsilon, flags and window determine the Params block.
      const paramsKey = `${geometryKey(call.geometry)}|${plan.strategy}|${call.epsilon}|${+affine.hasScale}${+affine.hasBias}|${windowIndex}`;
      const params = {
        buffer: this.uniforms.getDetermined(paramsKey, () => packParams(call.geometry, plan, window, call.epsilon, affine)),
      };
      const input = { buffer: call.input, offset: window.byteOffset, size: window.byteLength };
      const output = { buffer: call.output, offset: window.byteOffset, size: window.byteLength };
      const bindings: GPUBufferBinding[] = [];
      bindings[BINDINGS.params] = params;
      bindings[BINDINGS.input] = input;
      bindings[BINDINGS.output] = output;
      bindings[BINDINGS.scale] = scale;
      bindings[BINDINGS.bias] = bias;
      bindings[BINDINGS.partials] = partials;
      bindings[BINDINGS.stats] = stats;
      const bindGroup = this.bindGroups.get(bindings, () =>
        device.createBindGroup({
          label: 'InstanceNorm.bindGroup',
          layout,
          entries: bindings.map((resource, binding) => ({ binding, resource })),
        }),
      );
      pass.setBindGroup(0, bindGroup);
      for (const dispatch of window.dispatches) {
        pass.setPipeline(kernelPipeline(device, dispatch.kernel, plan.elements, dispatch.workgroupSize));
        pass.dispatchWorkgroups(dispatch.workgroups[0], dispatch.workgroups[1]);
      }
    });
    pass.end();
    return plan;
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
