/**
 * Normalizing an ONNX Runtime Web model's output on the GPU, without a round trip through the
 * CPU: ORT's WebGPU EP makes its own GPUDevice and publishes it on `ort.env.webgpu.device`;
 * InstanceNorm works on that device, reading ORT's output buffer and writing a buffer that ORT
 * (or the app) uses next.
 */
import * as ort from 'onnxruntime-web/webgpu';
import { InstanceNorm } from '../src';
import { oneNodeModel } from './one-node-onnx-model';

export interface OrtExampleResult {
  /** What ORT's model produced (Relu of the input), read back only to check the example. */
  readonly modelOutput: Float32Array;
  /** InstanceNorm of the model's output, computed on ORT's device. */
  readonly normalized: Float32Array;
}

/**
 * Runs a one-node Relu model on ORT's WebGPU EP with its output left on the GPU, normalizes that
 * GPU buffer with InstanceNorm, and hands the result back to ORT as a GPU tensor.
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
