import * as ort from 'onnxruntime-web/webgpu';

/**
 * ORT's WebGPU EP on an in-memory model whose inputs `X`, `scale` and `B` are GPU buffers (dims
 * of scale and B as given) and whose output `Y` stays on the GPU: a call runs the session and
 * awaits the GPU. One call made here, untimed, so that a failure shows before the timing.
 */
export async function ortWebGpuSide(
  model: Uint8Array,
  dims: readonly number[],
  affineDims: readonly number[],
  buffers: { readonly input: GPUBuffer; readonly scale: GPUBuffer; readonly bias: GPUBuffer },
  idle: () => Promise<unknown>,
): Promise<{ run: () => Promise<void>; release: () => Promise<void> }> {
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['webgpu'],
    preferredOutputLocation: 'gpu-buffer',
  });
  const feeds = {
    X: ort.Tensor.fromGpuBuffer(buffers.input, { dataType: 'float32', dims }),
    scale: ort.Tensor.fromGpuBuffer(buffers.scale, { dataType: 'float32', dims: affineDims }),
    B: ort.Tensor.fromGpuBuffer(buffers.bias, { dataType: 'float32', dims: affineDims }),
  };
  const run = async () => {
    const result = await session.run(feeds);
    await idle();
    result.Y.dispose();
  };
  await run();
  return { run, release: () => session.release() };
}
