import * as tf from '@tensorflow/tfjs-core';
import { ADAIN_KERNEL, INSTANCE_NORM_KERNEL, normFor, webGpuDeviceOf } from './kernels.js';
import {
  type AdaInOpOptions,
  channelsOf,
  checkedAdaIn,
  checkedGroups,
  checkedInput,
  checkedNormalization,
  type GroupNormOpOptions,
  type InstanceNormOpOptions,
  layoutOf,
} from './options.js';

function runNormalization(x: tf.Tensor, groups: number, options: unknown): tf.Tensor {
  const created: tf.Tensor[] = [];
  try {
    const { inputs, attrs } = checkedNormalization(x, groups, options, created);
    return tf.engine().runKernel(INSTANCE_NORM_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  } finally {
    tf.dispose(created);
  }
}

/**
 * Instance normalization of a TF.js tensor: for every image n and channel c, the mean and
 * biased variance over the spatial positions, then `y = (x − mean) / sqrt(var + epsilon) · γ[c] + β[c]`,
 * and the optional activation and residual in the same pass. A registered TF.js kernel: on the
 * `'webgpu'` backend it runs on TF.js's own device and buffers, elsewhere on the library's CPU
 * implementation; `tf.grad`, `optimizer.minimize` and `model.fit` differentiate it (x, γ, β,
 * the residual).
 *
 * @param x - float32, rank 3 to 5: `[N, ...spatial, C]` (`dataFormat: 'channelsLast'`, the
 *   default) or `[N, C, ...spatial]` (`'channelsFirst'`).
 * @returns a new tensor of x's shape.
 * @throws InstanceNormError naming the argument or option at fault.
 *
 * @example
 * const y = instanceNorm(x, { gamma, beta, activation: 'relu' }); // x: [1, 64, 64, 32]
 */
export function instanceNorm(x: tf.Tensor, options?: InstanceNormOpOptions): tf.Tensor {
  checkedInput(x, 'x');
  return runNormalization(x, 0, options);
}

/**
 * Group normalization: as {@link instanceNorm}, over groups of C / G adjacent channels and every
 * spatial position (G = C is instance norm, G = 1 layer norm over channels and positions); γ and
 * β stay per channel. Keras's `GroupNormalization` and the GroupNorm of diffusion U-Nets (G = 32).
 *
 * @param groups - G, a whole number dividing C.
 * @example
 * const y = groupNorm(x, 32, { gamma, beta, activation: 'silu' }); // x: [2, 32, 32, 320]
 */
export function groupNorm(x: tf.Tensor, groups: number, options?: GroupNormOpOptions): tf.Tensor {
  checkedInput(x, 'x');
  const layout = layoutOf((options as GroupNormOpOptions | undefined)?.dataFormat);
  return runNormalization(x, checkedGroups(groups, channelsOf(x.shape, layout)), options);
}

/**
 * Adaptive instance normalization (Huang and Belongie, 2017): each content instance normalized,
 * then given the mean and standard deviation sqrt(var + epsilon) of the same instance of the
 * style. The style has the content's rank, data format and C, any spatial size, and the content's
 * N or N = 1 (one style for the batch). Differentiable in content and style.
 *
 * @example
 * const stylized = adaIn(contentFeatures, styleFeatures); // [1, 32, 32, 512] and [1, 40, 24, 512]
 */
export function adaIn(content: tf.Tensor, style: tf.Tensor, options?: AdaInOpOptions): tf.Tensor {
  checkedInput(content, 'content');
  checkedInput(style, 'style');
  const created: tf.Tensor[] = [];
  try {
    const { inputs, attrs } = checkedAdaIn(content, style, options, created);
    return tf.engine().runKernel(ADAIN_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  } finally {
    tf.dispose(created);
  }
}

/**
 * Resolves once TF.js's current backend is ready (`tf.ready()`), with the library's instance made
 * for its device on `'webgpu'`. Not needed for the calls to run on the GPU: the first call on a
 * device makes the instance itself, synchronously. Awaiting it moves that small cost (the
 * instance, not its pipelines) before the first call, and keeps older code working.
 *
 * @example
 * await tf.setBackend('webgpu');
 * await instanceNormReady();
 */
export async function instanceNormReady(): Promise<void> {
  await tf.ready();
  const device = webGpuDeviceOf(tf.backend());
  if (device) normFor(device);
}
