import type { Activation, ResidualPosition } from '../core/options.js';
import type { ElementKind, KernelName, WorkgroupReduction } from './planner.js';
import { kernelSource, reducesAcrossWorkgroup, writesOutput } from './shader-sources.js';

/**
 * The compiled variant of what the normalizing kernels do besides normalizing: the epilogue's
 * override constants (shaders/epilogue.wgsl), SAVE_STATS of the fused kernels
 * (shaders/normalize-range.wgsl), and GROUPED, their unit a GroupNorm group
 * (shaders/instance-params.wgsl; false compiles instance norm's loops away).
 */
export interface EpilogueVariant {
  readonly activation: Activation;
  readonly residual: ResidualPosition | 'none';
  readonly saveStats: boolean;
  readonly grouped?: boolean;
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
  /** The error scopes of creations not yet resolved (see kernelPipeline): each gives its error, or null. */
  readonly validations: Set<Promise<GPUError | null>>;
  /** Creations that failed, newest last (at most 16 kept): the key and the device's message. */
  readonly failures: { readonly key: string; readonly message: string }[];
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

/** Storage buffers in the bind group layout every pass shares: all of BINDINGS but the uniform params. */
export const STORAGE_BUFFERS_PER_PASS = Object.keys(BINDINGS).length - 1;

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
      validations: new Set(),
      failures: [],
    };
    kernelsByDevice.set(device, kernels);
  }
  return kernels;
}

/**
 * Cache key of a pipeline: `<kernel>/<elements>[/subgroups]@<workgroupSize>/<activation>/<residual>[/save][/grouped]`,
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
  const flags = `${variant.saveStats ? '/save' : ''}${variant.grouped ? '/grouped' : ''}`;
  return `${kernel}/${elements}${subgroups}@${workgroupSize}/${variant.activation}/${variant.residual}${flags}`;
}

/**
 * The pipeline of a kernel variant, compiled on its first use on this device only. A creation
 * that fails (a shader the implementation rejects, a limit it exceeds) is not kept: its error
 * scopes resolve after the call, and then evict the pipeline (and its module, when that failed
 * too), so the next call compiles it afresh rather than failing on a cached invalid object. The
 * failed call itself fails where the invalid pipeline is used: at the encoder's finish(), with
 * an error that names the pipeline's label; failures() keeps the device's own message.
 */
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
  const cached = kernels.pipelines.get(key);
  if (cached) return cached;
  const moduleKey = key.split('@')[0];
  const constants: Record<string, number> = { WORKGROUP_SIZE: workgroupSize };
  if (writesOutput(kernel)) {
    constants.ACTIVATION = ACTIVATION_CODES[epilogue.activation];
    constants.RESIDUAL = RESIDUAL_CODES[epilogue.residual];
    constants.SAVE_STATS = epilogue.saveStats ? 1 : 0;
    constants.GROUPED = epilogue.grouped ? 1 : 0;
  }
  device.pushErrorScope('internal');
  device.pushErrorScope('validation');
  let module = kernels.modules.get(moduleKey);
  if (!module) {
    module = device.createShaderModule({
      label: `InstanceNorm.${moduleKey}.module`,
      code: kernelSource(kernel, elements, reduction),
    });
    kernels.modules.set(moduleKey, module);
  }
  const pipeline = device.createComputePipeline({
    label: `InstanceNorm.${key}.pipeline`,
    layout: kernels.pipelineLayout,
    compute: { module, entryPoint: 'main', constants },
  });
  kernels.pipelines.set(key, pipeline);
  const scopes = [device.popErrorScope(), device.popErrorScope()];
  const usedModule = module;
  const validation: Promise<GPUError | null> = Promise.all(scopes).then(
    ([validationError, internalError]) => {
      kernels.validations.delete(validation);
      const error = validationError ?? internalError;
      if (!error) return null;
      if (kernels.pipelines.get(key) === pipeline) kernels.pipelines.delete(key);
      // The module may be at fault (a shader this implementation rejects): compiled again with the pipeline.
      if (kernels.modules.get(moduleKey) === usedModule) kernels.modules.delete(moduleKey);
      kernels.failures.push({ key, message: error.message });
      if (kernels.failures.length > 16) kernels.failures.shift();
      return error;
    },
    () => {
      kernels.validations.delete(validation); // the device was lost: its caches go with it
      return null;
    },
  );
  kernels.validations.add(validation);
  return pipeline;
}

/**
 * The first error of the pipeline creations still being validated on this device, or null: what
 * an encode() that created pipelines reports through checkErrors() and the next call.
 */
export function pendingPipelineError(device: GPUDevice): Promise<GPUError | null> | undefined {
  const { validations } = deviceKernels(device);
  // Once every pipeline in use is validated (the common case), nothing to wait for.
  if (validations.size === 0) return undefined;
  return Promise.all(validations).then((errors) => errors.find((error) => error !== null) ?? null);
}

/**
 * Waits for the pipelines created so far on this device to be validated, and returns the
 * creations that failed (each evicted from the cache), newest last.
 */
export async function pipelineFailures(
  device: GPUDevice,
): Promise<readonly { readonly key: string; readonly message: string }[]> {
  const kernels = deviceKernels(device);
  while (kernels.validations.size > 0) await Promise.all(kernels.validations);
  return [...kernels.failures];
}
