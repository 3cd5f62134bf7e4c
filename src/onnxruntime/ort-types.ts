// The parts of ONNX Runtime Web's API this entry point uses, declared here rather than imported
// from onnxruntime-common: the package's declarations then name no module an app may not have
// (ORT is an optional peer dependency), and the app's own `import * as ort from
// 'onnxruntime-web/webgpu'` is checked against them structurally.

/** A tensor of ORT-web (`ort.Tensor`), as far as this entry point reads it. */
export interface OrtTensorLike {
  /** Its element type: `'float32'`, `'float16'`, `'int64'`, … */
  readonly type: string;
  readonly dims: readonly number[];
  /** `'cpu'`, `'cpu-pinned'`, `'gpu-buffer'`, `'texture'` or `'ml-tensor'`. */
  readonly location: string;
  /** The values, where `location` is `'cpu'` or `'cpu-pinned'` (ORT throws elsewhere). */
  readonly data: unknown;
  /** The GPU buffer, where `location` is `'gpu-buffer'` (ORT throws elsewhere). */
  readonly gpuBuffer: unknown;
  /** The values, downloaded where they are on the GPU. */
  getData(releaseData?: boolean): Promise<unknown>;
  dispose(): void;
}

/** What `ort.Tensor.fromGpuBuffer` takes besides the buffer. */
export interface OrtGpuBufferOptions {
  readonly dataType: 'float32' | 'float16';
  readonly dims: readonly number[];
  /** Reads the values back, for `getData()`. */
  download?(): Promise<Float32Array | Uint16Array>;
  /** Called by `tensor.dispose()`. */
  dispose?(): void;
}

/** `ort.Tensor`: its constructor for CPU values and its factory for GPU buffers. */
export interface OrtTensorConstructorLike {
  new (type: 'float32' | 'float16', data: Float32Array | Uint16Array, dims?: readonly number[]): OrtTensorLike;
  fromGpuBuffer(buffer: GPUBuffer, options: OrtGpuBufferOptions): OrtTensorLike;
}

/** What ORT says of a session's input or output (ORT-web ≥ 1.22). */
export interface OrtValueMetadataLike {
  readonly name: string;
  readonly isTensor: boolean;
  /** The element type, for a tensor. */
  readonly type?: string;
  /** The dims ORT knows: numbers, symbolic names, or -1 where unknown; empty where it knows none. */
  readonly shape?: readonly (number | string)[];
}

/** An `ort.InferenceSession`, as far as this entry point uses it. */
export interface OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly outputMetadata?: readonly OrtValueMetadataLike[];
  run(feeds: Record<string, OrtTensorLike>, options?: object): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
}

/** The session options this entry point reads; the rest are ORT's and passed on as they are. */
export interface OrtSessionOptionsLike {
  /** ORT's execution providers; the library takes over only where `'webgpu'` is the first. */
  readonly executionProviders?: readonly (string | { readonly name: string; readonly device?: unknown })[];
  /** Where outputs are left: `'cpu'` (ORT's default) or `'gpu-buffer'`, for all or by name. */
  readonly preferredOutputLocation?: string | Readonly<Record<string, string>>;
  /** ORT's graph capture: not with a spliced session (the model then runs as one ORT session). */
  readonly enableGraphCapture?: boolean;
}

/** The module of ONNX Runtime Web (`import * as ort from 'onnxruntime-web/webgpu'`), as far as this entry point uses it. */
export interface OrtModule {
  readonly InferenceSession: {
    create(model: string, options?: object): Promise<OrtSessionLike>;
    create(model: Uint8Array, options?: object): Promise<OrtSessionLike>;
  };
  readonly Tensor: OrtTensorConstructorLike;
  readonly env: { readonly webgpu: object };
}
