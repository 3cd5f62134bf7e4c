import type { ConstantValue, GraphIndex } from './graph-index.js';
import type { OnnxNode } from './onnx-model.js';
import type { Pattern, PatternNode } from './patterns.js';

// Finding one pattern (patterns.ts) in a graph, from a node that may be its anchor: a search
// that binds the pattern's variables to tensor names and its nodes to graph nodes, following
// edges out of what is bound (a producer, or the readers of a tensor), trying both input orders
// of a commutative op; then the checks that make a structural match a real one: every tensor
// made inside is read inside only, and every constant holds what the pattern requires.

/** A constant that broadcasts along the channel axis alone. */
export interface PerChannel {
  /** C values, or 1 for a scalar (or all-ones dims) that applies to every channel. */
  readonly values: readonly number[];
  /** The input rank it broadcasts per channel at ([C, 1, 1] → 4); undefined for a scalar. */
  readonly rank?: number;
  /** A scalar-like constant's rank: the input's must be at least this. */
  readonly minRank: number;
}

/** A pattern found. */
export interface Match {
  /** Each variable's tensor name. */
  readonly tensors: ReadonlyMap<string, string>;
  /** The graph node of each pattern node, in the pattern's order. */
  readonly nodes: readonly OnnxNode[];
  /** Numbers bound by attributes (epsilon, groups, alpha) and constants' lengths. */
  readonly numbers: ReadonlyMap<string, number>;
  /** The constants, by variable. */
  readonly constants: ReadonlyMap<string, ConstantValue>;
  /** The per-channel constants, by variable. */
  readonly perChannel: ReadonlyMap<string, PerChannel>;
}

/** A match, or why there is none and how many of the pattern's nodes were found before that. */
export type MatchResult =
  | { readonly ok: true; readonly match: Match }
  | { readonly ok: false; readonly reason: string; readonly found: number };

interface State {
  readonly tensors: Map<string, string>;
  readonly nodes: (OnnxNode | undefined)[];
  readonly numbers: Map<string, number>;
}

/** Names a node in a reason: its op and name, or its first output where it has no name. */
export function nodeLabel(node: OnnxNode): string {
  return `${node.opType} '${node.name || node.outputs[0] || `#${node.index}`}'`;
}

/**
 * Matches `pattern` with its anchor at `anchor`. Nodes in `claimed` (taken by an earlier match)
 * are not used; `given` binds variables to tensors before the search (an epilogue's input).
 */
export function matchPattern(
  index: GraphIndex,
  pattern: Pattern,
  anchor: OnnxNode,
  claimed: ReadonlySet<OnnxNode> = new Set(),
  given: Readonly<Record<string, string>> = {},
): MatchResult {
  const start: State = { tensors: new Map(Object.entries(given)), nodes: pattern.nodes.map(() => undefined), numbers: new Map() };
  let best: { reason: string; found: number } = { reason: `no ${pattern.nodes[pattern.anchor].op} here`, found: 0 };
  const fail = (reason: string, found: number): void => {
    if (found > best.found) best = { reason, found };
  };
  const search = (state: State): Match | undefined => {
    const found = state.nodes.filter(Boolean).length;
    if (found === pattern.nodes.length) {
      const checked = checkMatch(index, pattern, state);
      if (typeof checked === 'string') fail(checked, found);
      else return checked;
      return undefined;
    }
    const next = nextNode(index, pattern, state);
    if (!next) {
      fail('the pattern is not connected', found);
      return undefined;
    }
    const { position, candidates, missing } = next;
    if (candidates.length === 0) fail(missing, found);
    for (const candidate of candidates) {
      if (claimed.has(candidate) || state.nodes.includes(candidate)) {
        fail(`${nodeLabel(candidate)} is already part of another match`, found);
        continue;
      }
      for (const bound of bindNode(pattern.nodes[position], candidate, state, position)) {
        if (typeof bound === 'string') {
          fail(bound, found + 1);
          continue;
        }
        const match = search(bound);
        if (match) return match;
      }
    }
    return undefined;
  };
  const first = [...bindNode(pattern.nodes[pattern.anchor], anchor, start, pattern.anchor)];
  for (const bound of first) {
    if (typeof bound === 'string') {
      fail(bound, 1);
      continue;
    }
    const match = search(bound);
    if (match) return { ok: true, match };
  }
  return { ok: false, ...best };
}

/** The next pattern node to bind: one next to a bound tensor, with the graph nodes it could be. */
function nextNode(
  index: GraphIndex,
  pattern: Pattern,
  state: State,
): { position: number; candidates: OnnxNode[]; missing: string } | undefined {
  for (let position = 0; position < pattern.nodes.length; position++) {
    if (state.nodes[position]) continue;
    const node = pattern.nodes[position];
    for (const variable of node.outputs) {
      const tensor = state.tensors.get(variable);
      if (tensor === undefined) continue;
      const producer = index.producer.get(tensor);
      const fits = producer && producer.opType === node.op && producer.domain === (node.domain ?? '');
      return {
        position,
        candidates: fits ? [producer] : [],
        missing: `'${tensor}' is made by ${producer ? nodeLabel(producer) : 'no node'}, not by a ${node.op}`,
      };
    }
    for (const variable of node.inputs) {
      const tensor = state.tensors.get(variable);
      if (tensor === undefined) continue;
      const readers = [...new Set(index.consumers.get(tensor) ?? [])];
      const candidates = readers.filter((reader) => reader.opType === node.op && reader.domain === (node.domain ?? ''));
      return { position, candidates, missing: `no ${node.op} reads '${tensor}'` };
    }
  }
  return undefined;
}

/** The states with `node` bound to pattern node `pattern` (both input orders where commutative), or why it cannot be. */
function* bindNode(pattern: PatternNode, node: OnnxNode, state: State, position: number): Generator<State | string> {
  const label = nodeLabel(node);
  if (node.opType !== pattern.op || node.domain !== (pattern.domain ?? '')) {
    yield `${label} is not a ${pattern.op}`;
    return;
  }
  const inputs = trimmed(node.inputs);
  const outputs = trimmed(node.outputs);
  if (inputs.length !== pattern.inputs.length) {
    yield `${label} has ${inputs.length} inputs where ${pattern.inputs.length} are expected`;
    return;
  }
  if (outputs.length !== pattern.outputs.length) {
    yield `${label} has ${outputs.length} outputs where ${pattern.outputs.length} are expected`;
    return;
  }
  const numbers = new Map(state.numbers);
  const attributeProblem = bindAttributes(pattern, node, numbers);
  if (attributeProblem) {
    yield `${label}: ${attributeProblem}`;
    return;
  }
  const orders = pattern.commutative && inputs.length === 2 ? [inputs, [inputs[1], inputs[0]]] : [inputs];
  for (const order of orders) {
    const tensors = new Map(state.tensors);
    const conflict = bindTensors(tensors, [...pattern.inputs, ...pattern.outputs], [...order, ...outputs]);
    if (conflict) {
      yield `${label}: ${conflict}`;
      continue;
    }
    const nodes = [...state.nodes];
    nodes[position] = node;
    yield { tensors, nodes, numbers };
  }
}

/** Drops trailing omitted optional inputs or outputs (''). */
function trimmed(names: readonly string[]): string[] {
  let end = names.length;
  while (end > 0 && names[end - 1] === '') end--;
  return names.slice(0, end);
}

/** Binds variables to tensors; distinct variables must be distinct tensors. The conflict, if any. */
function bindTensors(tensors: Map<string, string>, variables: readonly string[], names: readonly string[]): string | undefined {
  for (let i = 0; i < variables.length; i++) {
    const variable = variables[i];
    const name = names[i];
    const bound = tensors.get(variable);
    if (bound !== undefined && bound !== name) return `'${name}' where the pattern has '${bound}'`;
    for (const [other, tensor] of tensors) {
      if (other !== variable && tensor === name) return `'${name}' is read twice where the pattern reads two tensors`;
    }
    tensors.set(variable, name);
  }
  return undefined;
}

/** Checks a node's attributes against the pattern's rules, binding numbers; the problem, if any. */
function bindAttributes(pattern: PatternNode, node: OnnxNode, numbers: Map<string, number>): string | undefined {
  const rules = pattern.attributes ?? {};
  for (const [name, attribute] of node.attributes) {
    const rule = rules[name];
    if (!rule) return `attribute '${name}' is not one the library can honour`;
    if ('ignored' in rule) continue;
    const value = attribute.float ?? attribute.int;
    if (value === undefined) return `attribute '${name}' is not a number`;
    if ('equals' in rule) {
      if (value !== rule.equals) return `attribute ${name} = ${value}, where the library needs ${rule.equals}`;
      continue;
    }
    if (rule.oneOf && !rule.oneOf.includes(value)) return `attribute ${name} = ${value} is not one of ${rule.oneOf.join(', ')}`;
    numbers.set(rule.bind, value);
  }
  for (const [name, rule] of Object.entries(rules)) {
    if (!('bind' in rule) || node.attributes.has(name)) continue;
    if (rule.fallback === undefined) return `the required attribute '${name}' is missing`;
    numbers.set(rule.bind, rule.fallback);
  }
  return undefined;
}

/** The checks of a structural match: tensors made inside read inside only, constants as required. */
function checkMatch(index: GraphIndex, pattern: Pattern, state: State): Match | string {
  const nodes = state.nodes as OnnxNode[];
  const inside = new Set(nodes);
  for (const node of pattern.nodes) {
    for (const variable of node.outputs) {
      if (variable === pattern.output) continue;
      const tensor = state.tensors.get(variable) as string;
      if (index.graphOutputs.has(tensor)) return `'${tensor}' is a graph output: the chain cannot be fused there`;
      const outside = (index.consumers.get(tensor) ?? []).find((reader) => !inside.has(reader));
      if (outside) return `'${tensor}' is also read by ${nodeLabel(outside)}: the chain cannot be fused there`;
    }
  }
  const numbers = new Map(state.numbers);
  const constants = new Map<string, ConstantValue>();
  const perChannel = new Map<string, PerChannel>();
  const rules = Object.entries(pattern.constants ?? {});
  for (const [variable] of rules) {
    const tensor = state.tensors.get(variable) as string;
    const constant = index.constant(tensor);
    if (!constant) return `'${tensor}' is not a constant (an initializer or a Constant node)`;
    if (!constant.values) return `'${tensor}' is in external data that sessionOptions.externalData does not give`;
    constants.set(variable, constant);
  }
  // Lengths first (they bind the group count), then the exact values that use it.
  const ordered = [...rules].sort(([, a], [, b]) => Number('values' in a) - Number('values' in b));
  for (const [variable, rule] of ordered) {
    const tensor = state.tensors.get(variable) as string;
    const constant = constants.get(variable) as ConstantValue;
    const values = constant.values as readonly number[];
    if ('perChannel' in rule) {
      const found = perChannelOf(constant.dims, values);
      if (typeof found === 'string') return `'${tensor}' ${found}`;
      perChannel.set(variable, found);
      continue;
    }
    if (constant.dims.length !== 1) return `'${tensor}' has dims [${constant.dims.join(', ')}] where a 1-D tensor is expected`;
    if ('values' in rule) {
      const expected = rule.values.map((v) => (typeof v === 'number' ? v : numbers.get(v)));
      if (values.length !== expected.length || values.some((v, i) => expected[i] !== undefined && v !== expected[i])) {
        return `'${tensor}' is [${values.join(', ')}] where [${rule.values.join(', ')}] is expected`;
      }
      rule.values.forEach((v, i) => {
        if (typeof v === 'string') numbers.set(v, values[i]);
      });
      continue;
    }
    const lengthVariable = 'fill' in rule ? rule.length : rule.vector;
    const length = numbers.get(lengthVariable);
    if (length !== undefined && length !== values.length) {
      return `'${tensor}' has ${values.length} values where ${length} are expected`;
    }
    numbers.set(lengthVariable, values.length);
    if ('fill' in rule && values.some((v) => v !== rule.fill)) {
      const shown = values.slice(0, 4).join(', ') + (values.length > 4 ? ', …' : '');
      return `'${tensor}' is [${shown}], not all ${rule.fill}`;
    }
  }
  return { tensors: state.tensors, nodes, numbers, constants, perChannel };
}

/** How a constant broadcasts along the channel axis alone, or why it does not. */
function perChannelOf(dims: readonly number[], values: readonly number[]): PerChannel | string {
  const wide = dims.map((d, i) => [d, i] as const).filter(([d]) => d !== 1);
  if (wide.length === 0) return { values: values.slice(0, 1), minRank: dims.length };
  if (wide.length > 1) return `has dims [${dims.join(', ')}]: it does not broadcast along the channels alone`;
  const [, at] = wide[0];
  // Aligned at the right, dim `at` of `dims` falls on axis 1 of an input of this rank.
  const rank = dims.length - at + 1;
  if (rank < 3) return `has dims [${dims.join(', ')}]: it broadcasts along the last axis, not the channels`;
  return { values, rank, minRank: dims.length };
}
