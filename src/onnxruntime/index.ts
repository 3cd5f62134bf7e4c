/**
 * `webgpu-instancenorm/onnxruntime`: runs an ONNX model through ONNX Runtime Web with its
 * normalizations taken over by this library. `createSession(ort, model, sessionOptions)` reads
 * the model, finds its InstanceNormalization nodes, the GroupNorm chains torch.onnx writes
 * (`Reshape → InstanceNormalization → Reshape → Mul → Add`) and com.microsoft.GroupNorm, with
 * the Relu, LeakyRelu, SiLU and residual Add after them, and cuts the graph there: each stretch
 * between them runs as an ORT session of its own on ORT's WebGPU device, the library's kernels
 * run between them on that device, and nothing passes through the CPU. The session has ORT's
 * surface (`inputNames`, `outputNames`, `run`, `release`) and `plan()` says what runs where.
 * Needs `onnxruntime-web` ≥ 1.30 (an optional peer dependency: the app passes its module in).
 *
 * @example
 * import * as ort from 'onnxruntime-web/webgpu';
 * import { createSession } from 'webgpu-instancenorm/onnxruntime';
 *
 * const session = await createSession(ort, modelBytes, { executionProviders: ['webgpu'] });
 * const { output } = await session.run({ input });
 *
 * @module
 */

export { InstanceNormError } from '../index.js';
export type {
  OrtEnvLike,
  OrtExecutionProviderLike,
  OrtGpuBufferOptions,
  OrtModule,
  OrtSessionFactoryLike,
  OrtSessionLike,
  OrtSessionOptionsLike,
  OrtTensorConstructorLike,
  OrtTensorLike,
  OrtValueMetadataLike,
} from './ort-types.js';
export { type OnnxTakeoverKind, TAKEOVER_KINDS } from './patterns.js';
export type { SplicedSessionOptions } from './session-options.js';
export type {
  EpiloguePartPlan,
  LibraryStepPlan,
  OnnxNodeLeftToOrt,
  OnnxPlanStep,
  OnnxSessionPlan,
  OrtStretchPlan,
} from './session-plan.js';
export { createSession, type SplicedSession } from './spliced-session.js';
