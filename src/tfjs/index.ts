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
 * await instanceNormReady();
 * const y = instanceNorm(x, { gamma, beta, activation: 'relu' });
 * const model = await tf.loadLayersModel('/models/style/model.json'); // with InstanceNormalization layers
 *
 * @module
 */
import './register';

export { InstanceNormError } from '../index';
export { registerGradients } from './gradients';
export {
  ADAIN_KERNEL,
  CPU_KERNEL_BACKENDS,
  INSTANCE_NORM_GRAD_KERNEL,
  INSTANCE_NORM_KERNEL,
  registerKernelsFor,
} from './kernels';
export {
  AddonsGroupNormalization,
  AddonsInstanceNormalization,
  GroupNormalization,
  InstanceNormalization,
  type NormalizationLayerArgs,
  registerLayers,
  type SerializableLike,
} from './layers';
export { adaIn, groupNorm, instanceNorm, instanceNormReady } from './ops';
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
} from './options';
