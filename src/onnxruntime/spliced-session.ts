import { type DataType, InstanceNorm, InstanceNormError } from '../index.js';
import { findTakeovers, type LeftToOrt, type Takeover } from './find-takeovers.js';
import { type Cut, cutGraph, type LibraryStep as LibraryCutStep } from './graph-cut.js';
import { type GraphIndex, indexGraph } from './graph-index.js';
import { type GpuTensor, LibraryStep, paddedBytes } from './library-step.js';
import { dataTypeOfOrtName, ModelFormatError, readModel } from './onnx-model.js';
import type { OrtModule, OrtSessionLike, OrtTensorLike, OrtValueMetadataLike } from './ort-types.js';
import {
  checkedOrt,
  checkedSessionOptions,
  ELEM_TYPES,
  externalPath,
  holderModel,
  loadedExternalData,
  modelBytes,
  type SessionOptionsRead,
  type SplicedSessionOptions,
  splicedOptions,
} from './session-options.js';
import { type OnnxSessionPlan, plainPlan, splicedPlan } from './session-plan.js';
import { type SubModelSpec, type SubModelValue, writeSubModel } from './sub-model.js';

// The session: the model cut at what the library takes over, each stretch an ORT session of its
// own on one GPUDevice, and the library's calls recorded between their runs on that device. What
// passes between steps stays on the GPU: ORT's outputs as `'gpu-buffer'` tensors, the library's
// as buffers handed to ORT through `Tensor.fromGpuBuffer`.
//
// What ORT-web 1.30's source says, and this relies on (lib/wasm/*.ts, dist/ort.webgpu.mjs, and
// the WebGPU EP's webgpu_execution_provider.cc):
// - A session's run() records its kernels and submits them (Flush in OnRunEnd) before it
//   resolves, and waits for the GPU only to read outputs back to the CPU: commands submitted
//   after it on the same queue run after its work, and commands submitted before it run first.
// - A disposed output tensor's buffer returns to the shared buffer cache and can be handed to the
//   next run of any session on the device: an ORT tensor is disposed only once the commands that
//   read it are submitted.
// - The native WebGPU build takes a device in the EP options (`{ name: 'webgpu', device }`);
//   sessions on the same GPUDevice share one context (queue, buffer cache, program cache).
//   Without one, sessions share ORT's own device, which `ort.env.webgpu.device` holds once a
//   session has been created on it. Two sessions created at once on WebGPU throw ("another WebGPU
//   EP inference session is being created"): this module creates its sessions one at a time.
// - ORT rounds buffers up (16 bytes, then its cache buckets): shapes come from a tensor's dims.

/** The session {@link createSession} returns: ORT's surface, for a model spliced with the library's kernels. */
export interface SplicedSession<Tensor = OrtTensorLike> {
  /** The model's input names, as ORT lists them (initializers are not inputs). */
  readonly inputNames: readonly string[];
  /** The model's output names, in the model's order. */
  readonly outputNames: readonly string[];
  /**
   * Runs the model: the outputs ORT would give, by name, with the same types and dims, on the CPU
   * or where `preferredOutputLocation` asked (`'gpu-buffer'`: the caller disposes them). Runs are
   * queued one after another.
   *
   * @param feeds - a tensor per input name, on the CPU or on the GPU (`Tensor.fromGpuBuffer` on the session's device).
   * @param options - ORT's run options, passed to every stretch's run.
   * @throws the ORT error where a stretch's run fails (a missing or mis-shaped feed ORT reads);
   *   InstanceNormError where a tensor the library reads is one it cannot take.
   */
  run(feeds: Readonly<Record<string, Tensor>>, options?: object): Promise<Record<string, Tensor>>;
  /** Releases every ORT session and GPU buffer of this session; run() then throws. */
  release(): Promise<void>;
  /** What runs where: the stretches, the library's steps with their epilogues and last shapes, what stayed with ORT and why. */
  plan(): OnnxSessionPlan;
}

// ORT refuses two WebGPU sessions created at once: this module's are made in turn.
let creating: Promise<unknown> = Promise.resolve();

function createOrtSession(ort: OrtModule, model: string | Uint8Array, options: object): Promise<OrtSessionLike> {
  const next = creating.then(() =>
    typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options),
  );
  creating = next.catch(() => undefined);
  return next;
}

/**
 * Creates a session that runs an ONNX model through ONNX Runtime Web with its normalizations
 * (InstanceNormalization, torch's decomposed GroupNorm, com.microsoft.GroupNorm) and the
 * activation and residual Add after them run by this library, on ORT's WebGPU device. The same
 * call as `ort.InferenceSession.create`, with the ORT module first: switching is one line.
 *
 * Where nothing can be taken over (no normalization, an execution provider other than
 * `'webgpu'`, WebGPU missing, a type or rank the library does not take), the model runs as one
 * plain ORT session; {@link SplicedSession.plan} says why.
 *
 * @example
 * import * as ort from 'onnxruntime-web/webgpu';
 * import { createSession } from 'webgpu-instancenorm/onnxruntime';
 *
 * // was: const session = await ort.InferenceSession.create('/models/mosaic.onnx', { executionProviders: ['webgpu'] });
 * const session = await createSession(ort, '/models/mosaic.onnx', { executionProviders: ['webgpu'] });
 * const { output } = await session.run({ input: new ort.Tensor('float32', pixels, [1, 3, 224, 224]) });
 * console.log(session.plan());
 *
 * @param ort - the app's ONNX Runtime Web module (≥ 1.30; `onnxruntime-web/webgpu` for the WebGPU EP).
 * @param model - what `ort.InferenceSession.create` takes: the model's bytes, or a URL to fetch.
 * @param sessionOptions - ORT's session options, used for every stretch (their
 *   `preferredOutputLocation` for the model's outputs; the WebGPU EP's `device`, if given, for all).
 * @param options - this entry point's own: `leaveToOrt`.
 * @throws InstanceNormError `'invalid-model'` where the bytes are not an ONNX model; ORT's error
 *   where ORT fails to create a session (sessions made so far are released).
 */
export async function createSession<Ort extends OrtModule>(
  ort: Ort,
  model: string | ArrayBuffer | Uint8Array,
  sessionOptions?: object,
  options?: SplicedSessionOptions,
): Promise<SplicedSession<InstanceType<Ort['Tensor']>>> {
  checkedOrt(ort);
  const own = splicedOptions(options);
  const read = checkedSessionOptions(sessionOptions);
  const plainReason = read.plainReason;
  if (plainReason) return plainSession(ort, model, read.options, plainPlan(plainReason));
  const bytes = await modelBytes(model);
  const parsed = asModelError(() => readModel(bytes));
  // External data the app passes to ORT: read once here, for the constants and for every stretch.
  const external = [...parsed.graph.initializers.values()].some((t) => t.external);
  const loaded = external ? await loadedExternalData(read.options) : undefined;
  const withFiles = loaded ? { ...read, options: loaded.options } : read;
  const index = indexGraph(parsed, (location) => loaded?.files.get(externalPath(location)));
  const excluded = new Map<string, string>();
  // A library step found unfit once the stretch before it is made (a type ORT infers) is left to
  // ORT, and the graph cut again without it.
  for (;;) {
    const found = asModelError(() => findTakeovers(index, own.leaveToOrt));
    const takeovers = found.takeovers.filter((t) => !excluded.has(t.anchor));
    const leftToOrt: LeftToOrt[] = [
      ...found.leftToOrt,
      ...found.takeovers
        .filter((t) => excluded.has(t.anchor))
        .map((t) => ({ node: t.anchor, kind: t.kind, reason: excluded.get(t.anchor) as string })),
    ];
    const reason = graphPlainReason(index, takeovers, leftToOrt);
    if (reason) return plainSession(ort, bytes, withFiles.options, plainPlan(reason, leftToOrt));
    const cut = asModelError(() => cutGraph(index, takeovers));
    const built = await buildSession(ort, index, cut, leftToOrt, withFiles);
    if ('unfit' in built) {
      excluded.set(built.unfit.anchor, built.unfit.reason);
      continue;
    }
    if ('plain' in built) return plainSession(ort, bytes, withFiles.options, plainPlan(built.plain, leftToOrt));
    return built.session as unknown as SplicedSession<InstanceType<Ort['Tensor']>>;
  }
}

/** `read()`, a model the codec cannot read reported as an InstanceNormError `'invalid-model'`. */
function asModelError<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof ModelFormatError)) throw error;
    throw new InstanceNormError(`The model is not an ONNX model this library reads: ${error.message}`, {
      code: 'invalid-model',
      cause: error,
    });
  }
}

/** Why a parsed graph runs as one ORT session, or undefined where it is spliced. */
function graphPlainReason(
  index: GraphIndex,
  takeovers: readonly Takeover[],
  leftToOrt: readonly LeftToOrt[],
): string | undefined {
  if (takeovers.length === 0) {
    return leftToOrt.length === 0
      ? 'the model has no InstanceNormalization or GroupNorm node: nothing for the library to take over'
      : 'no normalization node of the model can be taken over (see leftToOrt)';
  }
  const graph = index.model.graph;
  const passedThrough = graph.outputs.find((v) => index.graphInputs.has(v.name) || graph.initializers.has(v.name));
  if (passedThrough) return `the graph output '${passedThrough.name}' is a graph input or an initializer: left to ORT`;
  return undefined;
}

/** A model run by one ORT session, with the plan saying why. */
async function plainSession(
  ort: OrtModule,
  model: string | ArrayBuffer | Uint8Array,
  sessionOptions: object,
  plan: OnnxSessionPlan,
): Promise<SplicedSession<never>> {
  const session = await createOrtSession(ort, typeof model === 'string' ? model : asBytes(model), sessionOptions);
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    run: (feeds, runOptions) => session.run(feeds as Record<string, OrtTensorLike>, runOptions) as never,
    release: () => session.release(),
    plan: () => plan,
  };
}

function asBytes(model: ArrayBuffer | Uint8Array): Uint8Array {
  return model instanceof Uint8Array ? model : new Uint8Array(model);
}

/** What a tensor passed between steps is known to be. */
interface KnownType {
  readonly elemType?: number;
  readonly dims?: readonly (number | string | undefined)[];
}

/** Builds the sessions of a cut, or says which takeover turned out unfit, or why the whole model must run in ORT. */
async function buildSession(
  ort: OrtModule,
  index: GraphIndex,
  cut: Cut,
  leftToOrt: readonly LeftToOrt[],
  read: SessionOptionsRead,
): Promise<{ session: Spliced } | { unfit: { anchor: string; reason: string } } | { plain: string }> {
  const sessions: OrtSessionLike[] = [];
  const recipes: StretchRecipe[] = [];
  const releaseAll = () => Promise.allSettled(sessions.map((s) => s.release()));
  const known = new Map<string, KnownType>(index.model.graph.inputs.map((v) => [v.name, { elemType: v.elemType, dims: v.dims }]));
  try {
    for (const step of cut.steps) {
      if (step.kind === 'library') {
        const t = step.takeover;
        const input = known.get(t.input);
        const type = input?.elemType;
        if (type !== undefined && type !== ELEM_TYPES.float32 && type !== ELEM_TYPES.float16) {
          await releaseAll();
          return {
            unfit: { anchor: t.anchor, reason: `its input is of ONNX data type ${type}: the library runs float32 and float16` },
          };
        }
        const rank = input?.dims?.length;
        if (rank !== undefined && rank > 0 && (rank < 3 || rank > 5)) {
          await releaseAll();
          return { unfit: { anchor: t.anchor, reason: `its input has rank ${rank}: the library takes rank 3 to 5` } };
        }
        const elemType = t.dataType ? ELEM_TYPES[t.dataType] : type;
        known.set(t.output, { elemType, dims: input?.dims });
        continue;
      }
      const inputs: SubModelValue[] = step.inputs.map((name) => ({ name, ...known.get(name) }));
      const outputs: SubModelValue[] = step.outputs.map((name) => ({ name }));
      const preferredOutputLocation = Object.fromEntries(
        step.outputs.map((name) => [name, cut.lastRead.has(name) ? 'gpu-buffer' : read.outputLocation(name)]),
      );
      const recipe = { spec: { nodes: step.nodes, inputs, outputs }, options: { ...read.options, preferredOutputLocation } };
      const session = await createOrtSession(ort, writeSubModel(index.model, recipe.spec), recipe.options);
      sessions.push(session);
      recipes.push(recipe);
      for (const metadata of session.outputMetadata ?? []) known.set(metadata.name, knownType(metadata));
    }
    if (!read.device && sessions.length === 0) {
      // No stretch: a one-node session puts ORT's device in env.webgpu.device, and keeps it alive.
      sessions.push(await createOrtSession(ort, holderModel(), read.options));
    }
    const device = read.device ?? ((ort.env.webgpu as { device?: unknown }).device as GPUDevice | undefined);
    if (!device) {
      await releaseAll();
      return { plain: "ORT's WebGPU EP gave no device (ort.env.webgpu.device is empty after a session was created)" };
    }
    let norm: InstanceNorm;
    try {
      norm = InstanceNorm.createSync({ device });
    } catch (error) {
      if (!(error instanceof InstanceNormError && error.code === 'unsupported')) throw error;
      await releaseAll();
      return { plain: `the library cannot run on ORT's device: ${error.message}` };
    }
    return { session: new Spliced(ort, index, cut, leftToOrt, read, sessions, recipes, device, norm) };
  } catch (error) {
    await releaseAll();
    throw error;
  }
}

/** What a stretch's session is created from, kept to create it again (the sub-model written anew, not kept). */
interface StretchRecipe {
  readonly spec: SubModelSpec;
  readonly options: object;
}

/**
 * ORT's metadata of a tensor as a type and dims to write. An empty shape says nothing (ORT gives
 * it for an unknown rank too); an unknown dim is -1 read as a pointer-sized unsigned number.
 */
function knownType(metadata: OrtValueMetadataLike): KnownType {
  const elemType = metadata.type === undefined ? undefined : dataTypeOfOrtName(metadata.type);
  const shape = metadata.shape ?? [];
  const dims =
    shape.length === 0 ? undefined : shape.map((d) => (typeof d === 'string' ? d : d >= 0 && d < 2 ** 31 ? d : undefined));
  return { ...(elemType !== undefined ? { elemType } : {}), ...(dims ? { dims } : {}) };
}

/** A value passed between steps in one run, and who owns it. */
interface Value {
  /** An ORT tensor: a feed (the caller's), or a stretch's output (ORT's, to dispose). */
  readonly tensor?: OrtTensorLike;
  /** A buffer of the library's. */
  readonly gpu?: GpuTensor;
  readonly owner: 'caller' | 'ort' | 'library';
}

/** A spliced session. */
class Spliced implements SplicedSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  private readonly stretches = new Map<number, OrtSessionLike>();
  private readonly stretchIndex = new Map<number, number>();
  private readonly broken = new Set<number>();
  private readonly steps = new Map<number, LibraryStep>();
  private readonly tails = new Map<LibraryStep, OrtSessionLike>();
  private readonly pool = new Map<string, GPUBuffer>();
  private queue: Promise<unknown> = Promise.resolve();
  private released = false;

  constructor(
    private readonly ort: OrtModule,
    private readonly index: GraphIndex,
    private readonly cut: Cut,
    private readonly leftToOrt: readonly LeftToOrt[],
    private readonly read: SessionOptionsRead,
    /** The stretches' sessions in order, then the one holding ORT's device where there is no stretch. */
    private readonly sessions: OrtSessionLike[],
    private readonly recipes: readonly StretchRecipe[],
    private readonly device: GPUDevice,
    private readonly norm: InstanceNorm,
  ) {
    const graph = index.model.graph;
    this.inputNames = graph.inputs.map((v) => v.name).filter((name) => !graph.initializers.has(name));
    this.outputNames = graph.outputs.map((v) => v.name);
    let next = 0;
    cut.steps.forEach((step, i) => {
      if (step.kind === 'ort') {
        this.stretches.set(i, sessions[next]);
        this.stretchIndex.set(i, next++);
      } else this.steps.set(i, new LibraryStep(step.takeover, device));
    });
  }

  /**
   * The session of the stretch at step `i`. One whose run failed is made again first: ORT-web
   * 1.30 marks a session's inputs bound before a run with GPU outputs and clears the mark only
   * after a successful one, so every later run of that session would fail the same way (it runs
   * the stale binding of the failed run's inputs).
   */
  private async stretch(i: number): Promise<OrtSessionLike> {
    const session = this.stretches.get(i) as OrtSessionLike;
    if (!this.broken.has(i)) return session;
    this.broken.delete(i);
    await session.release().catch(() => undefined);
    const position = this.stretchIndex.get(i) as number;
    const recipe = this.recipes[position];
    const fresh = await createOrtSession(this.ort, writeSubModel(this.index.model, recipe.spec), recipe.options);
    this.stretches.set(i, fresh);
    this.sessions[position] = fresh;
    return fresh;
  }

  plan(): OnnxSessionPlan {
    const states = new Map([...this.steps.values()].map((s) => [s.takeover, s]));
    return splicedPlan(this.cut.steps, this.leftToOrt, (takeover) => {
      const step = states.get(takeover);
      return { shape: step?.lastShape, residualRanInOrt: step?.residualRanInOrt };
    });
  }

  run(feeds: Readonly<Record<string, OrtTensorLike>>, options?: object): Promise<Record<string, OrtTensorLike>> {
    const result = this.queue.then(() => this.runNow(feeds, options));
    this.queue = result.catch(() => undefined);
    return result;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.queue;
    for (const step of this.steps.values()) step.destroy();
    for (const buffer of this.pool.values()) buffer.destroy();
    this.pool.clear();
    this.norm.destroy();
    await Promise.allSettled([...this.sessions, ...this.tails.values()].map((s) => s.release()));
  }

  private async runNow(feeds: Readonly<Record<string, OrtTensorLike>>, options?: object): Promise<Record<string, OrtTensorLike>> {
    if (this.released) throw new InstanceNormError('run() on a released session', { code: 'destroyed' });
    if (typeof feeds !== 'object' || feeds === null) {
      throw new TypeError("'feeds' must be an object that use input names as keys and OnnxValue as corresponding values.");
    }
    for (const name of this.inputNames) {
      if (feeds[name] === undefined) throw new Error(`input '${name}' is missing in 'feeds'.`);
    }
    const values = new Map<string, Value>(this.inputNames.map((name) => [name, { tensor: feeds[name], owner: 'caller' }]));
    const run = new RunState(this.device);
    try {
      for (const [i, step] of this.cut.steps.entries()) {
        if (this.stretches.has(i)) {
          const stretch = await this.stretch(i);
          run.submit();
          const stepFeeds: Record<string, OrtTensorLike> = {};
          for (const name of step.inputs) stepFeeds[name] = this.asOrtTensor(values.get(name) as Value, run);
          const results = await stretch.run(stepFeeds, options).catch((error: unknown) => {
            this.broken.add(i);
            throw error;
          });
          for (const name of step.outputs) values.set(name, { tensor: results[name], owner: 'ort' });
        } else {
          await this.runLibraryStep(this.steps.get(i) as LibraryStep, step as LibraryCutStep, values, run, options, i);
        }
        // What no later step reads is let go once the commands reading it are submitted.
        for (const name of step.inputs) if (this.cut.lastRead.get(name) === i) run.release(values.get(name));
      }
      run.submit();
      // WebGPU's verdict on the library's calls before any output is handed over.
      await this.norm.checkErrors();
      const outputs: Record<string, OrtTensorLike> = {};
      for (const name of this.outputNames) outputs[name] = await this.output(name, values.get(name) as Value, run);
      run.done();
      return outputs;
    } catch (error) {
      run.submit();
      for (const value of values.values()) run.release(value);
      run.done();
      throw error;
    }
  }

  /** A value as an ORT feed: ORT's tensors as they are, the library's buffers through `Tensor.fromGpuBuffer`. */
  private asOrtTensor(value: Value, run: RunState): OrtTensorLike {
    if (value.tensor) return value.tensor;
    const gpu = value.gpu as GpuTensor;
    const tensor = this.ort.Tensor.fromGpuBuffer(gpu.buffer, { dataType: gpu.dataType, dims: gpu.dims });
    run.wrappers.push(tensor);
    return tensor;
  }

  /**
   * Tensor `name` as a GPU tensor the library reads: ORT's GPU tensors' buffers, CPU tensors
   * uploaded (once a run: the upload is kept beside the tensor for later steps).
   */
  private asGpuTensor(values: Map<string, Value>, name: string, step: LibraryStep, slot: string): GpuTensor {
    const value = values.get(name) as Value;
    if (value.gpu) return value.gpu;
    const tensor = value.tensor as OrtTensorLike;
    const dataType = step.dataTypeOf(tensor.type);
    if (value.owner === 'caller') this.checkDeclared(name, tensor);
    if (tensor.location === 'gpu-buffer') return { buffer: tensor.gpuBuffer as GPUBuffer, dims: tensor.dims, dataType };
    if (tensor.location !== 'cpu' && tensor.location !== 'cpu-pinned') {
      throw new InstanceNormError(
        `'${name}' is a tensor on '${tensor.location}': the library reads CPU tensors and 'gpu-buffer' ones`,
        {
          code: 'unsupported',
        },
      );
    }
    const data = tensor.data as ArrayBufferView;
    const buffer = this.pooled(slot, paddedBytes(tensor.dims, dataType));
    const padded = new Uint8Array(Math.ceil(data.byteLength / 4) * 4);
    padded.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    this.device.queue.writeBuffer(buffer, 0, padded);
    const uploaded = { buffer, dims: tensor.dims, dataType };
    values.set(name, { ...value, gpu: uploaded });
    return uploaded;
  }

  /** A graph input the library reads first is checked as ORT would check it: its fixed dims. */
  private checkDeclared(name: string, tensor: OrtTensorLike): void {
    const declared = this.index.graphInputs.has(name) ? this.index.declared.get(name)?.dims : undefined;
    if (!declared) return;
    const wrong =
      declared.length !== tensor.dims.length || declared.some((d, i) => typeof d === 'number' && d !== tensor.dims[i]);
    if (wrong) {
      throw new InstanceNormError(
        `input '${name}' has dims [${tensor.dims.join(', ')}], where the model declares [${declared.map((d) => d ?? '?').join(', ')}]`,
        { code: 'invalid-argument', argument: 'feeds' },
      );
    }
  }

  private async runLibraryStep(
    step: LibraryStep,
    cutStep: LibraryCutStep,
    values: Map<string, Value>,
    run: RunState,
    options: object | undefined,
    position: number,
  ): Promise<void> {
    const t = step.takeover;
    const input = this.asGpuTensor(values, t.input, step, `${position}.input`);
    step.checkDims(input.dims);
    const residual = t.residual !== undefined ? this.asGpuTensor(values, t.residual, step, `${position}.residual`) : undefined;
    const broadcast =
      residual && (residual.dims.length !== input.dims.length || residual.dims.some((d, i) => d !== input.dims[i]));
    step.residualRanInOrt = Boolean(broadcast);
    const bytes = paddedBytes(input.dims, input.dataType);
    if (broadcast && residual && t.residualTail) {
      // The residual broadcasts: the library stops before the Add, ORT runs the Add and what follows.
      const addend = this.pooled(`${position}.addend`, bytes);
      step.encode(this.norm, run.encoder(), input, addend, residual, true);
      run.submit();
      const tail = await this.tailSession(step, input.dataType);
      const wrapper = this.ort.Tensor.fromGpuBuffer(addend, { dataType: input.dataType, dims: input.dims });
      run.wrappers.push(wrapper);
      const residualTensor = this.asOrtTensor(values.get(t.residual as string) as Value, run);
      const results = await tail.run({ [t.residualTail.addend]: wrapper, [t.residual as string]: residualTensor }, options);
      values.set(t.output, { tensor: results[t.output], owner: 'ort' });
      return;
    }
    // A model output left on the GPU is the caller's to dispose: a buffer of its own; else the step's, reused.
    const toCaller = this.index.graphOutputs.has(t.output) && this.read.outputLocation(t.output) === 'gpu-buffer';
    const output = toCaller ? this.freshBuffer(bytes) : this.pooled(`${position}.output`, bytes);
    step.encode(this.norm, run.encoder(), input, output, residual);
    values.set(cutStep.outputs[0], { gpu: { buffer: output, dims: input.dims, dataType: input.dataType }, owner: 'library' });
    if (toCaller) run.keep(output);
  }

  /** ORT's session for the Add (and the activation after it) of a step whose residual broadcast, made on first need. */
  private async tailSession(step: LibraryStep, dataType: DataType): Promise<OrtSessionLike> {
    const made = this.tails.get(step);
    if (made) return made;
    const t = step.takeover;
    const tail = t.residualTail as NonNullable<Takeover['residualTail']>;
    const residual = t.residual as string;
    const bytes = writeSubModel(this.index.model, {
      nodes: tail.nodes,
      inputs: [
        { name: tail.addend, elemType: ELEM_TYPES[dataType] },
        { name: residual, elemType: ELEM_TYPES[dataType] },
      ],
      outputs: [{ name: t.output }],
    });
    const location = this.index.graphOutputs.has(t.output) ? this.read.outputLocation(t.output) : 'gpu-buffer';
    const session = await createOrtSession(this.ort, bytes, {
      ...this.read.options,
      preferredOutputLocation: { [t.output]: location },
    });
    this.tails.set(step, session);
    return session;
  }

  /** The model output `name` as ORT would give it: on the CPU, or left on the GPU where asked. */
  private async output(name: string, value: Value, run: RunState): Promise<OrtTensorLike> {
    const wantsGpu = this.read.outputLocation(name) === 'gpu-buffer';
    if (value.tensor) {
      if (wantsGpu || value.tensor.location !== 'gpu-buffer') return value.tensor;
      // On the GPU because a later step read it too: downloaded as ORT would have.
      const data = (await value.tensor.getData(true)) as Float32Array | Uint16Array;
      const dims = value.tensor.dims;
      const type = value.tensor.type as 'float32' | 'float16';
      return new this.ort.Tensor(type, data, dims);
    }
    const gpu = value.gpu as GpuTensor;
    if (wantsGpu) {
      const buffer = gpu.buffer;
      const device = this.device;
      run.handOver(buffer);
      return this.ort.Tensor.fromGpuBuffer(buffer, {
        dataType: gpu.dataType,
        dims: gpu.dims,
        download: async () => asOrtData(await readBack(device, buffer, gpu)),
        dispose: () => buffer.destroy(),
      });
    }
    return new this.ort.Tensor(gpu.dataType, await readBack(this.device, gpu.buffer, gpu), gpu.dims);
  }

  /** The pooled buffer `key`, at least `bytes` large: kept from run to run. */
  private pooled(key: string, bytes: number): GPUBuffer {
    const had = this.pool.get(key);
    if (had && had.size >= bytes) return had;
    had?.destroy();
    const buffer = this.freshBuffer(bytes, `InstanceNorm.onnxruntime.${key}`);
    this.pool.set(key, buffer);
    return buffer;
  }

  private freshBuffer(bytes: number, label = 'InstanceNorm.onnxruntime.output'): GPUBuffer {
    return this.device.createBuffer({
      label,
      size: bytes,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
  }
}

/** The commands and tensors of one run: submitted in order, let go once submitted. */
class RunState {
  private pending?: GPUCommandEncoder;
  private readonly toDispose: OrtTensorLike[] = [];
  /** Tensors wrapping the library's buffers for ORT: disposed with the run (the buffers stay the library's). */
  readonly wrappers: OrtTensorLike[] = [];
  private readonly fresh = new Set<GPUBuffer>();

  constructor(private readonly device: GPUDevice) {}

  /** The encoder the library's next calls record into. */
  encoder(): GPUCommandEncoder {
    this.pending ??= this.device.createCommandEncoder({ label: 'InstanceNorm.onnxruntime.run' });
    return this.pending;
  }

  /** Submits what is recorded, then disposes the ORT tensors those commands read. */
  submit(): void {
    if (this.pending) this.device.queue.submit([this.pending.finish()]);
    this.pending = undefined;
    for (const tensor of this.toDispose.splice(0)) tensor.dispose();
  }

  /** Lets a value go after the next submit: ORT's tensors are disposed, the caller's and the library's kept. */
  release(value: Value | undefined): void {
    if (value?.owner === 'ort' && value.tensor) this.toDispose.push(value.tensor);
  }

  /** A buffer made for the caller in this run: destroyed if the run fails before it is handed over. */
  keep(buffer: GPUBuffer): void {
    this.fresh.add(buffer);
  }

  handOver(buffer: GPUBuffer): void {
    this.fresh.delete(buffer);
  }

  /** The run is over: wrappers disposed; buffers made for the caller and not handed over destroyed. */
  done(): void {
    this.submit();
    for (const wrapper of this.wrappers.splice(0)) wrapper.dispose();
    for (const buffer of this.fresh) buffer.destroy();
    this.fresh.clear();
  }
}

/** The values of a GPU tensor, read back through a staging buffer. */
async function readBack(device: GPUDevice, buffer: GPUBuffer, tensor: GpuTensor): Promise<Float32Array | Uint16Array> {
  const count = tensor.dims.reduce((a, b) => a * b, 1);
  const bytes = count * (tensor.dataType === 'float16' ? 2 : 4);
  const size = Math.ceil(bytes / 4) * 4;
  const staging = device.createBuffer({
    label: 'InstanceNorm.onnxruntime.readback',
    size,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  try {
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, size);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const copy = staging.getMappedRange(0, size).slice(0, bytes);
    return tensor.dataType === 'float16' ? new Uint16Array(copy) : new Float32Array(copy);
  } finally {
    staging.destroy();
  }
}

/** Halves as ORT-web gives them where the engine has Float16Array (ORT's own downloads do), else their bits. */
function asOrtData(values: Float32Array | Uint16Array): Float32Array | Uint16Array {
  const Float16 = (globalThis as { Float16Array?: new (buffer: ArrayBufferLike) => unknown }).Float16Array;
  return values instanceof Uint16Array && Float16 ? (new Float16(values.buffer) as Uint16Array) : values;
}
