import type { OnnxModel, OnnxNode, OnnxValueInfo } from './onnx-model.js';
import { type Chunks, join, messageField, readFields, stringField, varintField } from './protobuf-wire.js';

// Writing the model of one stretch of the graph: the original ModelProto with its graph
// replaced by one holding some of its nodes, the initializers they read and new inputs and
// outputs. Everything else (ir_version, opset imports, producer, metadata, functions, fields
// this codec does not know) is copied byte for byte, as are the nodes, initializers (external
// data references included) and value infos that are kept.

/** A graph input or output of a sub-model: the original's value info where it has one of that name, else this type. */
export interface SubModelValue {
  readonly name: string;
  /** TensorProto.DataType, for a value info written here; undefined: no type (ORT infers a graph output's). */
  readonly elemType?: number;
  /** Dims for a value info written here: a number, a symbolic name, or undefined for an unknown dim; undefined: rank unknown. */
  readonly dims?: readonly (number | string | undefined)[];
}

/** What a sub-model holds. */
export interface SubModelSpec {
  /** Its nodes, in an order where each node's inputs come before it. */
  readonly nodes: readonly OnnxNode[];
  readonly inputs: readonly SubModelValue[];
  readonly outputs: readonly SubModelValue[];
}

/** The bytes of the sub-model `spec` of `model`. */
export function writeSubModel(model: OnnxModel, spec: SubModelSpec): Uint8Array {
  const graph = model.graph;
  const reads = new Set(spec.nodes.flatMap((node) => [...node.inputs, ...node.outerReads]));
  const produced = new Set(spec.nodes.flatMap((node) => node.outputs));
  const boundary = new Set([...spec.inputs, ...spec.outputs].map((value) => value.name));
  const originalInfo = new Map<string, OnnxValueInfo>([
    ...graph.valueInfo,
    ...graph.inputs.map((v) => [v.name, v] as const),
    ...graph.outputs.map((v) => [v.name, v] as const),
  ]);
  // The original's value info where it has a typed one (its dims, denotations and doc kept), else one written here.
  const valueInfo = (value: SubModelValue): Chunks => {
    const original = originalInfo.get(value.name);
    return [original && original.elemType !== undefined ? original.bytes : writeValueInfo(value)];
  };
  const graphFields: Chunks = [];
  let nodesWritten = false;
  let boundaryWritten = false;
  for (const field of readFields(graph.bytes)) {
    const fieldBytes = graph.bytes.subarray(field.start, field.end);
    const fieldBody = graph.bytes.subarray(field.valueStart, field.end);
    switch (field.number) {
      case 1: // node: the kept ones, once, where the first node was
        if (!nodesWritten) {
          for (const node of spec.nodes) graphFields.push(...messageField(1, [node.bytes]));
          nodesWritten = true;
        }
        break;
      case 5: // initializer
      case 15: {
        // sparse_initializer
        const name = field.number === 5 ? initializerName(fieldBody) : sparseNameOf(graph, fieldBody);
        if (reads.has(name)) graphFields.push(fieldBytes);
        break;
      }
      case 11: // input
      case 12: // output: the sub-model's own, once, where the original's inputs were
        if (!boundaryWritten) {
          for (const value of spec.inputs) graphFields.push(...messageField(11, valueInfo(value)));
          for (const value of spec.outputs) graphFields.push(...messageField(12, valueInfo(value)));
          boundaryWritten = true;
        }
        break;
      case 13: {
        // value_info: those of tensors inside the sub-model, but its inputs and outputs
        const name = valueInfoName(fieldBody);
        if ((produced.has(name) || reads.has(name)) && !boundary.has(name)) graphFields.push(fieldBytes);
        break;
      }
      case 14: {
        // quantization_annotation: those of tensors inside the sub-model
        const name = annotationName(fieldBody);
        if (produced.has(name) || reads.has(name)) graphFields.push(fieldBytes);
        break;
      }
      default: // name, doc_string, metadata_props and anything newer: as they are
        graphFields.push(fieldBytes);
    }
  }
  if (!nodesWritten) for (const node of spec.nodes) graphFields.push(...messageField(1, [node.bytes]));
  if (!boundaryWritten) {
    for (const value of spec.inputs) graphFields.push(...messageField(11, valueInfo(value)));
    for (const value of spec.outputs) graphFields.push(...messageField(12, valueInfo(value)));
  }
  const modelFields: Chunks = [];
  for (const field of model.fields) {
    if (field.number === 7) modelFields.push(...messageField(7, graphFields));
    else modelFields.push(model.bytes.subarray(field.start, field.end));
  }
  return join(modelFields);
}

/** A ValueInfoProto of a tensor type: name (1), type (2) = TypeProto { tensor_type (1) = { elem_type (1), shape (2) } }. */
function writeValueInfo(value: SubModelValue): Uint8Array {
  if (value.elemType === undefined) return join(stringField(1, value.name));
  const tensorType: Chunks = [varintField(1, value.elemType)];
  if (value.dims) {
    const dims = value.dims.map((dim) =>
      messageField(1, typeof dim === 'number' ? [varintField(1, dim)] : typeof dim === 'string' ? stringField(2, dim) : []),
    );
    tensorType.push(...messageField(2, dims.flat()));
  }
  return join([...stringField(1, value.name), ...messageField(2, messageField(1, tensorType))]);
}

function initializerName(tensor: Uint8Array): string {
  return stringOf(tensor, 8);
}

function sparseNameOf(graph: OnnxModel['graph'], sparse: Uint8Array): string {
  for (const [name, bytes] of graph.sparseInitializers) if (bytes.byteOffset === sparse.byteOffset) return name;
  return '';
}

function valueInfoName(info: Uint8Array): string {
  return stringOf(info, 1);
}

function annotationName(annotation: Uint8Array): string {
  return stringOf(annotation, 1);
}

/** The first string field numbered `number` of a message, '' where it has none. */
function stringOf(message: Uint8Array, number: number): string {
  const field = readFields(message).find((f) => f.number === number && f.wireType === 2);
  return field ? new TextDecoder().decode(message.subarray(field.valueStart, field.end)) : '';
}
