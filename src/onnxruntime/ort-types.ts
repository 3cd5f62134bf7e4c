// The parts of ONNX Runtime Web's API this entry point uses, declared here rather than imported
// from onnxruntime-common: the package's declarations then name no module an app may not have
// (ORT is an optional peer dependency), and the app's own `import * as ort from
// 'onnxruntime-web/webgpu'` is checked against them structurally.

/** A tensor of ORT-web (`ort.Tensor`), as far as this entry point reads it. */
export interface OrtTensorLike {
  /** Its element type: `'float32'`, `'float16'`, `'int64'`, … */
  readonly type: string;
  /** Its dims, outermost first. */
  readonly dims: readonly number[];
  /** `'cpu'`, `'cpu-pinned'`, `'gpu-buffer'`, `'texture'` or `'ml-tensor'`. */
  readonly location: string;
  /** The values, where `location` is `'cpu'` or `'cpu-pinned'` (ORT throws elsewhere). */
  readonly data: unknown;
  /** The GPU buffer, where `location` is `'gpu-buffer'` (ORT throws elsewhere). */
  readonly gpuBuffer: unknown;
  /** The values, downloaded where they are on the GPU. */
  getData(releaseData?: boolean): Promise<unknown>;
  /** Frees the tensor's data (a GPU buffer goes back to its owner). */
  dispose(): void;
}

/** What `ort.Tensor.fromGpuBuffer` takes besides the buffer. */
export interface OrtGpuBufferOptions {
  /** The element type of the buffer's values. */
  readonly dataType: 'float32' | 'float16';
  /** The tensor's dims (the buffer may be larger). */
  readonly dims: readonly number[];
  /** Reads the values back, for `getData()`. */
  download?(): Promise<Float32Array | Uint16Array>;
  /** Called by `tensor.dispose()`. */
  dispose?(): void;
}

/** `ort.Tensor`: its constructor for CPU values and its factory for GPU buffers. */
export interface OrtTensorConstructorLike {
  new (type: 'float32' | 'float16', data: Float32Array | Uint16Array, dims?: readonly number[]): OrtTensorLike;
  /** A tensor over a GPU buffer of ORT's device. */
  fromGpuBuffer(buffer: GPUBuffer, options: OrtGpuBufferOptions): OrtTensorLike;
}

/** What ORT says of a session's input or output (ORT-web ≥ 1.22). */
export interface OrtValueMetadataLike {
  /** The input's or output's name. */
  readonly name: string;
  /** Whether it is a tensor (not a sequence or a map). */
  readonly isTensor: boolean;
  /** The element type, for a tensor. */
  readonly type?: string;
  /** The dims ORT knows: numbers, symbolic names, or -1 where unknown; empty where it knows none. */
  readonly shape?: readonly (number | string)[];
}

/** An `ort.InferenceSession`, as far as this entry point uses it. */
export interface OrtSessionLike {
  /** The model's input names. */
  readonly inputNames: readonly string[];
  /** The model's output names. */
  readonly outputNames: readonly string[];
  /** ORT's type and shape of each output (ORT-web ≥ 1.22). */
  readonly outputMetadata?: readonly OrtValueMetadataLike[];
  /** Runs the model on `feeds`, a tensor per input name. */
  run(feeds: Record<string, OrtTensorLike>, options?: object): Promise<Record<string, OrtTensorLike>>;
  /** Frees the session. */
  release(): Promise<void>;
}

/** An execution provider given by object: its name, and for `'webgpu'` the device it may run on. */
export interface OrtExecutionProviderLike {
  /** `'webgpu'`, `'wasm'`, `'webnn'`, … */
  readonly name: string;
  /** The GPUDevice the WebGPU EP runs on (ORT requests its own where none is given). */
  readonly device?: unknown;
}

/** The session options this entry point reads; the rest are ORT's and passed on as they are. */
export interface OrtSessionOptionsLike {
  /** ORT's execution providers; the library takes over only where `'webgpu'` is the first. */
  readonly executionProviders?: readonly (string | OrtExecutionProviderLike)[];
  /** Where outputs are left: `'cpu'` (ORT's default) or `'gpu-buffer'`, for all or by name. */
  readonly preferredOutputLocation?: string | Readonly<Record<string, string>>;
  /** ORT's graph capture: not with a spliced session (the model then runs as one ORT session). */
  readonly enableGraphCapture?: boolean;
}

/** The module of ONNX Runtime Web (`import * as ort from 'onnxruntime-web/webgpu'`), as far as this entry point uses it. */
export interface OrtModule {
  /** `ort.InferenceSession`. */
  readonly InferenceSession: OrtSessionFactoryLike;
  /** `ort.Tensor`. */
  readonly Tensor: OrtTensorConstructorLike;
  /** `ort.env`. */
  readonly env: OrtEnvLike;
}

/** `ort.InferenceSession`'s static side. */
export interface OrtSessionFactoryLike {
  /** Creates a session from a model's URL. */
  create(model: string, options?: object): Promise<OrtSessionLike>;
  /** Creates a session from a model's bytes. */
  create(model: Uint8Array, options?: object): Promise<OrtSessionLike>;
}

/** `ort.env`, as far as this entry point reads it. */
export interface OrtEnvLike {
  /** The WebGPU flags: `device` holds ORT's own GPUDevice once a WebGPU session has been created on it. */
  readonly webgpu: object;
}
