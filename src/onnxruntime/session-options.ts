import { type DataType, InstanceNormError } from '../index.js';
import type { OrtModule } from './ort-types.js';
import { type OnnxTakeoverKind, TAKEOVER_KINDS } from './patterns.js';
import { join, messageField, stringField, varintField } from './protobuf-wire.js';

// The arguments of createSession() read once, at the boundary: the ORT module, ORT's session
// options (as far as this entry point reads them; all of them go on to every stretch) and this
// entry point's own options, own properties only, unknown keys refused by name.

/** Options of {@link createSession} beyond ORT's session options. */
export interface SplicedSessionOptions {
  /**
   * Kinds the library leaves to ORT: the normalizations (`'InstanceNormalization'`,
   * `'GroupNorm'` for torch's decomposed chain, `'com.microsoft.GroupNorm'`) and the parts of the
   * fused epilogue (`'Relu'`, `'LeakyRelu'`, `'SiLU'`, `'Add'` of a residual). Default: none.
   */
  readonly leaveToOrt?: readonly OnnxTakeoverKind[];
}

/** TensorProto.DataType of the storage types, and of ORT's type names. */
export const ELEM_TYPES = { float32: 1, float16: 10 } as const satisfies Record<DataType, number>;

/** The options read. */
export interface SplicedOptionsRead {
  readonly leaveToOrt: ReadonlySet<OnnxTakeoverKind>;
}

function argument(name: string, message: string): InstanceNormError {
  return new InstanceNormError(message, { code: 'invalid-argument', argument: name });
}

/** Checks that `ort` is an ONNX Runtime Web module. */
export function checkedOrt(ort: unknown): asserts ort is OrtModule {
  const module = ort as Partial<OrtModule> | null;
  if (
    typeof module !== 'object' ||
    module === null ||
    typeof module.InferenceSession?.create !== 'function' ||
    typeof module.Tensor !== 'function' ||
    typeof module.Tensor.fromGpuBuffer !== 'function' ||
    typeof module.env?.webgpu !== 'object'
  ) {
    throw argument(
      'ort',
      "ort must be ONNX Runtime Web's module (import * as ort from 'onnxruntime-web/webgpu'), version 1.30 or later",
    );
  }
}

/** This entry point's options: own properties, known keys. */
export function splicedOptions(options: unknown): SplicedOptionsRead {
  if (options === undefined) return { leaveToOrt: new Set() };
  if (typeof options !== 'object' || options === null || Object.getPrototypeOf(options) !== Object.prototype) {
    throw argument('options', 'options must be a plain object ({ leaveToOrt }) or undefined');
  }
  for (const key of Object.keys(options)) {
    if (key !== 'leaveToOrt') throw argument(key, `options has an unknown key '${key}'; the key is 'leaveToOrt'`);
  }
  const leaveToOrt = (options as SplicedSessionOptions).leaveToOrt ?? [];
  if (!Array.isArray(leaveToOrt)) throw argument('leaveToOrt', 'leaveToOrt must be an array of kinds');
  for (const kind of leaveToOrt) {
    if (!TAKEOVER_KINDS.includes(kind)) {
      throw argument(
        'leaveToOrt',
        `leaveToOrt has '${String(kind)}'; the kinds are ${TAKEOVER_KINDS.map((k) => `'${k}'`).join(', ')}`,
      );
    }
  }
  return { leaveToOrt: new Set(leaveToOrt) };
}

/** ORT's session options as this entry point reads them. */
export interface SessionOptionsRead {
  /** The options as given (every stretch gets them, with its own preferredOutputLocation). */
  readonly options: object;
  /** Why the model runs as one plain ORT session whatever it holds, if it does. */
  readonly plainReason?: string;
  /** The device given to the WebGPU EP, if any. */
  readonly device?: GPUDevice;
  /** Where the caller wants model output `name`: `'cpu'` or `'gpu-buffer'`. */
  outputLocation(name: string): 'cpu' | 'gpu-buffer';
}

/** Reads ORT's session options. */
export function checkedSessionOptions(sessionOptions: unknown): SessionOptionsRead {
  if (sessionOptions !== undefined && (typeof sessionOptions !== 'object' || sessionOptions === null)) {
    throw argument('sessionOptions', "sessionOptions must be ORT's session options object, or undefined");
  }
  const options = (sessionOptions ?? {}) as {
    executionProviders?: unknown;
    preferredOutputLocation?: unknown;
    enableGraphCapture?: unknown;
  };
  const locations = options.preferredOutputLocation;
  const outputLocation = (name: string): 'cpu' | 'gpu-buffer' => {
    const location = typeof locations === 'string' ? locations : (locations as Record<string, string> | undefined)?.[name];
    return location === 'gpu-buffer' ? 'gpu-buffer' : 'cpu';
  };
  const read = { options: options as object, outputLocation };
  const providers = Array.isArray(options.executionProviders) ? options.executionProviders : [];
  const first = providers[0] as string | { name?: unknown; device?: unknown } | undefined;
  const name = typeof first === 'string' ? first : typeof first?.name === 'string' ? first.name : undefined;
  const plain = (plainReason: string) => ({ ...read, plainReason });
  if (name === undefined) {
    return plain(
      "no execution provider is given: ORT runs the model on its default, wasm; the library takes over under 'webgpu' only",
    );
  }
  if (name !== 'webgpu') {
    return plain(`the first execution provider is '${name}': the library takes over under ORT's WebGPU EP ('webgpu') only`);
  }
  if (options.enableGraphCapture === true) {
    return plain("graph capture (enableGraphCapture) replays one session's commands, and a spliced model is several sessions");
  }
  const unsupported = [
    ...(typeof locations === 'string' ? [locations] : Object.values((locations as object | undefined) ?? {})),
  ].find((l) => !['cpu', 'cpu-pinned', 'gpu-buffer'].includes(l as string));
  if (unsupported !== undefined) {
    return plain(`preferredOutputLocation '${String(unsupported)}': the library leaves outputs on 'cpu' or 'gpu-buffer' only`);
  }
  if (typeof navigator === 'undefined' || !navigator.gpu) return plain('WebGPU is missing in this context (navigator.gpu)');
  const device = typeof first === 'object' ? first.device : undefined;
  if (device !== undefined && !(typeof GPUDevice !== 'undefined' && device instanceof GPUDevice)) {
    throw argument('sessionOptions', "the WebGPU EP's device must be a GPUDevice");
  }
  return { ...read, ...(device ? { device: device as GPUDevice } : {}) };
}

/** The model's bytes: fetched where it is a URL, viewed where it is a buffer. */
export async function modelBytes(model: unknown): Promise<Uint8Array> {
  if (model instanceof Uint8Array) return model;
  if (model instanceof ArrayBuffer) return new Uint8Array(model);
  if (typeof model === 'string') {
    const response = await fetch(model);
    if (!response.ok) throw new Error(`fetching the model '${model}' failed: ${response.status} ${response.statusText}`);
    return new Uint8Array(await response.arrayBuffer());
  }
  throw argument('model', 'model must be the bytes of an ONNX model (Uint8Array or ArrayBuffer) or its URL');
}

/** A one-node model (Identity of one float), whose session gives ORT's WebGPU EP its device where no stretch does. */
export function holderModel(): Uint8Array {
  const FLOAT = 1;
  // TypeProto { tensor_type (1) { elem_type (1), shape (2) { dim (1) { dim_value (1) } } } }
  const type = messageField(1, [varintField(1, FLOAT), ...messageField(2, messageField(1, [varintField(1, 1)]))]);
  const valueInfo = (field: number, name: string) => messageField(field, [...stringField(1, name), ...messageField(2, type)]);
  const node = messageField(1, [...stringField(1, 'x'), ...stringField(2, 'y'), ...stringField(4, 'Identity')]);
  const graph = [...node, ...stringField(2, 'holder'), ...valueInfo(11, 'x'), ...valueInfo(12, 'y')];
  return join([varintField(1, 8), ...messageField(7, graph), ...messageField(8, [varintField(2, 17)])]);
}

/** An external data file's name as ORT matches it: without a leading './'. */
export function externalPath(path: string): string {
  return path.startsWith('./') ? path.slice(2) : path;
}

/**
 * The external data files of `sessionOptions.externalData`, read once (fetched where given by
 * URL), and the session options with them as bytes: the library reads the constants it takes
 * over from them, and every stretch's session is handed the same bytes rather than fetching
 * the files again.
 */
export async function loadedExternalData(options: object): Promise<{ files: Map<string, Uint8Array>; options: object }> {
  const files = new Map<string, Uint8Array>();
  const given = (options as { externalData?: unknown }).externalData;
  if (!Array.isArray(given)) return { files, options };
  for (const entry of given as (string | { path: string; data: unknown })[]) {
    const path = typeof entry === 'string' ? entry : entry?.path;
    const data = typeof entry === 'string' ? entry : entry?.data;
    if (typeof path !== 'string') throw argument('sessionOptions', 'externalData entries need a path');
    files.set(externalPath(path), await fileBytes(data, path));
  }
  return { files, options: { ...options, externalData: [...files].map(([path, data]) => ({ path, data })) } };
}

async function fileBytes(data: unknown, path: string): Promise<Uint8Array> {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && data instanceof SharedArrayBuffer)) {
    return new Uint8Array(data);
  }
  if (typeof Blob !== 'undefined' && data instanceof Blob) return new Uint8Array(await data.arrayBuffer());
  if (typeof data === 'string') {
    const response = await fetch(data);
    if (!response.ok) throw new Error(`failed to load external data file: ${data} (${response.status} ${response.statusText})`);
    return new Uint8Array(await response.arrayBuffer());
  }
  throw argument('sessionOptions', `externalData '${path}' must be a URL, a Blob, an ArrayBuffer or a Uint8Array`);
}
