import * as tf from '@tensorflow/tfjs-core';

/** The parts of TF.js's WebGPU backend a benchmark needs: its device, and a way to flush its work. */
interface WebGpuBackend {
  readonly device: GPUDevice;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

/**
 * TF.js's WebGPU backend, made current: its device, and `done`, which submits what TF.js has
 * recorded and resolves once the GPU has finished it (what a timed TF.js call awaits).
 */
export async function tfjsWebGpu(): Promise<{ device: GPUDevice; done: () => Promise<unknown> }> {
  await tf.setBackend('webgpu');
  const backend = tf.backend() as unknown as WebGpuBackend;
  const done = () => {
    backend.ensureCommandEncoderReady();
    backend.endComputePassEncoder();
    backend.submitQueue();
    return backend.device.queue.onSubmittedWorkDone();
  };
  return { device: backend.device, done };
}
