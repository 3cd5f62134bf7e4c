import * as ort from 'onnxruntime-web/webgpu';
import { InstanceNorm, type InstanceNormOptions } from '../src';
import { deviceProfile } from '../src/gpu/device-profile';
import { createSession, type LibraryStepPlan, type OrtValueMetadataLike } from '../src/onnxruntime';
import { findTakeovers, type Takeover } from '../src/onnxruntime/find-takeovers';
import { type Cut, cutGraph, type OrtStep } from '../src/onnxruntime/graph-cut';
import { type GraphIndex, indexGraph } from '../src/onnxruntime/graph-index';
import { dataTypeOfOrtName, type OnnxNode, readModel } from '../src/onnxruntime/onnx-model';
import { join, stringField } from '../src/onnxruntime/protobuf-wire';
import { type SubModelValue, writeSubModel } from '../src/onnxruntime/sub-model';
import { alternatingMediansMs, gpuBuffer, randomData } from './gpu-timing';
import { diffusionBlockModel, transformerNetModel } from './onnx-bench-models';

/**
 * Whole ONNX models through `webgpu-instancenorm/onnxruntime` on ORT-web's WebGPU EP, every side
 * on ORT's device: ORT alone; the spliced session (createSession); the ceiling (the spliced
 * session's own ORT stretches with each library step free: its input handed on as its output);
 * no norm (the model with each taken-over chain replaced by one Identity, as one ORT session).
 * Then, on the tensors a frame hands them: one cut alone (the two stretches on either side of one
 * cut of the no-norm model as two sessions, against the same nodes as one) and the library's
 * calls of a frame alone.
 */

/** A model at one input size. */
export interface OnnxModelBenchCase {
  readonly model: 'transformernet' | 'diffusion-block';
  /** The input's height and width. */
  readonly size: number;
  /** Kept by `--quick`. */
  readonly quick?: boolean;
  /** Skipped on a CPU adapter unless `--only` names the case's label exactly. */
  readonly gpuOnly?: boolean;
}

// A CPU adapter (SwiftShader) takes seconds a frame at the small sizes; a GPU gets real ones.
export const ONNX_MODEL_BENCH_CASES: readonly OnnxModelBenchCase[] = [
  { model: 'transformernet', size: 32, quick: true },
  { model: 'transformernet', size: 256, gpuOnly: true },
  { model: 'diffusion-block', size: 16, quick: true },
  { model: 'diffusion-block', size: 64, gpuOnly: true },
];

/** What `--only` matches a case against: `onnx transformernet 32`. */
export function onnxModelLabel(c: OnnxModelBenchCase): string {
  return `onnx ${c.model} ${c.size}`;
}

/** One side's plan and cost per frame. */
export interface OnnxModelSide {
  /** ORT sessions run per frame. */
  readonly stretches: number;
  /** The library's calls per frame. */
  readonly librarySteps: number;
  /** Compute dispatches per frame (`dispatchWorkgroups`, ORT's and the library's), counted. */
  readonly dispatches: number;
  /** `GPUQueue.submit` calls per frame, counted. */
  readonly submits: number;
  /** ms per frame, from run() to the outputs done on the GPU: median, the four sides alternated frame by frame. */
  readonly frameMs: number;
  /** The first and third quartiles of the frames' ms. */
  readonly quartilesMs: readonly [number, number];
  /** ms from run() until it resolved (the frame's commands recorded and submitted; the GPU still at work): median. */
  readonly issueMs: number;
}

export interface OnnxModelBenchRow {
  /** `onnx transformernet 32`: what `--only` matches. */
  readonly label: string;
  /** The input's dims. */
  readonly input: string;
  /** Timed frames per side (after one warm-up frame each). */
  readonly frames: number;
  readonly ortAlone: OnnxModelSide;
  readonly spliced: OnnxModelSide;
  /** The spliced session's ORT stretches, each library step replaced by handing its input on. */
  readonly ceiling: OnnxModelSide;
  /** The model with each taken-over chain replaced by one Identity, as one ORT session. */
  readonly noNorm: OnnxModelSide;
  /** Whether the ceiling's sub-models are, byte for byte, the ones createSession made. */
  readonly ceilingMatchesSpliced: boolean;
  /** Ratios of two sides' frames within each round (run back to back): first quartile, median, third quartile. */
  readonly pairedRatios: {
    readonly splicedOverCeiling: Quartiles;
    readonly ortAloneOverSpliced: Quartiles;
    readonly ortAloneOverCeiling: Quartiles;
    readonly ceilingOverNoNorm: Quartiles;
  };
  /**
   * One cut alone, on the tensors a frame hands it: the two stretches on either side of the
   * middle cut of the no-norm model (cut at every Identity) as two sessions, against the same
   * nodes (the Identity between them included) as one session; ms per call, 11 alternated.
   */
  readonly cutAlone: {
    readonly at: string;
    readonly dims: string;
    readonly twoSessionsMs: number;
    readonly oneSessionMs: number;
    readonly twoSessionsDispatches: number;
    readonly oneSessionDispatches: number;
  };
  /** The library's calls of one spliced frame alone, each in a submit of its own, on buffers of the frame's shapes; ms. */
  readonly libraryAloneMs: number;
  /**
   * ORT's side of the same: every taken-over chain (normalization and epilogue, the nodes ORT
   * alone runs) in one ORT session, on the tensors a frame hands them; ms (11 alternated with the
   * library alone) and dispatches.
   */
  readonly ortNormsAlone: { readonly ms: number; readonly dispatches: number };
  /** max |spliced − ORT alone| / max |ORT alone| over the output. */
  readonly maxRelativeDifference: number;
  /** max |ceiling − no norm| / max |no norm|: the same computation as a chain and as one session. */
  readonly ceilingVsNoNorm: number;
  /** Whether all four sides' outputs are finite. */
  readonly finite: boolean;
}

const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  executionProviders: ['webgpu'],
  preferredOutputLocation: 'gpu-buffer',
};

type Tensors = Record<string, ort.Tensor>;

/** A chain of ORT sessions with the library's steps free: each one's input handed on as its output. */
interface Chain {
  readonly steps: readonly (
    | {
        readonly kind: 'ort';
        readonly session: ort.InferenceSession;
        readonly inputs: readonly string[];
        readonly outputs: readonly string[];
      }
    | { readonly kind: 'pass'; readonly from: string; readonly to: string }
  )[];
  readonly cut: Cut;
  readonly graphOutputs: readonly string[];
  /** The sub-models of its stretches, in order. */
  readonly subModels: readonly Uint8Array[];
}

// TensorProto.DataType of the storage types, as the spliced session writes them.
const ELEM_TYPES = { float32: 1, float16: 10 } as const;

/** ORT's metadata of an output as a type and dims to write, as the spliced session reads it (spliced-session.ts, knownType). */
function knownType(metadata: OrtValueMetadataLike): Omit<SubModelValue, 'name'> {
  const elemType = metadata.type === undefined ? undefined : dataTypeOfOrtName(metadata.type);
  const shape = metadata.shape ?? [];
  const dims =
    shape.length === 0 ? undefined : shape.map((d) => (typeof d === 'string' ? d : d >= 0 && d < 2 ** 31 ? d : undefined));
  return { ...(elemType !== undefined ? { elemType } : {}), ...(dims ? { dims } : {}) };
}

/**
 * The sessions of `cut` of `index`'s model, made as createSession makes its stretches (the same
 * sub-model spec, the same input types, every output left on the GPU), its library steps as
 * passes.
 */
async function buildChain(index: GraphIndex, cut: Cut): Promise<Chain> {
  const known = new Map<string, Omit<SubModelValue, 'name'>>(
    index.model.graph.inputs.map((v) => [v.name, { elemType: v.elemType, dims: v.dims }]),
  );
  const steps: Chain['steps'][number][] = [];
  const subModels: Uint8Array[] = [];
  for (const step of cut.steps) {
    if (step.kind === 'library') {
      const t = step.takeover;
      const input = known.get(t.input);
      known.set(t.output, { elemType: t.dataType ? ELEM_TYPES[t.dataType] : input?.elemType, dims: input?.dims });
      steps.push({ kind: 'pass', from: t.input, to: t.output });
      continue;
    }
    const bytes = writeSubModel(index.model, {
      nodes: step.nodes,
      inputs: step.inputs.map((name) => ({ name, ...known.get(name) })),
      outputs: step.outputs.map((name) => ({ name })),
    });
    const preferredOutputLocation = Object.fromEntries(step.outputs.map((name) => [name, 'gpu-buffer' as const]));
    const session = await ort.InferenceSession.create(bytes, { ...SESSION_OPTIONS, preferredOutputLocation });
    for (const metadata of session.outputMetadata) known.set(metadata.name, knownType(metadata as OrtValueMetadataLike));
    subModels.push(bytes);
    steps.push({ kind: 'ort', session, inputs: step.inputs, outputs: step.outputs });
  }
  return { steps, cut, graphOutputs: index.model.graph.outputs.map((v) => v.name), subModels };
}

/**
 * One run of a chain: each stretch fed what the steps before it made, each pass handing its
 * input on. ORT's outputs are disposed once no later step reads them (their commands are
 * submitted: ORT's run() submits before it resolves), unless `keep` asks for every tensor.
 */
async function runChain(chain: Chain, feeds: Tensors, keep?: Map<string, ort.Tensor>): Promise<Tensors> {
  const values = new Map<string, ort.Tensor>(Object.entries(feeds));
  const owned = new Set<ort.Tensor>();
  const outputs = new Set(chain.graphOutputs);
  for (const [i, step] of chain.steps.entries()) {
    if (step.kind === 'pass') values.set(step.to, values.get(step.from)!);
    else {
      const results = await step.session.run(Object.fromEntries(step.inputs.map((name) => [name, values.get(name)!])));
      for (const name of step.outputs) {
        values.set(name, results[name]);
        owned.add(results[name]);
      }
    }
    if (keep) continue;
    const live = (name: string) => outputs.has(name) || (chain.cut.lastRead.get(name) ?? -1) > i;
    for (const tensor of owned) {
      if ([...values].some(([name, v]) => v === tensor && live(name))) continue;
      tensor.dispose();
      owned.delete(tensor);
    }
  }
  if (keep) for (const [name, tensor] of values) keep.set(name, tensor);
  return Object.fromEntries(chain.graphOutputs.map((name) => [name, values.get(name)!]));
}

/** A NodeProto `Identity(input) → output`, as the codec reads nodes. */
function identityNode(input: string, output: string, name: string, index: number): OnnxNode {
  const bytes = join([
    ...stringField(1, input),
    ...stringField(2, output),
    ...stringField(3, name),
    ...stringField(4, 'Identity'),
  ]);
  return {
    index,
    name,
    opType: 'Identity',
    domain: '',
    inputs: [input],
    outputs: [output],
    attributes: new Map(),
    outerReads: [],
    bytes,
  };
}

/** The model with each taken-over chain (normalization and fused epilogue) replaced by one Identity where its output was made. */
function withoutNormalizations(index: GraphIndex, takeovers: readonly Takeover[]): Uint8Array {
  const graph = index.model.graph;
  const chainOf = new Map(takeovers.flatMap((t) => t.nodes.map((node) => [node, t] as const)));
  const nodes: OnnxNode[] = [];
  for (const node of graph.nodes) {
    const t = chainOf.get(node);
    if (!t) nodes.push(node);
    else if (node.outputs.includes(t.output)) nodes.push(identityNode(t.input, t.output, `/identity${node.name}`, node.index));
  }
  return writeSubModel(index.model, {
    nodes,
    inputs: graph.inputs.map((v) => ({ name: v.name })),
    outputs: graph.outputs.map((v) => ({ name: v.name })),
  });
}

/** An Identity node as a step the graph is cut at (cutGraph reads its nodes, input and output). */
function cutAt(node: OnnxNode): Takeover {
  return {
    kind: 'InstanceNormalization',
    anchor: node.name,
    nodes: [node],
    input: node.inputs[0],
    output: node.outputs[0],
    layout: 'nchw',
    epsilon: 0,
    minRank: 3,
    activation: 'none',
    epilogue: [],
  };
}

/**
 * One ORT session of every taken-over chain of the model and nothing else: the chains' nodes,
 * reading from outside what they read in the model (typed with the dims of the tensors `handed`),
 * writing each chain's output. A chain whose residual another chain makes reads it inside.
 */
async function normsSession(
  index: GraphIndex,
  takeovers: readonly Takeover[],
  handed: ReadonlyMap<string, ort.Tensor>,
): Promise<{ session: ort.InferenceSession; inputs: string[] }> {
  const nodes = takeovers.flatMap((t) => t.nodes).sort((a, b) => a.index - b.index);
  const made = new Set(nodes.flatMap((node) => node.outputs));
  const graph = index.model.graph;
  const inputs = [
    ...new Set(
      nodes.flatMap((node) => node.inputs).filter((name) => name !== '' && !made.has(name) && !graph.initializers.has(name)),
    ),
  ];
  const outputs = takeovers.map((t) => t.output);
  const session = await ort.InferenceSession.create(
    writeSubModel(index.model, {
      nodes,
      inputs: inputs.map((name) => ({ name, elemType: 1, dims: handed.get(name)?.dims })),
      outputs: outputs.map((name) => ({ name })),
    }),
    { ...SESSION_OPTIONS, preferredOutputLocation: Object.fromEntries(outputs.map((n) => [n, 'gpu-buffer' as const])) },
  );
  return { session, inputs };
}

/** Compute dispatches and queue submits while `run` runs (nothing else runs in the page meanwhile). */
async function counting(run: () => Promise<unknown>): Promise<{ dispatches: number; submits: number }> {
  const pass = GPUComputePassEncoder.prototype;
  const queue = GPUQueue.prototype;
  const dispatch = pass.dispatchWorkgroups;
  const indirect = pass.dispatchWorkgroupsIndirect;
  const submit = queue.submit;
  const counts = { dispatches: 0, submits: 0 };
  pass.dispatchWorkgroups = function (this: GPUComputePassEncoder, ...args: Parameters<typeof dispatch>) {
    counts.dispatches++;
    return dispatch.apply(this, args);
  };
  pass.dispatchWorkgroupsIndirect = function (this: GPUComputePassEncoder, ...args: Parameters<typeof indirect>) {
    counts.dispatches++;
    return indirect.apply(this, args);
  };
  queue.submit = function (this: GPUQueue, ...args: Parameters<typeof submit>) {
    counts.submits++;
    return submit.apply(this, args);
  };
  try {
    await run();
    return counts;
  } finally {
    pass.dispatchWorkgroups = dispatch;
    pass.dispatchWorkgroupsIndirect = indirect;
    queue.submit = submit;
  }
}

async function downloaded(tensor: ort.Tensor): Promise<Float32Array> {
  return (await tensor.getData()) as Float32Array;
}

/** max |a − b| / max |b|. */
function relativeDifference(a: Float32Array, b: Float32Array): number {
  let difference = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    difference = Math.max(difference, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return difference / scale;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** The library's calls of one spliced frame, from its plan: each in a submit of its own, on buffers of its shape. */
function libraryAlone(device: GPUDevice, norm: InstanceNorm, steps: readonly LibraryStepPlan[]) {
  const buffers: GPUBuffer[] = [];
  const made = (length: number) => {
    const buffer = gpuBuffer(device, randomData(length));
    buffers.push(buffer);
    return buffer;
  };
  const calls = steps.map((s) => {
    const shape = [...(s.shape ?? [])];
    const elements = shape.reduce((a, b) => a * b, 1);
    const channels = s.layout === 'nchw' ? shape[1] : shape[shape.length - 1];
    const options: InstanceNormOptions = {
      layout: s.layout,
      epsilon: s.epsilon,
      activation: s.activation,
      ...(s.activationAlpha !== undefined ? { activationAlpha: s.activationAlpha } : {}),
      ...(s.groups !== undefined ? { groups: s.groups } : {}),
      scale: made(channels),
      bias: made(channels),
      ...(s.residual !== undefined ? { residual: made(elements), residualPosition: s.residualPosition } : {}),
    };
    return { input: made(elements), output: made(elements), shape, options };
  });
  return {
    run: () => {
      for (const call of calls) {
        const encoder = device.createCommandEncoder();
        norm.encode(encoder, call.input, call.output, call.shape, call.options);
        device.queue.submit([encoder.finish()]);
      }
    },
    destroy: () => {
      for (const buffer of buffers) buffer.destroy();
    },
  };
}

/** A session whose sub-models createSession made are recorded, in order. */
function recordingOrt(recorded: Uint8Array[]) {
  const create = (model: string | Uint8Array, options?: object) => {
    if (typeof model === 'string') return ort.InferenceSession.create(model, options);
    recorded.push(model);
    return ort.InferenceSession.create(model, options);
  };
  return { ...ort, InferenceSession: { create } };
}

/** The value at quantile `q` of `values` (the nearest rank). */
function quantile(values: readonly number[], q: number): number {
  return [...values].sort((a, b) => a - b)[Math.round(q * (values.length - 1))];
}

/** First quartile, median, third quartile. */
type Quartiles = readonly [number, number, number];

function quartiles(values: readonly number[]): Quartiles {
  return [quantile(values, 0.25), quantile(values, 0.5), quantile(values, 0.75)];
}

/**
 * Frames of every side alternated (a, b, c, d, a, b, ...) after one warm-up round: each from the
 * call until its outputs are done on the GPU, then its outputs disposed. Per side, in round order:
 * the frames' ms, and the ms until the call resolved.
 */
async function alternatingFrames<Name extends string>(
  sides: Record<Name, () => Promise<Tensors>>,
  done: () => Promise<unknown>,
  frames: number,
): Promise<Record<Name, { frame: number[]; issue: number[] }>> {
  const names = Object.keys(sides) as Name[];
  const samples = {} as Record<Name, { frame: number[]; issue: number[] }>;
  for (const name of names) samples[name] = { frame: [], issue: [] };
  for (let round = 0; round <= frames; round++) {
    for (const name of names) {
      const started = performance.now();
      const outputs = await sides[name]();
      const issued = performance.now();
      await done();
      const finished = performance.now();
      for (const tensor of Object.values(outputs)) tensor.dispose();
      if (round === 0) continue;
      samples[name].issue.push(issued - started);
      samples[name].frame.push(finished - started);
    }
  }
  return samples;
}

/**
 * The ONNX model rows: per case, the sessions of every side made, one frame of each (outputs
 * compared, dispatches and submits counted), then the four sides' frames alternated, then one cut
 * alone and the library alone.
 */
export async function runOnnxModelBenchmark(
  device: GPUDevice,
  { quick, only }: { quick: boolean; only?: string },
): Promise<OnnxModelBenchRow[]> {
  const wanted = only?.split('|');
  const cases = ONNX_MODEL_BENCH_CASES.filter(
    (c) => (!quick || c.quick) && (!wanted || wanted.some((o) => onnxModelLabel(c).includes(o))),
  );
  if (cases.length === 0) return [];
  const cpuAdapter = deviceProfile(device).isCpuAdapter;
  const done = () => device.queue.onSubmittedWorkDone();
  const rows: OnnxModelBenchRow[] = [];
  for (const c of cases) {
    const label = onnxModelLabel(c);
    if (c.gpuOnly && cpuAdapter && !wanted?.includes(label)) {
      console.log(`${label}: skipped on a CPU adapter (--only '${label}' runs it)`);
      continue;
    }
    rows.push(await runCase(device, c, label, cpuAdapter, done));
  }
  return rows;
}

async function runCase(
  device: GPUDevice,
  c: OnnxModelBenchCase,
  label: string,
  cpuAdapter: boolean,
  done: () => Promise<unknown>,
): Promise<OnnxModelBenchRow> {
  const bytes = c.model === 'transformernet' ? transformerNetModel() : diffusionBlockModel();
  const dims = [1, c.model === 'transformernet' ? 3 : 320, c.size, c.size];
  const elements = dims.reduce((a, b) => a * b, 1);
  // An image in 0..255 for the style network; activations in [-1.5, 2.5) for the block.
  const data = c.model === 'transformernet' ? randomData(elements).map((v) => ((v + 1.5) / 4) * 255) : randomData(elements);
  const inputBuffer = gpuBuffer(device, data);
  const input = ort.Tensor.fromGpuBuffer(inputBuffer, { dataType: 'float32', dims });
  const feeds = { input };

  // The sides' sessions, one at a time (ORT refuses concurrent creation on WebGPU).
  const ortAlone = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
  const recorded: Uint8Array[] = [];
  const spliced = await createSession(recordingOrt(recorded), bytes, SESSION_OPTIONS);
  const index = indexGraph(readModel(bytes));
  const { takeovers } = findTakeovers(index);
  const ceiling = await buildChain(index, cutGraph(index, takeovers));
  const ceilingMatchesSpliced =
    recorded.length === ceiling.subModels.length && recorded.every((b, i) => equalBytes(b, ceiling.subModels[i]));
  const noNormBytes = withoutNormalizations(index, takeovers);
  const noNorm = await ort.InferenceSession.create(noNormBytes, SESSION_OPTIONS);

  const sides: Record<'ortAlone' | 'spliced' | 'ceiling' | 'noNorm', () => Promise<Tensors>> = {
    ortAlone: () => ortAlone.run(feeds),
    spliced: () => spliced.run(feeds) as Promise<Tensors>,
    ceiling: () => runChain(ceiling, feeds),
    noNorm: () => noNorm.run(feeds),
  };

  // One frame of each, counted (and compiled): the outputs compared.
  const outputs = {} as Record<keyof typeof sides, Float32Array>;
  const counts = {} as Record<keyof typeof sides, { dispatches: number; submits: number }>;
  for (const name of Object.keys(sides) as (keyof typeof sides)[]) {
    let result: Tensors = {};
    counts[name] = await counting(async () => {
      result = await sides[name]();
      await done();
    });
    outputs[name] = await downloaded(result.output);
    for (const tensor of Object.values(result)) tensor.dispose();
  }
  const maxRelativeDifference = relativeDifference(outputs.spliced, outputs.ortAlone);
  const ceilingVsNoNorm = relativeDifference(outputs.ceiling, outputs.noNorm);
  const finite = Object.values(outputs).every((o) => o.every(Number.isFinite));
  const plan = spliced.plan();
  const libraryPlans = plan.steps.filter((s): s is LibraryStepPlan => s.runs === 'library');
  console.log(
    `${label}: spliced against ORT alone ${maxRelativeDifference.toExponential(2)} of the output's scale, ceiling against no norm` +
      ` ${ceilingVsNoNorm.toExponential(2)}; finite: ${finite}; plan ${plan.mode}, ${plan.steps.length - libraryPlans.length}` +
      ` stretches, ${libraryPlans.length} library steps; ceiling's sub-models are the spliced session's: ${ceilingMatchesSpliced}`,
  );

  // A CPU adapter's frames take seconds, and one side's frames there spread by ±25% on a quiet
  // machine (SwiftShader's threads): 11 of them. Odd counts, so the median is a frame's.
  const frames = cpuAdapter ? 11 : 21;
  const timed = await alternatingFrames(sides, done, frames);
  // Ratios of the frames of one round, which ran back to back: what the machine did meanwhile
  // falls on both alike.
  const paired = (a: keyof typeof sides, b: keyof typeof sides) =>
    quartiles(timed[a].frame.map((ms, round) => ms / timed[b].frame[round]));

  // One cut alone: the no-norm model cut at every Identity; the two stretches around the middle
  // one, on the tensors a ceiling frame hands them (the same names and values), as two sessions
  // and as one.
  const noNormIndex = indexGraph(readModel(noNormBytes));
  const identities = noNormIndex.model.graph.nodes.filter((node) => node.opType === 'Identity');
  const middle = identities[Math.floor(identities.length / 2)];
  const all = cutGraph(noNormIndex, identities.map(cutAt));
  const merged = cutGraph(noNormIndex, identities.filter((node) => node !== middle).map(cutAt));
  const at = all.steps.findIndex((s) => s.kind === 'library' && s.takeover.nodes[0] === middle);
  const [before, after] = [all.steps[at - 1], all.steps[at + 1]] as OrtStep[];
  const both = merged.steps.find((s): s is OrtStep => s.kind === 'ort' && s.nodes.includes(middle))!;
  const handed = new Map<string, ort.Tensor>();
  await runChain(ceiling, feeds, handed);
  await done();
  const stretchSession = (step: OrtStep) =>
    ort.InferenceSession.create(
      writeSubModel(noNormIndex.model, {
        nodes: step.nodes,
        inputs: step.inputs.map((name) => ({ name, elemType: 1, dims: handed.get(name)?.dims })),
        outputs: step.outputs.map((name) => ({ name })),
      }),
      { ...SESSION_OPTIONS, preferredOutputLocation: Object.fromEntries(step.outputs.map((n) => [n, 'gpu-buffer' as const])) },
    );
  const first = await stretchSession(before);
  const second = await stretchSession(after);
  const one = await stretchSession(both);
  const from = (names: readonly string[], ...sources: ReadonlyMap<string, ort.Tensor>[]) =>
    Object.fromEntries(names.map((name) => [name, sources.map((s) => s.get(name)).find((t) => t !== undefined)!]));
  const twoSessions = async () => {
    const a = await first.run(from(before.inputs, handed));
    const passed = new Map(Object.entries(a));
    passed.set(middle.outputs[0], a[middle.inputs[0]] ?? handed.get(middle.inputs[0])!);
    const b = await second.run(from(after.inputs, passed, handed));
    await done();
    for (const t of [...Object.values(a), ...Object.values(b)]) t.dispose();
  };
  const oneSession = async () => {
    const r = await one.run(from(both.inputs, handed));
    await done();
    for (const t of Object.values(r)) t.dispose();
  };
  const cutDispatches = await counting(twoSessions);
  const mergedDispatches = await counting(oneSession);
  // ORT's normalizations alone: every taken-over chain of the model (its nodes as ORT alone runs
  // them) in one session, on the tensors a ceiling frame hands them.
  const ortNorms = await normsSession(index, takeovers, handed);
  const ortNormsRun = async () => {
    const r = await ortNorms.session.run(from(ortNorms.inputs, handed));
    await done();
    for (const t of Object.values(r)) t.dispose();
  };
  const ortNormsDispatches = await counting(ortNormsRun);
  const norm = await InstanceNorm.create({ device });
  const library = libraryAlone(device, norm, libraryPlans);
  const alone = await alternatingMediansMs(
    {
      twoSessions: { run: twoSessions, reps: 11 },
      oneSession: { run: oneSession, reps: 11 },
      ortNorms: { run: ortNormsRun, reps: 11 },
      library: {
        run: async () => {
          library.run();
          await done();
        },
        reps: 11,
      },
    },
    async () => {},
    2,
  );
  await norm.checkErrors();
  const cutDims = `[${handed.get(middle.inputs[0])?.dims.join(', ')}]`;
  for (const tensor of new Set(handed.values())) if (tensor !== input) tensor.dispose();
  library.destroy();
  norm.destroy();
  for (const session of [
    ortAlone,
    noNorm,
    first,
    second,
    one,
    ortNorms.session,
    ...ceiling.steps.flatMap((s) => (s.kind === 'ort' ? [s.session] : [])),
  ]) {
    await session.release();
  }
  await spliced.release();
  inputBuffer.destroy();

  const side = (name: keyof typeof sides, stretches: number, librarySteps: number): OnnxModelSide => ({
    stretches,
    librarySteps,
    dispatches: counts[name].dispatches,
    submits: counts[name].submits,
    frameMs: quantile(timed[name].frame, 0.5),
    quartilesMs: [quantile(timed[name].frame, 0.25), quantile(timed[name].frame, 0.75)],
    issueMs: quantile(timed[name].issue, 0.5),
  });
  const stretches = plan.steps.length - libraryPlans.length;
  const row: OnnxModelBenchRow = {
    label,
    input: `[${dims.join(', ')}]`,
    frames,
    ortAlone: side('ortAlone', 1, 0),
    spliced: side('spliced', stretches, libraryPlans.length),
    ceiling: side('ceiling', ceiling.subModels.length, 0),
    noNorm: side('noNorm', 1, 0),
    ceilingMatchesSpliced,
    pairedRatios: {
      splicedOverCeiling: paired('spliced', 'ceiling'),
      ortAloneOverSpliced: paired('ortAlone', 'spliced'),
      ortAloneOverCeiling: paired('ortAlone', 'ceiling'),
      ceilingOverNoNorm: paired('ceiling', 'noNorm'),
    },
    cutAlone: {
      at: middle.outputs[0],
      dims: cutDims,
      twoSessionsMs: alone.twoSessions,
      oneSessionMs: alone.oneSession,
      twoSessionsDispatches: cutDispatches.dispatches,
      oneSessionDispatches: mergedDispatches.dispatches,
    },
    libraryAloneMs: alone.library,
    ortNormsAlone: { ms: alone.ortNorms, dispatches: ortNormsDispatches.dispatches },
    maxRelativeDifference,
    ceilingVsNoNorm,
    finite,
  };
  console.log(`bench row ${JSON.stringify(row)}`);
  return row;
}
