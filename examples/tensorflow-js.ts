/**
 * Instance normalization of a TensorFlow.js tensor with `webgpu-instancenorm/tfjs`: the op takes
 * and returns `tf.Tensor`s in TF.js's conventions (channels last by default, γ and β as tensors),
 * runs as a registered TF.js kernel on TF.js's own WebGPU device and buffers (nothing copied or
 * read back), and is differentiable, so it trains like any TF.js op.
 */

import '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';
import { instanceNorm, instanceNormReady } from '../src/tfjs'; // 'webgpu-instancenorm/tfjs' in an app

export interface TfjsExampleResult {
  /** The intermediate TF.js tensor (relu of the input), read back only to check the example. */
  readonly intermediate: Float32Array;
  /** instanceNorm of it with γ and β, followed by a relu in the same pass. */
  readonly normalized: Float32Array;
  /** The TF.js backend it ran on. */
  readonly backend: string;
}

/**
 * @param input - a channels-last tensor's values, shape `[N, H, W, C]` (TF.js's layout).
 * @param gamma - C scale values; `beta`: C offsets.
 */
export async function normalizeTfjsTensor(
  input: Float32Array,
  shape: readonly number[],
  gamma: Float32Array,
  beta: Float32Array,
): Promise<TfjsExampleResult> {
  await tf.setBackend('webgpu');
  await instanceNormReady(); // optional: tf.ready() and the library's instance on TF.js's device ahead of the first call

  const x = tf.tensor(input, [...shape]);
  const intermediate = tf.relu(x);
  // Channels last is the default; epsilon 1e-5 here (the default is TF.js's and Keras's 1e-3).
  const normalized = tf.tidy(() =>
    instanceNorm(intermediate, { gamma: tf.tensor1d(gamma), beta: tf.tensor1d(beta), epsilon: 1e-5, activation: 'relu' }),
  );
  const result = {
    intermediate: (await intermediate.data()) as Float32Array,
    normalized: (await normalized.data()) as Float32Array,
    backend: tf.getBackend(),
  };
  tf.dispose([x, intermediate, normalized]);
  return result;
}
