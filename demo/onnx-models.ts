/**
 * ONNX models (opset 17) serialized in the page, so the comparison downloads no model: the few
 * protobuf messages a small graph needs, with initializers. Field numbers from onnx/onnx.proto.
 * (examples/one-node-onnx-model.ts does one node; GroupNorm + SiLU as exported takes seven.)
 */

import { field, float32Field, message, stringField, varintField } from '../examples/protobuf-writer';

interface Node {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly output: string;
  readonly floatAttributes?: Readonly<Record<string, number>>;
}

interface Initializer {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: Float32Array | BigInt64Array;
}

interface Graph {
  readonly inputs: readonly { name: string; dims: readonly number[] }[];
  readonly output: { name: string; dims: readonly number[] };
  readonly initializers: readonly Initializer[];
  readonly nodes: readonly Node[];
}

const FLOAT = 1; // TensorProto.DataType FLOAT, and AttributeProto.AttributeType FLOAT
const INT64 = 7; // TensorProto.DataType INT64

function serialize(graph: Graph): Uint8Array {
  const tensorType = (dims: readonly number[]) =>
    message([
      field(1, message([varintField(1, FLOAT), field(2, message(dims.map((d) => field(1, message([varintField(1, d)])))))])),
    ]);
  const valueInfo = (name: string, dims: readonly number[]) => message([stringField(1, name), field(2, tensorType(dims))]);
  const node = (n: Node, i: number) =>
    message([
      ...n.inputs.map((input) => stringField(1, input)),
      stringField(2, n.output),
      stringField(3, `${n.op.toLowerCase()}_${i}`),
      stringField(4, n.op),
      ...Object.entries(n.floatAttributes ?? {}).map(([name, value]) =>
        field(5, message([stringField(1, name), float32Field(2, value), varintField(20, FLOAT)])),
      ),
    ]);
  const initializer = (t: Initializer) =>
    message([
      ...t.dims.map((d) => varintField(1, d)),
      varintField(2, t.data instanceof Float32Array ? FLOAT : INT64),
      stringField(8, t.name),
      field(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)),
    ]);
  const body = message([
    ...graph.nodes.map((n, i) => field(1, node(n, i))),
    stringField(2, 'demo_graph'),
    ...graph.initializers.map((t) => field(5, initializer(t))),
    ...graph.inputs.map((input) => field(11, valueInfo(input.name, input.dims))),
    field(12, valueInfo(graph.output.name, graph.output.dims)),
  ]);
  return message([
    varintField(1, 8), // ir_version
    stringField(2, 'webgpu-instancenorm-demo'),
    field(7, body),
    field(8, message([stringField(1, ''), varintField(2, 17)])), // opset_import
  ]);
}

/** `Y = InstanceNormalization(X, scale, B)`, X of `shape` (NCHW), scale and B of C. */
export function instanceNormModel(shape: readonly number[], epsilon: number): Uint8Array {
  return serialize({
    inputs: [
      { name: 'X', dims: shape },
      { name: 'scale', dims: [shape[1]] },
      { name: 'B', dims: [shape[1]] },
    ],
    output: { name: 'Y', dims: shape },
    initializers: [],
    nodes: [{ op: 'InstanceNormalization', inputs: ['X', 'scale', 'B'], output: 'Y', floatAttributes: { epsilon } }],
  });
}

/**
 * `Y = silu(GroupNorm(X) · scale + B)` as PyTorch's exporter writes GroupNorm before opset 18:
 * X reshaped to [N, G, -1], InstanceNormalization with unit scale and zero bias over each group,
 * reshaped back, the per-channel affine as Mul and Add ([C, 1, 1] broadcast), then x · sigmoid(x).
 */
export function groupNormSiluModel(shape: readonly number[], groups: number, epsilon: number): Uint8Array {
  const [n, c] = shape;
  return serialize({
    inputs: [
      { name: 'X', dims: shape },
      { name: 'scale', dims: [c, 1, 1] },
      { name: 'B', dims: [c, 1, 1] },
    ],
    output: { name: 'Y', dims: shape },
    initializers: [
      { name: 'grouped_shape', dims: [3], data: BigInt64Array.from([BigInt(n), BigInt(groups), -1n]) },
      { name: 'original_shape', dims: [4], data: BigInt64Array.from(shape.map((d) => BigInt(d))) },
      { name: 'ones', dims: [groups], data: new Float32Array(groups).fill(1) },
      { name: 'zeros', dims: [groups], data: new Float32Array(groups) },
    ],
    nodes: [
      { op: 'Reshape', inputs: ['X', 'grouped_shape'], output: 'grouped' },
      { op: 'InstanceNormalization', inputs: ['grouped', 'ones', 'zeros'], output: 'normalized', floatAttributes: { epsilon } },
      { op: 'Reshape', inputs: ['normalized', 'original_shape'], output: 'ungrouped' },
      { op: 'Mul', inputs: ['ungrouped', 'scale'], output: 'scaled' },
      { op: 'Add', inputs: ['scaled', 'B'], output: 'affine' },
      { op: 'Sigmoid', inputs: ['affine'], output: 'gate' },
      { op: 'Mul', inputs: ['affine', 'gate'], output: 'Y' },
    ],
  });
}
