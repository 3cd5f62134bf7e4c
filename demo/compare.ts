/**
 * "Compare on your device": the same normalization through this library, ONNX Runtime Web and
 * TensorFlow.js, timed on the visitor's GPU, and each one's error on an input whose mean lies far
 * from zero; and TF.js calling this library's op from its TF.js entry point. Loaded by a dynamic
 * import() when the section is opened: it carries the peers.
 */
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import * as ort from 'onnxruntime-web/webgpu';
import { type InstanceNorm, type InstanceNormOptions, instanceNormCpu } from '../src';
import {
  INSTANCE_NORM_KERNEL,
  instanceNormReady,
  registerKernelsFor,
  groupNorm as tfjsGroupNorm,
  instanceNorm as tfjsInstanceNorm,
} from '../src/tfjs';
import { type CaseKind, type CompareCase, EPSILON } from './compare-cases';
import { groupNormSiluModel, instanceNormModel } from './onnx-models';

/** The tensors of one case, the same for every side. */
interface CaseData {
  readonly x: Float32Array<ArrayBuffer>;
  readonly scale: Float32Array<ArrayBuffer>;
  readonly bias: Float32Array<ArrayBuffer>;
}

/** One side, set up for one case. */
export interface Prepared {
  /** One call, awaited until its GPU work is done; the output stays where the side keeps it. */
  call(): Promise<void>;
  /** One call, read back to the CPU. */
  read(): Promise<Float32Array>;
  release(): Promise<void>;
}

export interface Side {
  readonly id: string;
  readonly label: string;
  /** For the chart's legend. */
  readonly short: string;
  readonly color: string;
  /** Why it does not run here, or undefined if it does. */
  readonly unavailable?: string;
  /** It computes with the CPU reference itself: comparing it with the reference would prove nothing. */
  readonly isReference?: boolean;
  prepare(c: CompareCase, data: CaseData): Promise<Prepared>;
}

/** Versions of the peers, for the page. */
export const PEER_VERSIONS = { ort: ort.env.versions.web ?? '?', tfjs: tf.version_core };

/** The sides on this page: with WebGPU the three GPU paths; without it, the CPU ones there are. */
export function makeSides(norm: InstanceNorm): Side[] {
  ort.env.wasm.numThreads = 1; // threads need a cross-origin-isolated page, which a static host seldom gives
  ort.env.wasm.wasmPaths = { wasm: ortWasmUrl };
  const gpu = norm.device !== undefined;
  return [
    {
      id: 'ours',
      label: gpu ? 'webgpu-instancenorm (WebGPU)' : 'webgpu-instancenorm (CPU fallback)',
      short: 'webgpu-instancenorm',
      color: '#d62728',
      isReference: !gpu,
      prepare: (c, data) => (gpu ? oursOnGpu(norm, c, data) : oursOnCpu(norm, c, data)),
    },
    {
      id: 'ort',
      label: gpu ? `ONNX Runtime Web ${PEER_VERSIONS.ort} (WebGPU EP)` : `ONNX Runtime Web ${PEER_VERSIONS.ort} (wasm EP, CPU)`,
      short: 'ONNX Runtime Web',
      color: '#2ca02c',
      prepare: (c, data) => ortSide(c, data, gpu),
    },
    {
      id: 'tfjs',
      label: `TensorFlow.js ${PEER_VERSIONS.tfjs} (WebGPU backend)`,
      short: 'TensorFlow.js',
      color: '#ff7f0e',
      unavailable: gpu ? undefined : 'not run: its WebGPU backend needs WebGPU, which this browser lacks',
      prepare: (c, data) => tfjsSide(c, data, tfjsComposition),
    },
    {
      id: 'tfjs-library',
      label: `TensorFlow.js ${PEER_VERSIONS.tfjs} + this library's op (webgpu-instancenorm/tfjs)`,
      short: 'TF.js + this library',
      color: '#9467bd',
      unavailable: gpu ? undefined : 'not run: TF.js has no WebGPU backend here, and its other backends are not bundled',
      prepare: (c, data) => tfjsSide(c, data, tfjsLibraryOp),
    },
  ];
}

function libraryOptions(c: CompareCase, scale: Float32Array | GPUBuffer, bias: Float32Array | GPUBuffer): InstanceNormOptions {
  return c.kind === 'instance-norm'
    ? { epsilon: EPSILON, scale, bias }
    : { epsilon: EPSILON, scale, bias, groups: c.groups, activation: 'silu' };
}

async function oursOnGpu(norm: InstanceNorm, c: CompareCase, data: CaseData): Promise<Prepared> {
  const device = norm.device as GPUDevice;
  const input = upload(device, data.x);
  const scale = upload(device, data.scale);
  const bias = upload(device, data.bias);
  const output = device.createBuffer({
    label: 'demo.compare.output',
    size: data.x.byteLength,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const options = libraryOptions(c, scale, bias);
  const record = () => {
    const encoder = device.createCommandEncoder();
    norm.encode(encoder, input, output, c.shape, options);
    return encoder;
  };
  return {
    async call() {
      device.queue.submit([record().finish()]);
      await device.queue.onSubmittedWorkDone();
    },
    async read() {
      const readback = device.createBuffer({ size: data.x.byteLength, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const encoder = record();
      encoder.copyBufferToBuffer(output, 0, readback, 0, data.x.byteLength);
      device.queue.submit([encoder.finish()]);
      await norm.checkErrors();
      await readback.mapAsync(GPUMapMode.READ);
      const y = new Float32Array(readback.getMappedRange().slice(0));
      readback.destroy();
      return y;
    },
    async release() {
      await norm.checkErrors();
      for (const b of [input, scale, bias, output]) b.destroy();
    },
  };
}

async function oursOnCpu(norm: InstanceNorm, c: CompareCase, data: CaseData): Promise<Prepared> {
  const options = libraryOptions(c, data.scale, data.bias);
  const read = () => norm.run(data.x, c.shape, options);
  return { call: async () => void (await read()), read, release: async () => {} };
}

async function ortSide(c: CompareCase, data: CaseData, gpu: boolean): Promise<Prepared> {
  const model = c.kind === 'instance-norm' ? instanceNormModel(c.shape, EPSILON) : groupNormSiluModel(c.shape, c.groups, EPSILON);
  const affineDims = c.kind === 'instance-norm' ? [c.shape[1]] : [c.shape[1], 1, 1];
  const dims = [...c.shape];
  if (!gpu) {
    const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
    const feeds = {
      X: new ort.Tensor('float32', data.x, dims),
      scale: new ort.Tensor('float32', data.scale, affineDims),
      B: new ort.Tensor('float32', data.bias, affineDims),
    };
    const read = async () => (await session.run(feeds)).Y.data as Float32Array;
    return { call: async () => void (await read()), read, release: () => session.release() };
  }
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['webgpu'],
    preferredOutputLocation: 'gpu-buffer',
  });
  const device = await ort.env.webgpu.device;
  const buffers = [upload(device, data.x), upload(device, data.scale), upload(device, data.bias)];
  const feeds = {
    X: ort.Tensor.fromGpuBuffer(buffers[0], { dataType: 'float32', dims }),
    scale: ort.Tensor.fromGpuBuffer(buffers[1], { dataType: 'float32', dims: affineDims }),
    B: ort.Tensor.fromGpuBuffer(buffers[2], { dataType: 'float32', dims: affineDims }),
  };
  return {
    async call() {
      const { Y } = await session.run(feeds);
      await device.queue.onSubmittedWorkDone();
      Y.dispose();
    },
    async read() {
      const { Y } = await session.run(feeds);
      const y = (await Y.getData()) as Float32Array;
      Y.dispose();
      return y;
    },
    async release() {
      await session.release();
      for (const b of buffers) b.destroy();
    },
  };
}

let tfjsBackend: Promise<WebGPUBackend> | undefined;

/** The tensors of one case on TF.js, NCHW: x, and scale and bias as [1, C, 1, 1] and as [C]. */
interface TfjsTensors {
  readonly x: tf.Tensor4D;
  readonly scale4d: tf.Tensor4D;
  readonly bias4d: tf.Tensor4D;
  readonly scale: tf.Tensor1D;
  readonly bias: tf.Tensor1D;
}

/**
 * TF.js has no instance or group norm op: the composition a TF.js model uses, in NCHW (the
 * reduced axes innermost, so tf.moments reduces without a transpose).
 */
function tfjsComposition(c: CompareCase, t: TfjsTensors): tf.Tensor {
  const [n, channels, h, w] = c.shape;
  if (c.kind === 'instance-norm') {
    const { mean, variance } = tf.moments(t.x, [2, 3], true);
    return tf.batchNorm(t.x, mean, variance, t.bias4d, t.scale4d, EPSILON);
  }
  const grouped = tf.reshape(t.x, [n, c.groups, (channels / c.groups) * h * w]);
  const { mean, variance } = tf.moments(grouped, 2, true);
  const normalized = tf.reshape(tf.batchNorm(grouped, mean, variance, undefined, undefined, EPSILON), [n, channels, h, w]);
  const affine = tf.add(tf.mul(normalized, t.scale4d), t.bias4d);
  return tf.mul(affine, tf.sigmoid(affine));
}

/** This library's TF.js entry point: one op, run by the library on TF.js's device and buffers. */
function tfjsLibraryOp(c: CompareCase, t: TfjsTensors): tf.Tensor {
  const options = { scale: t.scale, bias: t.bias, epsilon: EPSILON, dataFormat: 'channelsFirst' as const };
  return c.kind === 'instance-norm'
    ? tfjsInstanceNorm(t.x, options)
    : tfjsGroupNorm(t.x, c.groups, { ...options, activation: 'silu' });
}

async function tfjsSide(c: CompareCase, data: CaseData, op: (c: CompareCase, t: TfjsTensors) => tf.Tensor): Promise<Prepared> {
  tfjsBackend ??= tf
    .setBackend('webgpu')
    .then((ok) => {
      if (!ok) throw new Error('TF.js could not start its WebGPU backend');
      // The entry point registers its kernels at the top of its module; bundled from src/, which
      // the package's "sideEffects" does not name, those calls are tree-shaken: registered here.
      if (!tf.getKernel(INSTANCE_NORM_KERNEL, 'webgpu')) registerKernelsFor('webgpu');
      return instanceNormReady(); // tf.ready(), and the library's instance on TF.js's device
    })
    .then(() => tf.backend() as WebGPUBackend);
  const backend = await tfjsBackend;
  const channels = c.shape[1];
  const t: TfjsTensors = {
    x: tf.tensor4d(data.x, [...c.shape]),
    scale4d: tf.tensor4d(data.scale, [1, channels, 1, 1]),
    bias4d: tf.tensor4d(data.bias, [1, channels, 1, 1]),
    scale: tf.tensor1d(data.scale),
    bias: tf.tensor1d(data.bias),
  };
  const compute = (): tf.Tensor => tf.tidy(() => op(c, t));
  return {
    async call() {
      const y = compute();
      // What TF.js itself does before it reads: end its open compute pass, submit its encoder
      // (made first if the op left none, as the library's kernel does after submitting it).
      backend.ensureCommandEncoderReady();
      backend.endComputePassEncoder();
      backend.submitQueue();
      await backend.device.queue.onSubmittedWorkDone();
      y.dispose();
    },
    async read() {
      const y = compute();
      const values = (await y.data()) as Float32Array;
      y.dispose();
      return values;
    },
    async release() {
      tf.dispose(Object.values(t));
    },
  };
}

function upload(device: GPUDevice, data: Float32Array<ArrayBuffer>): GPUBuffer {
  const buffer = device.createBuffer({
    label: 'demo.compare.input',
    size: data.byteLength,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
  });
  device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

/** A deterministic input: `offset + spread · noise` (noise of mean 0 and std about 1), scale and bias per channel. */
export function caseData(c: CompareCase, offset: number, spread: number): CaseData {
  let state = 12345;
  const uniform = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const count = c.shape.reduce((a, b) => a * b, 1);
  // Sum of four uniforms, centred and scaled to unit variance: close enough to normal here.
  const x = Float32Array.from(
    { length: count },
    () => offset + spread * (uniform() + uniform() + uniform() + uniform() - 2) * Math.sqrt(3),
  );
  const channels = c.shape[1];
  const scale = Float32Array.from({ length: channels }, () => 0.5 + uniform());
  const bias = Float32Array.from({ length: channels }, () => uniform() - 0.5);
  return { x, scale, bias };
}

/** The probe's shapes: small, so the float64 reference is quick. */
export const PROBE_CASES: Record<CaseKind, CompareCase> = {
  'instance-norm': { id: 'probe-in', kind: 'instance-norm', shape: [1, 16, 64, 64], groups: 16, checked: true },
  'group-norm-silu': { id: 'probe-gn', kind: 'group-norm-silu', shape: [1, 64, 32, 32], groups: 32, checked: true },
};

/** Largest |y − reference|; NaN if y holds a NaN (Math.max would hide it only if compared the other way). */
export function probeError(c: CompareCase, data: CaseData, y: Float32Array): number {
  const reference = instanceNormCpu(
    data.x,
    c.shape,
    c.kind === 'instance-norm'
      ? { epsilon: EPSILON, scale: data.scale, bias: data.bias }
      : { epsilon: EPSILON, scale: data.scale, bias: data.bias, groups: c.groups, activation: 'silu' },
  );
  if (y.length !== reference.length) return Number.NaN;
  let worst = 0;
  for (let i = 0; i < y.length; i++) {
    const d = Math.abs(y[i] - reference[i]);
    if (Number.isNaN(d)) return Number.NaN;
    worst = Math.max(worst, d);
  }
  return worst;
}
