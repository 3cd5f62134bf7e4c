/**
 * `webgpu-instancenorm/tfjs`: instance and group normalization and AdaIN for TensorFlow.js, as
 * ops on `tf.Tensor`s, registered TF.js kernels with gradients (on TF.js's own WebGPU device and
 * buffers under `'webgpu'`, the library's CPU implementation elsewhere), and the Keras layers
 * models are saved with (`InstanceNormalization`, `Addons>InstanceNormalization`,
 * `Addons>GroupNormalization`, `GroupNormalization`), registered on import so that
 * `tf.loadLayersModel` finds them. Needs `@tensorflow/tfjs-core` and `@tensorflow/tfjs-layers`.
 *
 * @example
 * import * as tf from '@tensorflow/tfjs';
 * import '@tensorflow/tfjs-backend-webgpu';
 * import { instanceNorm, instanceNormReady } from 'webgpu-instancenorm/tfjs';
 *
 * await tf.setBackend('webgpu');
 * await instanceNormReady(); // optional: the first call would make the library's instance itself
 * const y = instanceNorm(x, { gamma, beta, activation: 'relu' });
 * const model = await tf.loadLayersModel('/models/style/model.json'); // with InstanceNormalization layers
 *
 * @module
 */
import { registerGradients } from './gradients.js';
import { CPU_KERNEL_BACKENDS, registerKernelsFor } from './kernels.js';
import { registerLayers } from './layers.js';

export { InstanceNormError } from '../index.js';
export { registerGradients } from './gradients.js';
export {
  ADAIN_KERNEL,
  CPU_KERNEL_BACKENDS,
  INSTANCE_NORM_GRAD_KERNEL,
  INSTANCE_NORM_KERNEL,
  registerKernelsFor,
} from './kernels.js';
export {
  AddonsGroupNormalization,
  AddonsInstanceNormalization,
  GroupNormalization,
  InstanceNormalization,
  type NormalizationLayerArgs,
  registerLayers,
  type SerializableLike,
} from './layers.js';
export { adaIn, groupNorm, instanceNorm, instanceNormReady } from './ops.js';
export {
  type AdaInOpOptions,
  type DataFormat,
  type GroupNormOpOptions,
  type InstanceNormOpOptions,
  type NormalizationOpOptions,
  type TensorOrLike,
  TFJS_DEFAULT_EPSILON,
  TFJS_DEFAULT_LEAKYRELU_ALPHA,
  type TfjsActivation,
} from './options.js';

// What importing the entry point does, here in the entry module itself (a bundler keeps an entry's
// own statements; a side-effect import of another module is dropped where package.json's
// sideEffects does not name it): the kernels for 'webgpu' and the CPU-side backends, their
// gradients, and the layers under their Keras class names.
registerKernelsFor('webgpu');
for (const backend of CPU_KERNEL_BACKENDS) registerKernelsFor(backend);
registerGradients();
registerLayers();
