import {
  type ExternalFiles,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
  tensorValues,
} from './onnx-model.js';

// Who produces and who reads each tensor of the main graph, and which tensors are constants:
// what the pattern matcher and the graph cut look up.

/** A constant tensor: an initializer no graph input overrides, or a Constant node's value. */
export interface ConstantValue {
  readonly dims: readonly number[];
  readonly dataType: number;
  /** The values, undefined where they are in an external file not given. */
  readonly values?: readonly number[];
  /** The Constant node that makes it, if any. */
  readonly node?: OnnxNode;
}

/** The lookups of one model's main graph. */
export interface GraphIndex {
  readonly model: OnnxModel;
  /** The node producing each tensor. */
  readonly producer: ReadonlyMap<string, OnnxNode>;
  /** The nodes reading each tensor (a node reading it twice is listed twice), subgraph reads included. */
  readonly consumers: ReadonlyMap<string, readonly OnnxNode[]>;
  readonly graphInputs: ReadonlySet<string>;
  readonly graphOutputs: ReadonlySet<string>;
  /** What the model says of a tensor's type and shape: graph inputs, outputs and value infos. */
  readonly declared: ReadonlyMap<string, OnnxValueInfo>;
  /** The constant of a tensor name, if it is one. */
  constant(name: string): ConstantValue | undefined;
}

/** Indexes the main graph of `model`; `files` gives the external data files, where the model has any. */
export function indexGraph(model: OnnxModel, files?: ExternalFiles): GraphIndex {
  const graph = model.graph;
  const producer = new Map<string, OnnxNode>();
  const consumers = new Map<string, OnnxNode[]>();
  for (const node of graph.nodes) {
    for (const output of node.outputs) if (output !== '') producer.set(output, node);
    for (const input of [...node.inputs, ...node.outerReads]) {
      if (input === '') continue;
      const list = consumers.get(input);
      if (list) list.push(node);
      else consumers.set(input, [node]);
    }
  }
  const graphInputs = new Set(graph.inputs.map((v) => v.name));
  const declared = new Map<string, OnnxValueInfo>([
    ...graph.valueInfo,
    ...graph.outputs.map((v) => [v.name, v] as const),
    ...graph.inputs.map((v) => [v.name, v] as const),
  ]);
  const constants = new Map<string, ConstantValue | undefined>();
  const constant = (name: string): ConstantValue | undefined => {
    if (constants.has(name)) return constants.get(name);
    const value = findConstant(name);
    constants.set(name, value);
    return value;
  };
  const findConstant = (name: string): ConstantValue | undefined => {
    const initializer = graph.initializers.get(name);
    if (initializer) return graphInputs.has(name) ? undefined : fromTensor(initializer, undefined, files);
    const node = producer.get(name);
    if (node?.opType !== 'Constant' || node.domain !== '') return undefined;
    return constantNodeValue(node, files);
  };
  return {
    model,
    producer,
    consumers,
    graphInputs,
    graphOutputs: new Set(graph.outputs.map((v) => v.name)),
    declared,
    constant,
  };
}

function fromTensor(tensor: OnnxTensor, node?: OnnxNode, files?: ExternalFiles): ConstantValue {
  return { dims: tensor.dims, dataType: tensor.dataType, values: tensorValues(tensor, files), ...(node ? { node } : {}) };
}

/** A Constant node's value: its `value` tensor, or value_float(s) / value_int(s) (opset 12). */
function constantNodeValue(node: OnnxNode, files?: ExternalFiles): ConstantValue | undefined {
  const FLOAT = 1;
  const INT64 = 7;
  const value = node.attributes.get('value');
  if (value?.tensor) return fromTensor(value.tensor, node, files);
  const scalar = node.attributes.get('value_float') ?? node.attributes.get('value_int');
  if (scalar) {
    const isFloat = scalar.name === 'value_float';
    return { dims: [], dataType: isFloat ? FLOAT : INT64, values: [(isFloat ? scalar.float : scalar.int) ?? 0], node };
  }
  const list = node.attributes.get('value_floats') ?? node.attributes.get('value_ints');
  if (list) {
    const isFloat = list.name === 'value_floats';
    const values = (isFloat ? list.floats : list.ints) ?? [];
    return { dims: [values.length], dataType: isFloat ? FLOAT : INT64, values, node };
  }
  return undefined;
}
