// What importing the entry point does: the kernels for 'webgpu' and the CPU-side backends, their
// gradients, and the layers under their Keras class names.
import { registerGradients } from './gradients';
import { CPU_KERNEL_BACKENDS, registerKernelsFor } from './kernels';
import { registerLayers } from './layers';

registerKernelsFor('webgpu');
for (const backend of CPU_KERNEL_BACKENDS) registerKernelsFor(backend);
registerGradients();
registerLayers();
