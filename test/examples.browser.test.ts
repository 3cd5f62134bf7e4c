import * as ort from 'onnxruntime-web/webgpu';
import { describe, expect, it } from 'vitest';
import { normalizeOrtOutput, runModelWithLibrary } from '../examples/onnx-runtime-web';
import { normalizeTfjsTensor } from '../examples/tensorflow-js';
import { referenceInstanceNorm } from '../src/reference/float64-reference';
import { expectClose } from './helpers/compare';
import { randomNormal, randomUniform } from './helpers/random';

const shape = [2, 3, 17, 20];
const input = randomNormal(2 * 3 * 17 * 20, 77, 0.3, 2);
const scale = randomUniform(3, 78, 0.5, 2);
const bias = randomUniform(3, 79, -1, 1);
const relu = (x: Float32Array) => x.map((v) => Math.max(v, 0));

describe('examples/: sharing the GPUDevice of an ML framework', () => {
  it('ONNX Runtime Web, a whole model: createSession runs the seeded TransformerNet with its 15 norms on the library, as ORT’s wasm EP does', async () => {
    const model = '/test/fixtures/onnx/transformer-net.onnx';
    const dims = [1, 3, 16, 16];
    const pixels = randomUniform(3 * 16 * 16, 80, 0, 255);
    const { output, outputFromGpu, plan } = await runModelWithLibrary(model, pixels, dims, '/node_modules/onnxruntime-web/dist/');
    expect(plan.mode).toBe('spliced');
    expect(plan.steps.filter((s) => s.runs === 'library')).toHaveLength(15);
    const alone = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
    const expected = (await alone.run({ input: new ort.Tensor('float32', pixels, dims) })).output.data as Float32Array;
    await alone.release();
    const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expectClose(output, expected, 1e-4 * scale, 1e-4);
    expect(Array.from(outputFromGpu)).toEqual(Array.from(output));
  });

  it('ONNX Runtime Web: its model output buffer is normalized on its device and handed back as a GPU tensor', async () => {
    const { modelOutput, normalized } = await normalizeOrtOutput(
      input,
      shape,
      scale,
      bias,
      '/node_modules/onnxruntime-web/dist/',
    );
    expectClose(modelOutput, relu(input), 0);
    expectClose(normalized, referenceInstanceNorm(relu(input), shape, { scale, bias }), 1e-4);
  });

  it("TensorFlow.js: webgpu-instancenorm/tfjs's op on a channels-last tensor of TF.js's WebGPU backend, with γ, β and a fused relu", async () => {
    const tfjsShape = [2, 17, 20, 3]; // [N, H, W, C], as TF.js holds images
    const { intermediate, normalized, backend } = await normalizeTfjsTensor(input, tfjsShape, scale, bias);
    expect(backend).toBe('webgpu');
    expectClose(intermediate, relu(input), 0);
    const expected = referenceInstanceNorm(relu(input), tfjsShape, { layout: 'nhwc', scale, bias, activation: 'relu' });
    expectClose(normalized, expected, 1e-4);
    expect(normalized).toHaveLength(input.length);
  });
});
