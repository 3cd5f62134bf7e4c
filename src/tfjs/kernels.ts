import * as tf from '@tensorflow/tfjs-core';
import {
  adainCpu,
  InstanceNorm,
  InstanceNormError,
  type InstanceNormOptions,
  instanceNormBackwardCpu,
  instanceNormCpu,
} from '../index.js';
import type { BackwardAttrs, ForwardAttrs } from './options.js';

/** The name of the instance (and group) normalization kernel, as TF.js's profiler shows it. */
export const INSTANCE_NORM_KERNEL = 'webgpu-instancenorm:InstanceNorm';
/** The name of its backward kernel: dL/dx, and dL/dscale, dL/dbias, from dL/dy. */
export const INSTANCE_NORM_GRAD_KERNEL = 'webgpu-instancenorm:InstanceNormGrad';
/** The name of the AdaIN kernel. */
export const ADAIN_KERNEL = 'webgpu-instancenorm:AdaIn';

type AdaInAttrs = Omit<ForwardAttrs, 'groups' | 'hasScale' | 'hasBias' | 'perInstanceAffine'>;
type KernelArgs = { inputs: Record<string, tf.TensorInfo>; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap };
type Info = tf.TensorInfo;

/**
 * The parts of TF.js's WebGPUBackend (tfjs-backend-webgpu 4.x) that its own kernels use, and
 * these do: its device, a tensor's GPU buffer (`tensorMap.get(dataId).resource`), uploading a
 * tensor whose values are still on the CPU, an output allocated by its buffer manager, and
 * submitting the commands it has recorded so far. Declared here, not imported, so that the
 * declarations of this entry point need no tfjs-backend-webgpu.
 */
interface WebGpuBackendParts {
  device: GPUDevice;
  tensorMap: { get(dataId: Info['dataId']): { resource?: unknown } | undefined };
  uploadToGPU(dataId: Info['dataId']): void;
  makeTensorInfo(shape: number[], dtype: tf.DataType): Info;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  disposeData(dataId: Info['dataId'], force?: boolean): boolean;
}

// One InstanceNorm per TF.js device, made on its first use there (synchronously, so that the
// first call runs on the GPU too) and kept: its pipelines, parameter buffers and bind groups are
// cached per instance. null where the library cannot run on the device: the CPU path then.
const norms = new WeakMap<GPUDevice, InstanceNorm | null>();

/** The InstanceNorm of `device`, made on first use; null where the device is unsupported. */
export function normFor(device: GPUDevice): InstanceNorm | null {
  const known = norms.get(device);
  if (known !== undefined) return known;
  let norm: InstanceNorm | null = null;
  try {
    norm = InstanceNorm.createSync({ device });
  } catch (error) {
    if (!(error instanceof InstanceNormError && error.code === 'unsupported')) throw error;
  }
  norms.set(device, norm);
  return norm;
}

/** The backend's device, if it is TF.js's WebGPU backend. */
export function webGpuDeviceOf(backend: tf.KernelBackend): GPUDevice | undefined {
  const device = (backend as Partial<WebGpuBackendParts>).device;
  return typeof GPUDevice !== 'undefined' && device instanceof GPUDevice ? device : undefined;
}

function values(backend: tf.KernelBackend, t: Info | undefined): Float32Array | undefined {
  if (!t) return undefined;
  const v = backend.readSync(t.dataId);
  return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
}

function output(backend: tf.KernelBackend, y: Float32Array, shape: number[]): Info {
  return { dataId: backend.write(y, shape, 'float32'), shape, dtype: 'float32' };
}

function forwardOptions(a: ForwardAttrs): InstanceNormOptions {
  return {
    layout: a.layout,
    epsilon: a.epsilon,
    epsilonPlacement: a.epsilonPlacement,
    ...(a.groups ? { groups: a.groups } : {}),
    activation: a.activation,
    activationAlpha: a.activationAlpha,
    residualPosition: a.residualPosition,
  };
}

// The CPU kernels: the library's CPU implementation on the backend's values. They serve the
// 'cpu', 'wasm' and 'webgl' backends, and 'webgpu' until its InstanceNorm exists.

/** The forward kernel's inputs, those the attributes mark absent (placeholders) left out. */
function normalizationInputs(inputs: KernelArgs['inputs'], a: ForwardAttrs) {
  return {
    x: inputs.x,
    scale: a.hasScale ? inputs.scale : undefined,
    bias: a.hasBias ? inputs.bias : undefined,
    residual: a.hasResidual ? inputs.residual : undefined,
  };
}

function forwardCpu({ inputs, backend, attrs }: KernelArgs): Info {
  const a = attrs as unknown as ForwardAttrs;
  const { x, scale, bias, residual } = normalizationInputs(inputs, a);
  const y = instanceNormCpu(values(backend, x) as Float32Array, x.shape, {
    ...forwardOptions(a),
    scale: values(backend, scale),
    bias: values(backend, bias),
    residual: values(backend, residual),
  });
  return output(backend, y, x.shape);
}

function backwardCpu({ inputs, backend, attrs }: KernelArgs): Info[] {
  const a = attrs as unknown as BackwardAttrs;
  const { dy, x, scale, bias } = inputs;
  const result = instanceNormBackwardCpu(values(backend, dy) as Float32Array, values(backend, x) as Float32Array, x.shape, {
    layout: a.layout,
    epsilon: a.epsilon,
    epsilonPlacement: a.epsilonPlacement,
    ...(scale ? { scale: values(backend, scale) } : {}),
    ...(bias ? { bias: values(backend, bias) } : {}),
    ...(a.affine && !scale && !bias ? { affine: true } : {}),
  });
  const dx = output(backend, result.gradInput, x.shape);
  if (!a.affine) return [dx];
  const k = (result.gradScale as Float32Array).length;
  const affine = new Float32Array(2 * k);
  affine.set(result.gradScale as Float32Array);
  affine.set(result.gradBias as Float32Array, k);
  return [dx, output(backend, affine, [2, k])];
}

function adaInCpu({ inputs, backend, attrs }: KernelArgs): Info {
  const a = attrs as unknown as AdaInAttrs;
  const { content, style } = inputs;
  const residual = a.hasResidual ? inputs.residual : undefined;
  const y = adainCpu(
    values(backend, content) as Float32Array,
    content.shape,
    values(backend, style) as Float32Array,
    style.shape,
    {
      layout: a.layout,
      epsilon: a.epsilon,
      epsilonPlacement: a.epsilonPlacement,
      activation: a.activation,
      activationAlpha: a.activationAlpha,
      residualPosition: a.residualPosition,
      residual: values(backend, residual),
    },
  );
  return output(backend, y, content.shape);
}

// The WebGPU kernels: the library's encode() on TF.js's own device and buffers. The inputs are
// the tensors' own GPUBuffers, the outputs are allocated by TF.js's buffer manager (TF.js owns
// and releases them), and nothing is copied or read back. TF.js records its kernels into a
// command encoder of its own and submits it every few dispatches: it is submitted first, so
// that the work producing the inputs runs before ours, then ours is submitted at once, so that
// TF.js may release or reuse an input's buffer as soon as the caller disposes it.

function gpu(backend: tf.KernelBackend): { parts: WebGpuBackendParts; norm: InstanceNorm } | undefined {
  const device = webGpuDeviceOf(backend);
  const norm = device && normFor(device);
  return norm ? { parts: backend as unknown as WebGpuBackendParts, norm } : undefined;
}

function bufferOf(parts: WebGpuBackendParts, t: Info): GPUBuffer | undefined {
  parts.uploadToGPU(t.dataId);
  const resource = parts.tensorMap.get(t.dataId)?.resource;
  return resource instanceof GPUBuffer ? resource : undefined;
}

/**
 * Allocates the outputs, hands record() the inputs' buffers and the outputs', submits. Undefined
 * where a tensor is not in a GPUBuffer (an imported video frame's texture): the CPU path then.
 */
function onGpu(
  parts: WebGpuBackendParts,
  inputs: readonly (Info | undefined)[],
  outputs: readonly { shape: number[] }[],
  record: (encoder: GPUCommandEncoder, inputs: (GPUBuffer | undefined)[], outputs: GPUBuffer[]) => void,
): Info[] | undefined {
  const inputBuffers = inputs.map((t) => t && bufferOf(parts, t));
  if (inputs.some((t, i) => t && !inputBuffers[i])) return undefined;
  const infos = outputs.map(({ shape }) => parts.makeTensorInfo(shape, 'float32'));
  try {
    const outputBuffers = infos.map((info) => bufferOf(parts, info) as GPUBuffer);
    parts.ensureCommandEncoderReady();
    parts.endComputePassEncoder();
    parts.submitQueue();
    const encoder = parts.device.createCommandEncoder({ label: 'webgpu-instancenorm/tfjs' });
    record(encoder, inputBuffers, outputBuffers);
    parts.device.queue.submit([encoder.finish()]);
  } catch (error) {
    for (const info of infos) parts.disposeData(info.dataId, true);
    throw error;
  }
  return infos;
}

function forwardWebGpu(args: KernelArgs): Info {
  const on = gpu(args.backend);
  const a = args.attrs as unknown as ForwardAttrs;
  const { x, scale, bias, residual } = normalizationInputs(args.inputs, a);
  const done =
    on &&
    onGpu(on.parts, [x, scale, bias, residual], [x], (encoder, [input, s, b, r], [y]) =>
      on.norm.encode(encoder, input as GPUBuffer, y, x.shape, {
        ...forwardOptions(a),
        ...(s ? { scale: s } : {}),
        ...(b ? { bias: b } : {}),
        ...(r ? { residual: r } : {}),
        ...(a.perInstanceAffine ? { perInstanceAffine: true } : {}),
      }),
    );
  return done ? done[0] : forwardCpu(args);
}

function backwardWebGpu(args: KernelArgs): Info[] {
  const on = gpu(args.backend);
  const a = args.attrs as unknown as BackwardAttrs;
  const { dy, x, scale, bias } = args.inputs;
  const k = a.perInstanceAffine ? x.shape[0] * channels(x.shape, a) : channels(x.shape, a);
  const done =
    on &&
    onGpu(
      on.parts,
      [dy, x, scale, bias],
      a.affine ? [x, { shape: [2, k] }] : [x],
      (encoder, [gradOutput, input, s, b], [gradInput, gradAffine]) =>
        on.norm.encodeBackward(
          encoder,
          { gradOutput: gradOutput as GPUBuffer, input: input as GPUBuffer, gradInput, gradAffine },
          x.shape,
          {
            layout: a.layout,
            epsilon: a.epsilon,
            epsilonPlacement: a.epsilonPlacement,
            ...(s ? { scale: s } : {}),
            ...(b ? { bias: b } : {}),
            ...(a.affine && !s && !b ? { affine: true } : {}),
            ...(a.perInstanceAffine ? { perInstanceAffine: true } : {}),
          },
        ),
    );
  return done ?? backwardCpu(args);
}

function adaInWebGpu(args: KernelArgs): Info {
  const on = gpu(args.backend);
  const a = args.attrs as unknown as AdaInAttrs;
  const { content, style } = args.inputs;
  const residual = a.hasResidual ? args.inputs.residual : undefined;
  const done =
    on &&
    onGpu(on.parts, [content, style, residual], [content], (encoder, [c, s, r], [y]) =>
      on.norm.encodeAdain(encoder, c as GPUBuffer, s as GPUBuffer, y, content.shape, style.shape, {
        layout: a.layout,
        epsilon: a.epsilon,
        epsilonPlacement: a.epsilonPlacement,
        activation: a.activation,
        activationAlpha: a.activationAlpha,
        residualPosition: a.residualPosition,
        ...(r ? { residual: r } : {}),
      }),
    );
  return done ? done[0] : adaInCpu(args);
}

function channels(shape: readonly number[], a: { layout: string }): number {
  return a.layout === 'nhwc' ? shape[shape.length - 1] : shape[1];
}

/** The backends that get the CPU kernels when this module is imported. */
export const CPU_KERNEL_BACKENDS = ['cpu', 'wasm', 'webgl', 'tensorflow'] as const;

/**
 * Registers this entry point's kernels for a TF.js backend: the WebGPU kernels for `'webgpu'`,
 * the CPU implementation (reading the backend's values, writing a new tensor) for any other.
 * Done on import for `'webgpu'` and {@link CPU_KERNEL_BACKENDS}; call it for a backend of
 * another name.
 *
 * @example
 * registerKernelsFor('my-backend');
 */
export function registerKernelsFor(backendName: string): void {
  const webgpu = backendName === 'webgpu';
  const kernels: [string, tf.KernelFunc][] = [
    [INSTANCE_NORM_KERNEL, (webgpu ? forwardWebGpu : forwardCpu) as unknown as tf.KernelFunc],
    [INSTANCE_NORM_GRAD_KERNEL, (webgpu ? backwardWebGpu : backwardCpu) as unknown as tf.KernelFunc],
    [ADAIN_KERNEL, (webgpu ? adaInWebGpu : adaInCpu) as unknown as tf.KernelFunc],
  ];
  for (const [kernelName, kernelFunc] of kernels) {
    if (!tf.getKernel(kernelName, backendName)) tf.registerKernel({ kernelName, backendName, kernelFunc });
  }
}
