import type { Takeover } from './find-takeovers.js';
import type { GraphIndex } from './graph-index.js';
import { ModelFormatError, type OnnxNode } from './onnx-model.js';

// Cutting the graph at what the library takes over: the nodes left to ORT split into stretches,
// each a sub-model ORT runs as a session of its own, with the library's calls between them.
// A stretch takes every ORT node whose inputs are ready, so that the nodes a normalization does
// not lead to run before it and the graph is cut no more often than the chain of normalizations
// requires; nodes computed from constants alone (torch's padding arithmetic, Resize's scales) go
// into each stretch that reads them instead, so that no small tensor of theirs crosses a cut.
// A pure function of the graph: the node tests check it on the fixtures.

/** A stretch of nodes ORT runs as one session. */
export interface OrtStep {
  readonly kind: 'ort';
  /** Its nodes, in an order where each one's inputs come first. */
  readonly nodes: readonly OnnxNode[];
  /** What it reads from the graph's inputs or earlier steps, in the order first read. */
  readonly inputs: readonly string[];
  /** What it makes that a later step or the caller reads. */
  readonly outputs: readonly string[];
}

/** A normalization the library runs. */
export interface LibraryStep {
  readonly kind: 'library';
  readonly takeover: Takeover;
  /** The normalized tensor, then the residual where one is added. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

/** One step of a cut graph. */
export type CutStep = OrtStep | LibraryStep;

/** The steps, and when each tensor is last read. */
export interface Cut {
  readonly steps: readonly CutStep[];
  /** The last step reading each tensor passed between steps; a graph output is the caller's and is not in it. */
  readonly lastRead: ReadonlyMap<string, number>;
}

/** Cuts the graph of `index` at `takeovers`. */
export function cutGraph(index: GraphIndex, takeovers: readonly Takeover[]): Cut {
  const graph = index.model.graph;
  const taken = new Set(takeovers.flatMap((t) => t.nodes));
  const constants = new Set([...graph.initializers.keys(), ...graph.sparseInitializers.keys()]);
  const ready = new Set<string>(['', ...index.graphInputs, ...constants]);
  const reads = (node: OnnxNode) => [...node.inputs, ...node.outerReads];
  const folded = constantNodes(index, taken, constants);
  // What every stretch has at hand: the constants, and what it computes from them alone.
  const local = new Set([...constants, ...[...folded].flatMap((node) => node.outputs)]);
  for (const name of local) ready.add(name);
  let pendingNodes = graph.nodes.filter((node) => !taken.has(node) && !folded.has(node));
  let pendingLibrary = [...takeovers];
  const stepsNodes: ({ kind: 'ort'; nodes: OnnxNode[] } | { kind: 'library'; takeover: Takeover })[] = [];
  while (pendingNodes.length > 0 || pendingLibrary.length > 0) {
    const stretch: OnnxNode[] = [];
    // Passes in graph order until none is added: a graph whose nodes are out of order still cuts.
    for (let added = true; added; ) {
      added = false;
      const waiting: OnnxNode[] = [];
      for (const node of pendingNodes) {
        if (reads(node).every((name) => ready.has(name))) {
          stretch.push(node);
          for (const output of node.outputs) ready.add(output);
          added = true;
        } else waiting.push(node);
      }
      pendingNodes = waiting;
    }
    if (stretch.length > 0) stepsNodes.push({ kind: 'ort', nodes: withConstants(stretch, folded, index) });
    const runnable = pendingLibrary.filter((t) =>
      [t.input, ...(t.residual ? [t.residual] : [])].every((name) => ready.has(name)),
    );
    for (const takeover of runnable) {
      stepsNodes.push({ kind: 'library', takeover });
      ready.add(takeover.output);
    }
    pendingLibrary = pendingLibrary.filter((t) => !runnable.includes(t));
    if (stretch.length === 0 && runnable.length === 0) {
      const stuck = pendingNodes[0] ?? pendingLibrary[0]?.nodes[0];
      const missing = stuck ? reads(stuck).find((name) => !ready.has(name)) : undefined;
      throw new ModelFormatError(
        `node ${stuck?.name || stuck?.opType} reads '${missing}', which no node makes and no graph input or initializer is`,
      );
    }
  }
  // Who reads what, by step: the outputs of a step are what later steps or the caller read.
  const stepReads = stepsNodes.map((step) =>
    step.kind === 'ort'
      ? new Set(step.nodes.flatMap(reads))
      : new Set([step.takeover.input, ...(step.takeover.residual ? [step.takeover.residual] : [])]),
  );
  const lastRead = new Map<string, number>();
  stepReads.forEach((names, i) => {
    for (const name of names) if (!local.has(name) && name !== '') lastRead.set(name, i);
  });
  const steps = stepsNodes.map((step, i): CutStep => {
    if (step.kind === 'library') {
      return { kind: 'library', takeover: step.takeover, inputs: [...stepReads[i]], outputs: [step.takeover.output] };
    }
    const made = new Set<string>();
    const inputs: string[] = [];
    for (const node of step.nodes) {
      for (const name of reads(node)) {
        if (name !== '' && !made.has(name) && !local.has(name) && !inputs.includes(name)) inputs.push(name);
      }
      for (const name of node.outputs) if (name !== '') made.add(name);
    }
    const outputs = step.nodes
      .flatMap((node) => node.outputs)
      .filter((name) => name !== '' && (index.graphOutputs.has(name) || (lastRead.get(name) ?? -1) > i));
    return { kind: 'ort', nodes: step.nodes, inputs, outputs };
  });
  // A stretch nothing reads (dead nodes) is not run.
  const kept = steps.filter((step) => step.kind === 'library' || step.outputs.length > 0);
  const renumbered = new Map<string, number>();
  kept.forEach((step, i) => {
    for (const name of step.inputs) renumbered.set(name, i);
  });
  for (const name of index.graphOutputs) renumbered.delete(name);
  return { steps: kept, lastRead: renumbered };
}

// Ops that give a new value each run: never computed twice.
const RANDOM_OPS = new Set([
  'RandomNormal',
  'RandomUniform',
  'RandomNormalLike',
  'RandomUniformLike',
  'Multinomial',
  'Bernoulli',
]);

/** The nodes left to ORT whose inputs are all constants, or made by such nodes: each stretch computes the ones it reads. */
function constantNodes(index: GraphIndex, taken: ReadonlySet<OnnxNode>, constants: ReadonlySet<string>): Set<OnnxNode> {
  const folded = new Set<OnnxNode>();
  const made = new Set<string>();
  for (const node of index.model.graph.nodes) {
    if (taken.has(node) || node.outerReads.length > 0 || RANDOM_OPS.has(node.opType)) continue;
    if (node.outputs.some((name) => index.graphOutputs.has(name))) continue;
    if (node.inputs.every((name) => name === '' || made.has(name) || (constants.has(name) && !index.graphInputs.has(name)))) {
      folded.add(node);
      for (const name of node.outputs) made.add(name);
    }
  }
  return folded;
}

/** The stretch preceded by the constant nodes it reads, directly or through each other, in graph order. */
function withConstants(stretch: readonly OnnxNode[], folded: ReadonlySet<OnnxNode>, index: GraphIndex): OnnxNode[] {
  const needed = new Set<OnnxNode>();
  const visit = (name: string) => {
    const producer = index.producer.get(name);
    if (!producer || !folded.has(producer) || needed.has(producer)) return;
    needed.add(producer);
    for (const input of producer.inputs) visit(input);
  };
  for (const node of stretch) for (const name of node.inputs) visit(name);
  return [...[...needed].sort((a, b) => a.index - b.index), ...stretch];
}
