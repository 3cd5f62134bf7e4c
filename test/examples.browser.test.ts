import { describe, expect, it } from 'vitest';
import { normalizeOrtOutput } from '../examples/onnx-runtime-web';
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
