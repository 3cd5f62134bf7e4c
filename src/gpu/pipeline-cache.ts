import type { Activation, ResidualPosition } from '../core/options';
import type { ElementKind, KernelName, WorkgroupReduction } from './planner';
import { kernelSource, reducesAcrossWorkgroup, writesOutput } from './shader-sources';

/**
 * The compiled variant of what the normalizing kernels do besides normalizing: the epilogue's
 * override constants (shaders/epilogue.wgsl), and SAVE_STATS of the fused kernels
 * (shaders/normalize-range.wgsl).
 */
export interface EpilogueVariant {
  readonly activation: Activation;
  readonly residual: ResidualPosition | 'none';
  readonly saveStats: boolean;
}

export const NO_EPILOGUE: EpilogueVariant = { activation: 'none', residual: 'none', saveStats: false };

// Values of the ACTIVATION and RESIDUAL overrides.
const ACTIVATION_CODES: Record<Activation, number> = { none: 0, relu: 1, leakyRelu: 2, silu: 3, gelu: 4 };
const RESIDUAL_CODES: Record<EpilogueVariant['residual'], number> = {
  none: 0,
  'after-activation': 1,
  'before-activation': 2,
};

/**
 * The compiled GPU objects of one device: one bind group layout shared by every pass, shader
 * modules per kernel, compute pipelines per variant. Held in a WeakMap keyed by the device, so
 * instances on the same device share them and a lost device takes them with it.
 */
export interface DeviceKernels {
  readonly bindGroupLayout: GPUBindGroupLayout;
  readonly pipelineLayout: GPUPipelineLayout;
  readonly modules: Map<string, GPUShaderModule>;
  readonly pipelines: Map<string, GPUComputePipeline>;
}

const kernelsByDevice = new WeakMap<GPUDevice, DeviceKernels>();

/** Binding numbers of shaders/instance-params.wgsl. */
export const BINDINGS = {
  params: 0,
  input: 1,
  output: 2,
  scale: 3,
  bias: 4,
  scratch: 5,
  residual: 6,
  statsArrays: 7,
  channelValues: 8,
} as const;

export function deviceKernels(device: GPUDevice): DeviceKernels {
  let kernels = kernelsByDevice.get(device);
  if (!kernels) {
    const storage = (binding: number, type: GPUBufferBindingType): GPUBindGroupLayoutEntry => ({
      binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type },
    });
    const bindGroupLayout = device.createBindGroupLayout({
      label: 'InstanceNorm.bindGroupLayout',
      entries: [
        storage(BINDINGS.params, 'uniform'),
        storage(BINDINGS.input, 'read-only-storage'),
        storage(BINDINGS.output, 'storage'),
        storage(BINDINGS.scale, 'read-only-storage'),
        storage(BINDINGS.bias, 'read-only-storage'),
        storage(BINDINGS.scratch, 'storage'),
        storage(BINDINGS.residual, 'read-only-storage'),
        storage(BINDINGS.statsArrays, 'storage'),
        storage(BINDINGS.channelValues, 'storage'),
      ],
    });
    kernels = {
      bindGroupLayout,
      pipelineLayout: device.createPipelineLayout({ label: 'InstanceNorm.pipelineLayout', bindGroupLayouts: [bindGroupLayout] }),
      modules: new Map(),
      pipelines: new Map(),
    };
    kernelsByDevice.set(device, kernels);
  }
  return kernels;
}

/**
 * Cache key of a pipeline: `<kernel>/<elements>[/subgroups]@<workgroupSize>/<activation>/<residual>[/save]`,
 * all that changes the compiled code; the module's key is the part before '@'. Kernels that
 * write no output have one variant whatever the epilogue, those that merge nothing across a
 * workgroup one whatever the reduction.
 */
export function pipelineKey(
  kernel: KernelName,
  elements: ElementKind,
  reduction: WorkgroupReduction,
  workgroupSize: number,
  epilogue: EpilogueVariant = NO_EPILOGUE,
): string {
  const variant = writesOutput(kernel) ? epilogue : NO_EPILOGUE;
  const subgroups = reduction === 'subgroups' && reducesAcrossWorkgroup(kernel) ? '/subgroups' : '';
  return `${kernel}/${elements}${subgroups}@${workgroupSize}/${variant.activation}/${variant.residual}${variant.saveStats ? '/save' : ''}`;
}

/** The pipeline of a kernel variant, compiled on its first use on this device only. */
export function kernelPipeline(
  device: GPUDevice,
  kernel: KernelName,
  elements: ElementKind,
  reduction: WorkgroupReduction,
  workgroupSize: number,
  epilogue: EpilogueVariant = NO_EPILOGUE,
): GPUComputePipeline {
  const kernels = deviceKernels(device);
  const key = pipelineKey(kernel, elements, reduction, workgroupSize, epilogue);
  let pipeline = kernels.pipelines.get(key);
  if (!pipeline) {
    const moduleKey = key.split('@')[0];
    const constants: Record<string, number> = { WORKGROUP_SIZE: workgroupSize };
    if (writesOutput(kernel)) {
      constants.ACTIVATION = ACTIVATION_CODES[epilogue.activation];
      constants.RESIDUAL = RESIDUAL_CODES[epilogue.residual];
      constants.SAVE_STATS = epilogue.saveStats ? 1 : 0;
    }
    let module = kernels.modules.get(moduleKey);
    if (!module) {
      module = device.createShaderModule({
        label: `InstanceNorm.${moduleKey}.module`,
        code: kernelSource(kernel, elements, reduction),
      });
      kernels.modules.set(moduleKey, module);
    }
    pipeline = device.createComputePipeline({
      label: `InstanceNorm.${key}.pipeline`,
      layout: kernels.pipelineLayout,
      compute: { module, entryPoint: 'main', constants },
    });
    kernels.pipelines.set(key, pipeline);
  }
  return pipeline;
}
