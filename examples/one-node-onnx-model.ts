/**
 * A one-node ONNX model (opset 17) serialized by hand: the few protobuf messages it needs, so the
 * examples and the benchmark build their models in memory and download nothing. A real app
 * loads its .onnx file instead. Field numbers from onnx/onnx.proto.
 */

import { field, float32Field, message, stringField, varintField } from './protobuf-writer';
export interface OneNodeModel {
  /** The ONNX operator, e.g. 'Relu' or 'InstanceNormalization'. */
  readonly opType: string;
  /** Graph inputs, in the node's input order, all float32. */
  readonly inputs: readonly { name: string; dims: readonly number[] }[];
  /** The graph's one output, float32. */
  readonly output: { name: string; dims: readonly number[] };
  /** Float attributes of the node, e.g. `{ epsilon: 1e-5 }`. */
  readonly floatAttributes?: Readonly<Record<string, number>>;
}

export function oneNodeModel(model: OneNodeModel): Uint8Array {
  const FLOAT = 1; // TensorProto.DataType and AttributeProto.AttributeType alike
  const tensorType = (dims: readonly number[]) =>
    message([
      field(1, message([varintField(1, FLOAT), field(2, message(dims.map((d) => field(1, message([varintField(1, d)])))))])),
    ]);
  const valueInfo = (name: string, dims: readonly number[]) => message([stringField(1, name), field(2, tensorType(dims))]);
  const attributes = Object.entries(model.floatAttributes ?? {}).map(([name, value]) =>
    field(5, message([stringField(1, name), float32Field(2, value), varintField(20, FLOAT)])),
  );
  const node = message([
    ...model.inputs.map((input) => stringField(1, input.name)),
    stringField(2, model.output.name),
    stringField(3, model.opType.toLowerCase()),
    stringField(4, model.opType),
    ...attributes,
  ]);
  const graph = message([
    field(1, node),
    stringField(2, `${model.opType.toLowerCase()}_graph`),
    ...model.inputs.map((input) => field(11, valueInfo(input.name, input.dims))),
    field(12, valueInfo(model.output.name, model.output.dims)),
  ]);
  return message([
    varintField(1, 8), // ir_version
    stringField(2, 'webgpu-instancenorm'),
    field(7, graph),
    field(8, message([stringField(1, ''), varintField(2, 17)])), // opset_import
  ]);
}

/** `Y = InstanceNormalization(X, scale, B)` over a tensor of `shape` (NCHW). */
export function instanceNormModel(shape: readonly number[], epsilon: number): Uint8Array {
  return oneNodeModel({
    opType: 'InstanceNormalization',
    inputs: [
      { name: 'X', dims: shape },
      { name: 'scale', dims: [shape[1]] },
      { name: 'B', dims: [shape[1]] },
    ],
    output: { name: 'Y', dims: shape },
    floatAttributes: { epsilon },
  });
}
