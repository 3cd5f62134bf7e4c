/**
 * ONNX Runtime Web with this library, two ways.
 *
 * 1. A whole model through `webgpu-instancenorm/onnxruntime`: `createSession(ort, model, options)`
 *    in place of `ort.InferenceSession.create(model, options)`. The model's InstanceNormalization
 *    and GroupNorm nodes (with the Relu, LeakyRelu, SiLU or residual Add after them) run on this
 *    library's kernels, the rest on ORT's WebGPU EP, on ORT's GPUDevice; `run()` gives what ORT
 *    would give, and `plan()` says what ran where.
 * 2. By hand, for what createSession does not take over (an AdaIN between two models, a norm your
 *    own code adds): ORT's WebGPU EP publishes its GPUDevice on `ort.env.webgpu.device`; an
 *    InstanceNorm on that device reads ORT's output buffer and writes a buffer ORT (or the app)
 *    uses next, without a round trip through the CPU.
 */
import * as ort from 'onnxruntime-web/webgpu';
import { InstanceNorm } from '../src';
import { createSession, type OnnxSessionPlan } from '../src/onnxruntime'; // 'webgpu-instancenorm/onnxruntime' in an app
import { oneNodeModel } from './one-node-onnx-model';

export interface SplicedExampleResult {
  /** The model's first output, on the CPU as ORT gives it by default. */
  readonly output: Float32Array;
  /** The same run with the output left on the GPU (`preferredOutputLocation: 'gpu-buffer'`), read back. */
  readonly outputFromGpu: Float32Array;
  /** What ran where. */
  readonly plan: OnnxSessionPlan;
}

/**
 * Runs an image model (a fast-neural-style network: one input [1, 3, H, W]) through ORT with its
 * normalizations taken over by this library. `model`: the .onnx file's bytes or URL;
 * `wasmPaths`: where ORT's .wasm files are served.
 */
export async function runModelWithLibrary(
  model: string | Uint8Array,
  pixels: Float32Array,
  dims: readonly number[],
  wasmPaths: string,
): Promise<SplicedExampleResult> {
  ort.env.wasm.wasmPaths = wasmPaths;
  const options = { executionProviders: ['webgpu'] };

  // was: const session = await ort.InferenceSession.create(model, options);
  const session = await createSession(ort, model, options);
  const input = new ort.Tensor('float32', pixels, dims);
  const outputs = await session.run({ [session.inputNames[0]]: input });
  const output = outputs[session.outputNames[0]].data as Float32Array;
  const plan = session.plan();
  await session.release();

  // Outputs left on the GPU, for a next model or a WebGPU canvas: the caller's to dispose.
  const onGpu = await createSession(ort, model, { ...options, preferredOutputLocation: 'gpu-buffer' });
  const gpuOutputs = await onGpu.run({ [onGpu.inputNames[0]]: input });
  const tensor = gpuOutputs[onGpu.outputNames[0]]; // tensor.gpuBuffer: a GPUBuffer on ORT's device
  const outputFromGpu = (await tensor.getData()) as Float32Array;
  tensor.dispose();
  await onGpu.release();
  return { output, outputFromGpu, plan };
}

export interface OrtExampleResult {
  /** What ORT's model produced (Relu of the input), read back only to check the example. */
  readonly modelOutput: Float32Array;
  /** InstanceNorm of the model's output, computed on ORT's device. */
  readonly normalized: Float32Array;
}

/**
 * By hand: runs a one-node Relu model on ORT's WebGPU EP with its output left on the GPU,
 * normalizes that GPU buffer with InstanceNorm, and hands the result back to ORT as a GPU tensor.
 * `wasmPaths`: where ORT's .wasm files are served.
 */
export async function normalizeOrtOutput(
  input: Float32Array,
  shape: readonly number[],
  scale: Float32Array,
  bias: Float32Array,
  wasmPaths: string,
): Promise<OrtExampleResult> {
  ort.env.wasm.wasmPaths = wasmPaths;
  const model = oneNodeModel({ opType: 'Relu', inputs: [{ name: 'X', dims: shape }], output: { name: 'Y', dims: shape } });
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['webgpu'],
    preferredOutputLocation: 'gpu-buffer',
  });
  const device = await ort.env.webgpu.device;
  const norm = await InstanceNorm.create({ device });

  const { Y } = await session.run({ X: new ort.Tensor('float32', input, shape) });
  const normalizedBuffer = device.createBuffer({
    label: 'example.normalized',
    size: input.byteLength,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const encoder = device.createCommandEncoder();
  norm.encode(encoder, Y.gpuBuffer, normalizedBuffer, shape, { scale, bias });
  device.queue.submit([encoder.finish()]);
  await norm.checkErrors();

  // The next model (or ORT's own ops) can take the normalized buffer as a GPU tensor; `download`
  // is how ORT reads it back when asked to.
  const normalizedTensor = ort.Tensor.fromGpuBuffer(normalizedBuffer, {
    dataType: 'float32',
    dims: shape,
    download: () => readBack(device, normalizedBuffer, input.length),
  });
  const result = {
    modelOutput: (await Y.getData()) as Float32Array,
    normalized: (await normalizedTensor.getData()) as Float32Array,
  };
  // ORT's output goes back to ORT's buffer cache only now, after the commands reading it were submitted.
  Y.dispose();
  normalizedBuffer.destroy();
  norm.destroy();
  await session.release();
  return result;
}

async function readBack(device: GPUDevice, buffer: GPUBuffer, length: number): Promise<Float32Array<ArrayBuffer>> {
  const staging = device.createBuffer({ size: length * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, 0, staging, 0, length * 4);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const data = new Float32Array(staging.getMappedRange().slice(0));
  staging.destroy();
  return data;
}
