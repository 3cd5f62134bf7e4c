import type { Activation, DataType, Layout, ResidualPosition } from '../index.js';
import type { GraphIndex } from './graph-index.js';
import type { OnnxNode } from './onnx-model.js';
import { type Match, matchPattern, nodeLabel } from './pattern-matcher.js';
import {
  EPILOGUE_PATTERNS,
  type EpiloguePattern,
  NORMALIZATION_PATTERNS,
  type NormalizationPattern,
  type OnnxTakeoverKind,
} from './patterns.js';

// The step that finds what the library takes over in a graph: each normalization (patterns.ts)
// with the epilogue that follows it, as the options of one library call, and the near misses
// with their reasons. A pure function of the graph: the node tests check it on the fixtures.

/** The largest epsilon the library takes: float32's largest finite value. */
const MAX_EPSILON = 3.4028234663852886e38;

/** A part of a fused epilogue, as the plan lists it. */
export interface EpiloguePart {
  readonly kind: OnnxTakeoverKind;
  /** The nodes it replaces, by label. */
  readonly nodes: readonly string[];
}

/** One normalization and its epilogue, run by the library in place of the nodes it matched. */
export interface Takeover {
  readonly kind: 'InstanceNormalization' | 'GroupNorm' | 'com.microsoft.GroupNorm';
  /** The node the match started from (an InstanceNormalization or a GroupNorm), by label. */
  readonly anchor: string;
  /** Every node the library runs instead (with the Constant nodes read by them alone), in graph order. */
  readonly nodes: readonly OnnxNode[];
  /** The tensor normalized, and the tensor written. */
  readonly input: string;
  readonly output: string;
  readonly layout: Layout;
  readonly epsilon: number;
  /** Groups of channels (GroupNorm); undefined for instance norm. */
  readonly groups?: number;
  /** Per-channel factor and offset: C values, or 1 for one value for every channel. */
  readonly scale?: readonly number[];
  readonly bias?: readonly number[];
  /** C, where the constants say it. */
  readonly channels?: number;
  /** The input rank the constants broadcast per channel at, where they say it ([C, 1, 1]: 4). */
  readonly rank?: number;
  /** The least input rank the constants' broadcast allows. */
  readonly minRank: number;
  /** The storage type, where the graph says it; else the input tensor's at run time. */
  readonly dataType?: DataType;
  readonly activation: Activation;
  /** LeakyRelu's slope, where the activation is 'leakyRelu'. */
  readonly activationAlpha?: number;
  /** The residual tensor, where an Add is fused. */
  readonly residual?: string;
  readonly residualPosition?: ResidualPosition;
  /**
   * Where an Add is fused: the tensor it adds the residual to, and the nodes from the Add on (the
   * Add, and the activation after it): what ORT runs instead if the residual turns out at run
   * time to have another shape (a broadcast).
   */
  readonly residualTail?: { readonly addend: string; readonly nodes: readonly OnnxNode[] };
  /** The epilogue's parts, in order. */
  readonly epilogue: readonly EpiloguePart[];
}

/** A node left to ORT, and why. */
export interface LeftToOrt {
  /** The node, by label. */
  readonly node: string;
  /** What it would have been taken over as. */
  readonly kind: OnnxTakeoverKind;
  readonly reason: string;
}

/** What a graph holds for the library. */
export interface Takeovers {
  readonly takeovers: readonly Takeover[];
  readonly leftToOrt: readonly LeftToOrt[];
}

/** Finds the normalizations of the graph and their epilogues; `leaveToOrt` kinds are left to ORT. */
export function findTakeovers(index: GraphIndex, leaveToOrt: ReadonlySet<OnnxTakeoverKind> = new Set()): Takeovers {
  const takeovers: Takeover[] = [];
  const leftToOrt: LeftToOrt[] = [];
  const claimed = new Set<OnnxNode>();
  for (const anchor of index.model.graph.nodes) {
    if (claimed.has(anchor)) continue;
    const patterns = NORMALIZATION_PATTERNS.filter(
      (p) => p.nodes[p.anchor].op === anchor.opType && (p.nodes[p.anchor].domain ?? '') === anchor.domain,
    );
    if (patterns.length === 0) continue;
    let best: { pattern: NormalizationPattern; reason: string; found: number } | undefined;
    for (const pattern of patterns) {
      const result = matchPattern(index, pattern, anchor, claimed);
      if (!result.ok) {
        // The nearest miss: the largest share of its pattern found (a whole InstanceNormalization
        // with a non-constant scale says more than a GroupNorm whose Reshape is missing).
        const share = (found: number, p: NormalizationPattern) => found / p.nodes.length;
        if (!best || share(result.found, pattern) > share(best.found, best.pattern)) {
          best = { pattern, reason: result.reason, found: result.found };
        }
        continue;
      }
      // A longer variant that failed deeper than this one matched says what was left out.
      if (best && best.found > result.match.nodes.length) {
        leftToOrt.push({ node: nodeLabel(anchor), kind: best.pattern.kind, reason: best.reason });
      }
      best = undefined;
      if (leaveToOrt.has(pattern.kind)) {
        for (const node of result.match.nodes) claimed.add(node);
        leftToOrt.push({ node: nodeLabel(anchor), kind: pattern.kind, reason: 'left to ORT by the leaveToOrt option' });
        break;
      }
      const takeover = normalization(index, pattern, result.match, anchor);
      if (typeof takeover === 'string') {
        leftToOrt.push({ node: nodeLabel(anchor), kind: pattern.kind, reason: takeover });
        break;
      }
      const fused = withEpilogue(index, takeover, claimed, leaveToOrt, leftToOrt);
      for (const node of fused.nodes) claimed.add(node);
      takeovers.push(fused);
      break;
    }
    if (best) leftToOrt.push({ node: nodeLabel(anchor), kind: best.pattern.kind, reason: best.reason });
  }
  // An epilogue part one normalization could not take may have joined another's (a residual Add
  // read by two chains): only what no takeover ran is left to ORT.
  const taken = new Set(takeovers.flatMap((t) => t.nodes.map(nodeLabel)));
  const epilogueKinds = new Set<OnnxTakeoverKind>(EPILOGUE_PATTERNS.map((p) => p.kind));
  return { takeovers, leftToOrt: leftToOrt.filter((left) => !(epilogueKinds.has(left.kind) && taken.has(left.node))) };
}

const STORAGE: Readonly<Record<number, DataType>> = { 1: 'float32', 10: 'float16' };
const TYPE_NAMES: Readonly<Record<number, string>> = { 11: 'float64', 16: 'bfloat16' };

/** A matched normalization in the library's terms, or why the library cannot run it. */
function normalization(index: GraphIndex, pattern: NormalizationPattern, match: Match, anchor: OnnxNode): Takeover | string {
  const { options } = pattern;
  const number = (variable: string | undefined) => (variable === undefined ? undefined : match.numbers.get(variable));
  const epsilon = number(options.epsilon) as number;
  if (!(epsilon >= 0 && epsilon <= MAX_EPSILON)) return `epsilon ${epsilon}: the library takes 0 to 3.4e38`;
  const layout: Layout = number(options.channelsLast) === 1 ? 'nhwc' : 'nchw';
  const input = match.tensors.get(pattern.input) as string;
  const declared = index.declared.get(input);
  const typeCode = pattern.typeFrom ? match.constants.get(pattern.typeFrom)?.dataType : declared?.elemType;
  const dataType = typeCode === undefined ? undefined : STORAGE[typeCode];
  if (typeCode !== undefined && !dataType) {
    return `data type ${TYPE_NAMES[typeCode] ?? typeCode}: the library runs float32 and float16`;
  }
  const vector = (variable: string | undefined) => {
    if (variable === undefined) return undefined;
    return match.perChannel.get(variable) ?? { values: match.constants.get(variable)?.values ?? [], minRank: 1 };
  };
  const scale = vector(options.scale);
  const bias = vector(options.bias);
  const ranks = [scale, bias].map((v) => (v && 'rank' in v ? v.rank : undefined)).filter((r) => r !== undefined);
  if (ranks.some((r) => r !== ranks[0])) return `its scale and bias broadcast at different ranks (${ranks.join(', ')})`;
  const rank = ranks[0];
  const minRank = Math.max(3, scale?.minRank ?? 0, bias?.minRank ?? 0);
  const widths = [scale, bias].map((v) => v?.values.length ?? 1).filter((n) => n > 1);
  if (widths.some((n) => n !== widths[0])) return `its scale and bias have ${widths.join(' and ')} values`;
  const channels = widths[0];
  const dims = declared?.dims;
  if (dims) {
    if (dims.length < 3 || dims.length > 5) {
      return `its input has rank ${dims.length}: the library takes rank 3 to 5 (N, C and 1 to 3 spatial dimensions)`;
    }
    if (rank !== undefined && dims.length !== rank) return `its scale broadcasts per channel at rank ${rank}, not ${dims.length}`;
    if (dims.length < minRank) return `its scale has rank ${minRank}, more than its input's ${dims.length}`;
    const c = layout === 'nchw' ? dims[1] : dims[dims.length - 1];
    if (typeof c === 'number' && channels !== undefined && c !== channels) return `${channels} scale values for ${c} channels`;
    const groups = number(options.groups);
    if (typeof c === 'number' && groups !== undefined && c % groups !== 0) return `${groups} groups do not divide ${c} channels`;
  }
  if (rank !== undefined && (rank < 3 || rank > 5))
    return `its scale broadcasts per channel at rank ${rank}: the library takes 3 to 5`;
  const groups = number(options.groups);
  if (groups !== undefined && !(Number.isInteger(groups) && groups >= 1)) return `groups = ${groups}`;
  const silu = number(options.activation) === 1;
  return {
    kind: pattern.kind as Takeover['kind'],
    anchor: nodeLabel(anchor),
    nodes: [...match.nodes, ...absorbedConstants(index, match)].sort((a, b) => a.index - b.index),
    input,
    output: match.tensors.get(pattern.output) as string,
    layout,
    epsilon,
    ...(groups !== undefined ? { groups } : {}),
    ...(scale ? { scale: scale.values } : {}),
    ...(bias ? { bias: bias.values } : {}),
    ...(channels !== undefined ? { channels } : {}),
    ...(rank !== undefined ? { rank } : {}),
    minRank,
    ...(dataType ? { dataType } : {}),
    activation: silu ? 'silu' : 'none',
    epilogue: [],
  };
}

/** The Constant nodes of a match that nothing outside it reads: no stretch needs them. */
function absorbedConstants(index: GraphIndex, match: Match): OnnxNode[] {
  const inside = new Set(match.nodes);
  const absorbed: OnnxNode[] = [];
  for (const constant of match.constants.values()) {
    const node = constant.node;
    if (!node || inside.has(node)) continue;
    if (
      (index.consumers.get(node.outputs[0]) ?? []).every((reader) => inside.has(reader)) &&
      !index.graphOutputs.has(node.outputs[0])
    ) {
      absorbed.push(node);
      inside.add(node);
    }
  }
  return absorbed;
}

/** The takeover with the activation and residual Add that follow it fused, as far as they can be. */
function withEpilogue(
  index: GraphIndex,
  start: Takeover,
  claimed: ReadonlySet<OnnxNode>,
  leaveToOrt: ReadonlySet<OnnxTakeoverKind>,
  leftToOrt: LeftToOrt[],
): Takeover {
  let step = start;
  let extended = true;
  while (extended) {
    extended = false;
    const tensor = step.output;
    if (index.graphOutputs.has(tensor)) break;
    const readers = [...new Set(index.consumers.get(tensor) ?? [])];
    for (const pattern of EPILOGUE_PATTERNS) {
      const anchorOp = pattern.nodes[pattern.anchor].op;
      for (const reader of readers.filter((r) => r.opType === anchorOp && r.domain === '')) {
        const result = matchPattern(index, pattern, reader, new Set([...claimed, ...step.nodes]), { [pattern.input]: tensor });
        if (!result.ok) continue;
        const problem = epilogueProblem(index, step, pattern, result.match, readers, leaveToOrt);
        if (problem) {
          leftToOrt.push({ node: nodeLabel(reader), kind: pattern.kind, reason: problem });
          continue;
        }
        step = fuse(step, pattern, result.match, tensor);
        extended = true;
        break;
      }
      if (extended) break;
    }
  }
  return step;
}

/** Why a matched epilogue part cannot join `step`, or undefined where it can. */
function epilogueProblem(
  index: GraphIndex,
  step: Takeover,
  pattern: EpiloguePattern,
  match: Match,
  readers: readonly OnnxNode[],
  leaveToOrt: ReadonlySet<OnnxTakeoverKind>,
): string | undefined {
  if (leaveToOrt.has(pattern.kind)) return 'left to ORT by the leaveToOrt option';
  const inside = new Set(match.nodes);
  const outside = readers.find((reader) => !inside.has(reader));
  if (outside) return `'${step.output}' is also read by ${nodeLabel(outside)}: the fusion ends there`;
  if (pattern.activation && step.activation !== 'none') return `the epilogue already has an activation (${step.activation})`;
  if (pattern.residual) {
    if (step.residual !== undefined) return 'the epilogue already adds a residual';
    const residual = match.tensors.get(pattern.residual) as string;
    if (index.constant(residual)) return `'${residual}' is a constant, not a residual tensor`;
    const mine = index.declared.get(step.input)?.dims;
    const theirs = index.declared.get(residual)?.dims;
    if (mine && theirs && !sameShape(mine, theirs)) {
      return `'${residual}' has dims [${theirs.join(', ')}], not the normalized tensor's [${mine.join(', ')}]: a broadcast`;
    }
  }
  return undefined;
}

/** Whether two declared shapes may be the same: of one rank, with no dim two different numbers (symbols are checked at run time). */
function sameShape(a: readonly (number | string | undefined)[], b: readonly (number | string | undefined)[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((d, i) => !(typeof d === 'number' && typeof b[i] === 'number' && d !== b[i]));
}

/** `step` with the epilogue part `match` of `pattern` fused after tensor `from`. */
function fuse(step: Takeover, pattern: EpiloguePattern, match: Match, from: string): Takeover {
  const nodes = [...step.nodes, ...match.nodes].sort((a, b) => a.index - b.index);
  const part: EpiloguePart = { kind: pattern.kind, nodes: match.nodes.map(nodeLabel) };
  const output = match.tensors.get(pattern.output) as string;
  if (pattern.residual) {
    return {
      ...step,
      nodes,
      output,
      residual: match.tensors.get(pattern.residual) as string,
      residualPosition: 'after-activation',
      residualTail: { addend: from, nodes: [...match.nodes] },
      epilogue: [...step.epilogue, part],
    };
  }
  const activation = pattern.activation as Activation;
  const alpha = pattern.alpha ? match.numbers.get(pattern.alpha) : undefined;
  return {
    ...step,
    nodes,
    output,
    activation,
    ...(alpha !== undefined ? { activationAlpha: alpha } : {}),
    // An activation after the Add: the residual is added before it, and ORT's fallback runs both.
    ...(step.residualTail
      ? {
          residualPosition: 'before-activation',
          residualTail: { ...step.residualTail, nodes: [...step.residualTail.nodes, ...match.nodes] },
        }
      : {}),
    epilogue: [...step.epilogue, part],
  };
}
