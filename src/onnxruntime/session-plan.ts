import type { Activation, DataType, Layout, ResidualPosition } from '../index.js';
import type { LeftToOrt, Takeover } from './find-takeovers.js';
import type { CutStep } from './graph-cut.js';
import type { OnnxTakeoverKind } from './patterns.js';

// What `session.plan()` says: the steps a run takes (ORT stretches and the library's calls),
// each call with the nodes it replaces, its options and the shape it last ran on, and the
// nodes left to ORT with the reason.

/** A stretch of the graph ORT runs as one session of its own. */
export interface OrtStretchPlan {
  /** Who runs the step: ORT. */
  readonly runs: 'ort';
  /** How many of the model's nodes it holds. */
  readonly nodeCount: number;
  /** How many of each op it holds. */
  readonly ops: Readonly<Record<string, number>>;
  /** What it reads from the model's inputs or earlier steps. */
  readonly inputs: readonly string[];
  /** What it hands on to later steps or the caller. */
  readonly outputs: readonly string[];
}

/** A part of a fused epilogue: what it is, and the nodes it replaces. */
export interface EpiloguePartPlan {
  /** `'Relu'`, `'LeakyRelu'`, `'SiLU'` or `'Add'` (of a residual). */
  readonly kind: OnnxTakeoverKind;
  /** The nodes, by op and name. */
  readonly nodes: readonly string[];
}

/** A normalization the library runs, with its fused epilogue. */
export interface LibraryStepPlan {
  /** Who runs the step: this library. */
  readonly runs: 'library';
  /** The pattern it was found as. */
  readonly kind: 'InstanceNormalization' | 'GroupNorm' | 'com.microsoft.GroupNorm';
  /** The nodes it replaces (op and name), in graph order. */
  readonly nodes: readonly string[];
  /** The tensor it normalizes. */
  readonly input: string;
  /** The tensor it writes (the last of its epilogue's). */
  readonly output: string;
  /** The residual tensor it adds, if any. */
  readonly residual?: string;
  /** The layout of the call: `'nchw'`, or `'nhwc'` for com.microsoft.GroupNorm with channels_last. */
  readonly layout: Layout;
  /** The model's epsilon. */
  readonly epsilon: number;
  /** Groups of channels, for a GroupNorm. */
  readonly groups?: number;
  /** The fused activation (`'none'` where there is none). */
  readonly activation: Activation;
  /** LeakyRelu's slope below zero. */
  readonly activationAlpha?: number;
  /** Where the residual is added, relative to the activation. */
  readonly residualPosition?: ResidualPosition;
  /** The storage type the graph gives it; undefined where the tensor says it at run time. */
  readonly dataType?: DataType;
  /** The epilogue's parts: which ops, fused from which nodes. */
  readonly epilogue: readonly EpiloguePartPlan[];
  /** The input's dims at the last run(); undefined before the first. */
  readonly shape?: readonly number[];
  /**
   * Set where the last run()'s residual did not have the output's shape (a broadcast): the Add
   * (and what follows it) then ran in ORT.
   */
  readonly residualRanInOrt?: boolean;
}

/** One step of a run. */
export type OnnxPlanStep = OrtStretchPlan | LibraryStepPlan;

/** A node of the model left to ORT that looked like something the library takes over, and why it was left. */
export interface OnnxNodeLeftToOrt {
  /** The node: its op and name. */
  readonly node: string;
  /** What it would have been taken over as. */
  readonly kind: OnnxTakeoverKind;
  /** Why it was left to ORT. */
  readonly reason: string;
}

/**
 * What runs where, from {@link SplicedSession.plan}: `'spliced'` where the library takes over
 * some nodes and ORT runs the stretches between them, `'ort'` where the model runs as one plain
 * ORT session (and `reason` says why).
 */
export interface OnnxSessionPlan {
  /** `'spliced'`: ORT stretches and the library's steps; `'ort'`: one plain ORT session. */
  readonly mode: 'spliced' | 'ort';
  /** Why the model runs as one ORT session, in `'ort'` mode. */
  readonly reason?: string;
  /** The steps of a run, in order (none in `'ort'` mode: ORT runs the whole model). */
  readonly steps: readonly OnnxPlanStep[];
  /** The nodes that looked like something the library takes over but were left to ORT, with the reason. */
  readonly leftToOrt: readonly OnnxNodeLeftToOrt[];
}

/** What the runtime tracks of a library step, for its plan. */
export interface LibraryStepState {
  readonly shape?: readonly number[];
  readonly residualRanInOrt?: boolean;
}

/** The plan of a spliced session. */
export function splicedPlan(
  steps: readonly CutStep[],
  leftToOrt: readonly LeftToOrt[],
  state: (takeover: Takeover) => LibraryStepState,
): OnnxSessionPlan {
  return {
    mode: 'spliced',
    steps: steps.map((step): OnnxPlanStep => {
      if (step.kind === 'ort') {
        const ops: Record<string, number> = {};
        for (const node of step.nodes) ops[node.opType] = (ops[node.opType] ?? 0) + 1;
        return { runs: 'ort', nodeCount: step.nodes.length, ops, inputs: [...step.inputs], outputs: [...step.outputs] };
      }
      const t = step.takeover;
      const { shape, residualRanInOrt } = state(t);
      return {
        runs: 'library',
        kind: t.kind,
        nodes: t.nodes.map((n) => `${n.opType} '${n.name || n.outputs[0]}'`),
        input: t.input,
        output: t.output,
        ...(t.residual !== undefined ? { residual: t.residual, residualPosition: t.residualPosition } : {}),
        layout: t.layout,
        epsilon: t.epsilon,
        ...(t.groups !== undefined ? { groups: t.groups } : {}),
        activation: t.activation,
        ...(t.activationAlpha !== undefined ? { activationAlpha: t.activationAlpha } : {}),
        ...(t.dataType ? { dataType: t.dataType } : {}),
        epilogue: t.epilogue.map((part) => ({ kind: part.kind, nodes: [...part.nodes] })),
        ...(shape ? { shape: [...shape] } : {}),
        ...(residualRanInOrt ? { residualRanInOrt } : {}),
      };
    }),
    leftToOrt: leftToOrt.map((left) => ({ ...left })),
  };
}

/** The plan of a model run as one ORT session, and why. */
export function plainPlan(reason: string, leftToOrt: readonly LeftToOrt[] = []): OnnxSessionPlan {
  return { mode: 'ort', reason, steps: [], leftToOrt: leftToOrt.map((left) => ({ ...left })) };
}
