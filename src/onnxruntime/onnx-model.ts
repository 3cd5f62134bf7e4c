import { fromFloat16Bits } from '../index.js';
import {
  body,
  doubles,
  float32Of,
  floats,
  readFields,
  text,
  varintOf,
  varints,
  WireError,
  type WireField,
} from './protobuf-wire.js';

// Reading a ModelProto (field numbers from onnx/onnx.proto) into the view the adapter needs:
// the main graph's nodes, initializers, inputs, outputs and value infos, and the model's opset
// imports. Every message keeps the bytes it was read from, so that a sub-model is written from
// the original's own bytes (sub-model.ts) and fields this reader does not interpret survive.

/** TensorProto.DataType values the adapter names. */
export const DataTypes = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  FLOAT16: 10,
  DOUBLE: 11,
  BFLOAT16: 16,
} as const;

/** ORT-web's name of a TensorProto.DataType, as its tensors' `type` spells it; undefined where it has none. */
export function ortTypeName(dataType: number): string | undefined {
  return ORT_TYPE_NAMES[dataType];
}

/** The TensorProto.DataType of an ORT-web type name (`'int64'` → 7); undefined where there is none. */
export function dataTypeOfOrtName(name: string): number | undefined {
  const found = Object.entries(ORT_TYPE_NAMES).find(([, n]) => n === name);
  return found ? Number(found[0]) : undefined;
}

const ORT_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  21: 'uint4',
  22: 'int4',
};

/** An operator set the model imports. */
export interface OpsetImport {
  /** '' (or 'ai.onnx') for the standard operators, 'com.microsoft' for ORT's contrib ops. */
  readonly domain: string;
  readonly version: number;
}

/** A tensor (an initializer, or a Constant node's value), its data left where it lies. */
export interface OnnxTensor {
  readonly name: string;
  readonly dims: readonly number[];
  /** TensorProto.DataType. */
  readonly dataType: number;
  /** Whether the values are in an external file (data_location EXTERNAL): passed through, read only where the file is given. */
  readonly external: boolean;
  /** Where in its external file the values are (external_data's location, offset and length). */
  readonly externalData?: { readonly location: string; readonly offset: number; readonly length?: number };
  /** The TensorProto's own bytes. */
  readonly bytes: Uint8Array;
  /** raw_data, where the values are stored so. */
  readonly rawData?: Uint8Array;
  /** The typed fields, where the values are stored so: float_data, int32_data, int64_data, double_data. */
  readonly floatData?: readonly number[];
  readonly int32Data?: readonly number[];
  readonly int64Data?: readonly number[];
  readonly doubleData?: readonly number[];
}

/** One attribute of a node. */
export interface OnnxAttribute {
  readonly name: string;
  /** AttributeProto.AttributeType: 1 FLOAT, 2 INT, 3 STRING, 4 TENSOR, 5 GRAPH, 6 FLOATS, 7 INTS, 8 STRINGS, … */
  readonly type: number;
  readonly float?: number;
  readonly int?: number;
  readonly string?: string;
  readonly tensor?: OnnxTensor;
  readonly floats?: readonly number[];
  readonly ints?: readonly number[];
  /** Bodies of GRAPH and GRAPHS attributes (If, Loop, Scan). */
  readonly graphs: readonly OnnxGraph[];
}

/** One node of the graph. */
export interface OnnxNode {
  /** The node's position in the graph's node list. */
  readonly index: number;
  /** The node's name ('' where it has none). */
  readonly name: string;
  readonly opType: string;
  /** '' for the standard operators ('ai.onnx' is read as ''). */
  readonly domain: string;
  /** Input names, '' for an omitted optional input. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: ReadonlyMap<string, OnnxAttribute>;
  /** Names its subgraphs (If, Loop, Scan bodies) read from the enclosing scopes. */
  readonly outerReads: readonly string[];
  /** The NodeProto's own bytes. */
  readonly bytes: Uint8Array;
}

/** What a value info (a graph input, output or value_info entry) says of a tensor. */
export interface OnnxValueInfo {
  readonly name: string;
  /** TensorProto.DataType of a tensor type; undefined for other types or none given. */
  readonly elemType?: number;
  /** Each dim's value, symbolic name, or undefined where unknown; undefined where the rank is unknown. */
  readonly dims?: readonly (number | string | undefined)[];
  /** The ValueInfoProto's own bytes. */
  readonly bytes: Uint8Array;
}

/** A graph: the model's main graph, or the body of a node's attribute. */
export interface OnnxGraph {
  readonly name: string;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: ReadonlyMap<string, OnnxTensor>;
  /** Names of the sparse initializers (kept as bytes in `fields`). */
  readonly sparseInitializers: ReadonlyMap<string, Uint8Array>;
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  readonly valueInfo: ReadonlyMap<string, OnnxValueInfo>;
  /** The GraphProto's bytes and its fields, in file order. */
  readonly bytes: Uint8Array;
  readonly fields: readonly WireField[];
}

/** A model as read. */
export interface OnnxModel {
  readonly irVersion: number;
  readonly opsetImports: readonly OpsetImport[];
  readonly graph: OnnxGraph;
  /** The file's bytes and the ModelProto's fields, in file order. */
  readonly bytes: Uint8Array;
  readonly fields: readonly WireField[];
}

/** The reason a file is not a model this reader understands. */
export class ModelFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFormatError';
  }
}

/**
 * Reads an ONNX file. Throws a ModelFormatError naming what is wrong where the bytes are not a
 * ModelProto with a graph (truncated, another format, a field of the wrong wire type).
 */
export function readModel(bytes: Uint8Array): OnnxModel {
  if (bytes.length === 0) throw new ModelFormatError('the file is empty');
  try {
    const fields = readFields(bytes);
    let irVersion: number | undefined;
    let graph: OnnxGraph | undefined;
    const opsetImports: OpsetImport[] = [];
    for (const field of fields) {
      if (field.number === 1) irVersion = varintOf(field);
      else if (field.number === 7) graph = readGraph(body(bytes, field));
      else if (field.number === 8) opsetImports.push(readOpset(body(bytes, field)));
    }
    if (irVersion === undefined) throw new ModelFormatError('it has no ir_version (field 1 of ModelProto)');
    if (graph === undefined) throw new ModelFormatError('it has no graph (field 7 of ModelProto)');
    return { irVersion, opsetImports, graph, bytes, fields };
  } catch (error) {
    if (error instanceof WireError) throw new ModelFormatError(`${error.message} (at byte ${error.offset} of ${bytes.length})`);
    throw error;
  }
}

function readOpset(bytes: Uint8Array): OpsetImport {
  let domain = '';
  let version = 0;
  for (const field of readFields(bytes)) {
    if (field.number === 1) domain = text(bytes, field);
    else if (field.number === 2) version = varintOf(field);
  }
  return { domain: domain === 'ai.onnx' ? '' : domain, version };
}

function readGraph(bytes: Uint8Array): OnnxGraph {
  const fields = readFields(bytes);
  let name = '';
  const nodes: OnnxNode[] = [];
  const initializers = new Map<string, OnnxTensor>();
  const sparseInitializers = new Map<string, Uint8Array>();
  const inputs: OnnxValueInfo[] = [];
  const outputs: OnnxValueInfo[] = [];
  const valueInfo = new Map<string, OnnxValueInfo>();
  for (const field of fields) {
    switch (field.number) {
      case 1:
        nodes.push(readNode(body(bytes, field), nodes.length));
        break;
      case 2:
        name = text(bytes, field);
        break;
      case 5: {
        const tensor = readTensor(body(bytes, field));
        initializers.set(tensor.name, tensor);
        break;
      }
      case 11:
        inputs.push(readValueInfo(body(bytes, field)));
        break;
      case 12:
        outputs.push(readValueInfo(body(bytes, field)));
        break;
      case 13: {
        const info = readValueInfo(body(bytes, field));
        valueInfo.set(info.name, info);
        break;
      }
      case 15: {
        const sparse = body(bytes, field);
        sparseInitializers.set(sparseName(sparse), sparse);
        break;
      }
    }
  }
  return { name, nodes, initializers, sparseInitializers, inputs, outputs, valueInfo, bytes, fields };
}

/** A SparseTensorProto's name: that of its `values` tensor (field 1). */
function sparseName(bytes: Uint8Array): string {
  const values = readFields(bytes).find((field) => field.number === 1);
  return values ? readTensor(body(bytes, values)).name : '';
}

function readNode(bytes: Uint8Array, index: number): OnnxNode {
  const inputs: string[] = [];
  const outputs: string[] = [];
  const attributes = new Map<string, OnnxAttribute>();
  let name = '';
  let opType = '';
  let domain = '';
  for (const field of readFields(bytes)) {
    switch (field.number) {
      case 1:
        inputs.push(text(bytes, field));
        break;
      case 2:
        outputs.push(text(bytes, field));
        break;
      case 3:
        name = text(bytes, field);
        break;
      case 4:
        opType = text(bytes, field);
        break;
      case 5: {
        const attribute = readAttribute(body(bytes, field));
        attributes.set(attribute.name, attribute);
        break;
      }
      case 7:
        domain = text(bytes, field);
        break;
    }
  }
  if (opType === '') throw new ModelFormatError(`node ${index}${name ? ` '${name}'` : ''} has no op_type`);
  const outerReads = [...attributes.values()].flatMap((attribute) => attribute.graphs.flatMap(outerScopeReads));
  return {
    index,
    name,
    opType,
    domain: domain === 'ai.onnx' ? '' : domain,
    inputs,
    outputs,
    attributes,
    outerReads: [...new Set(outerReads)],
    bytes,
  };
}

/** The names a subgraph reads that it does not define: values of the scopes around it. */
function outerScopeReads(graph: OnnxGraph): string[] {
  const defined = new Set<string>([
    ...graph.inputs.map((v) => v.name),
    ...graph.initializers.keys(),
    ...graph.sparseInitializers.keys(),
  ]);
  const reads: string[] = [];
  for (const node of graph.nodes) {
    for (const name of [...node.inputs, ...node.outerReads]) if (name !== '' && !defined.has(name)) reads.push(name);
    for (const name of node.outputs) defined.add(name);
  }
  return reads;
}

function readAttribute(bytes: Uint8Array): OnnxAttribute {
  let name = '';
  let type = 0;
  const attribute: {
    float?: number;
    int?: number;
    string?: string;
    tensor?: OnnxTensor;
    floats?: number[];
    ints?: number[];
  } = {};
  const graphs: OnnxGraph[] = [];
  for (const field of readFields(bytes)) {
    switch (field.number) {
      case 1:
        name = text(bytes, field);
        break;
      case 20:
        type = varintOf(field);
        break;
      case 2:
        attribute.float = float32Of(bytes, field);
        break;
      case 3:
        attribute.int = varintOf(field);
        break;
      case 4:
        attribute.string = text(bytes, field);
        break;
      case 5:
        attribute.tensor = readTensor(body(bytes, field));
        break;
      case 6:
      case 11:
        graphs.push(readGraph(body(bytes, field)));
        break;
      case 7:
        attribute.floats = [...(attribute.floats ?? []), ...floats(bytes, field)];
        break;
      case 8:
        attribute.ints = [...(attribute.ints ?? []), ...varints(bytes, field)];
        break;
    }
  }
  return { name, type, ...attribute, graphs };
}

function readTensor(bytes: Uint8Array): OnnxTensor {
  const dims: number[] = [];
  let name = '';
  let dataType = 0;
  let external = false;
  const externalEntries = new Map<string, string>();
  let rawData: Uint8Array | undefined;
  const data: { floatData?: number[]; int32Data?: number[]; int64Data?: number[]; doubleData?: number[] } = {};
  for (const field of readFields(bytes)) {
    switch (field.number) {
      case 1:
        dims.push(...varints(bytes, field));
        break;
      case 2:
        dataType = varintOf(field);
        break;
      case 4:
        data.floatData = [...(data.floatData ?? []), ...floats(bytes, field)];
        break;
      case 5:
        data.int32Data = [...(data.int32Data ?? []), ...varints(bytes, field)];
        break;
      case 7:
        data.int64Data = [...(data.int64Data ?? []), ...varints(bytes, field)];
        break;
      case 8:
        name = text(bytes, field);
        break;
      case 9:
        rawData = body(bytes, field);
        break;
      case 10:
        data.doubleData = [...(data.doubleData ?? []), ...doubles(bytes, field)];
        break;
      case 13: {
        // StringStringEntryProto: key (1), value (2)
        const entry = body(bytes, field);
        let key = '';
        let value = '';
        for (const part of readFields(entry)) {
          if (part.number === 1) key = text(entry, part);
          else if (part.number === 2) value = text(entry, part);
        }
        externalEntries.set(key, value);
        break;
      }
      case 14:
        external = varintOf(field) === 1;
        break;
    }
  }
  const location = externalEntries.get('location');
  const externalData =
    external && location !== undefined
      ? {
          location,
          offset: Number(externalEntries.get('offset') ?? 0),
          ...(externalEntries.has('length') ? { length: Number(externalEntries.get('length')) } : {}),
        }
      : undefined;
  return {
    name,
    dims,
    dataType,
    external,
    ...(externalData ? { externalData } : {}),
    bytes,
    ...(rawData ? { rawData } : {}),
    ...data,
  };
}

function readValueInfo(bytes: Uint8Array): OnnxValueInfo {
  let name = '';
  let elemType: number | undefined;
  let dims: (number | string | undefined)[] | undefined;
  for (const field of readFields(bytes)) {
    if (field.number === 1) name = text(bytes, field);
    else if (field.number === 2) {
      // TypeProto: tensor_type (1) = { elem_type (1), shape (2) = { dim (1) = { dim_value (1) | dim_param (2) } } }
      const typeBytes = body(bytes, field);
      const tensorType = readFields(typeBytes).find((f) => f.number === 1);
      if (!tensorType) continue;
      const tensorBytes = body(typeBytes, tensorType);
      for (const part of readFields(tensorBytes)) {
        if (part.number === 1) elemType = varintOf(part);
        else if (part.number === 2) {
          const shapeBytes = body(tensorBytes, part);
          dims = readFields(shapeBytes)
            .filter((dim) => dim.number === 1)
            .map((dim) => {
              const dimBytes = body(shapeBytes, dim);
              let value: number | string | undefined;
              for (const d of readFields(dimBytes)) {
                if (d.number === 1) value = varintOf(d);
                else if (d.number === 2) value = text(dimBytes, d);
              }
              return value;
            });
        }
      }
    }
  }
  return { name, elemType, dims, bytes };
}

/** The contents of an external data file, by the location a tensor names (`undefined` where not given). */
export type ExternalFiles = (location: string) => Uint8Array | undefined;

/**
 * A tensor's values as numbers (float16 widened, int64 exact within ±2^53); undefined where they
 * are in an external file `files` does not give, or of a type read here as no number (strings,
 * complex, 4-bit).
 */
export function tensorValues(tensor: OnnxTensor, files?: ExternalFiles): number[] | undefined {
  const count = tensor.dims.reduce((a, b) => a * b, 1);
  let raw = tensor.rawData;
  if (tensor.external) {
    const where = tensor.externalData;
    const file = where && files?.(where.location);
    const size = RAW_READERS[tensor.dataType]?.bytes;
    if (!where || !file || size === undefined) return undefined;
    const length = where.length ?? count * size;
    if (where.offset + length > file.length) {
      throw new ModelFormatError(
        `tensor '${tensor.name}' lies at bytes ${where.offset} to ${where.offset + length} of '${where.location}', which has ${file.length}`,
      );
    }
    raw = file.subarray(where.offset, where.offset + length);
  }
  let values: number[] | undefined;
  if (raw) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const read = RAW_READERS[tensor.dataType];
    if (!read) return undefined;
    const size = read.bytes;
    if (raw.byteLength !== count * size) {
      throw new ModelFormatError(
        `tensor '${tensor.name}' has ${raw.byteLength} bytes of raw_data for ${count} values of ${size} bytes`,
      );
    }
    values = Array.from({ length: count }, (_, i) => read.at(view, i * size));
  } else {
    switch (tensor.dataType) {
      case DataTypes.FLOAT:
        values = [...(tensor.floatData ?? [])];
        break;
      case DataTypes.FLOAT16:
        values = (tensor.int32Data ?? []).map((bits) => fromFloat16Bits(new Uint16Array([bits]))[0]);
        break;
      case DataTypes.BFLOAT16:
        values = (tensor.int32Data ?? []).map((bits) => new Float32Array(new Uint32Array([bits << 16]).buffer)[0]);
        break;
      case DataTypes.INT64:
        values = [...(tensor.int64Data ?? [])];
        break;
      case DataTypes.DOUBLE:
        values = [...(tensor.doubleData ?? [])];
        break;
      case 2:
      case 3:
      case 4:
      case 5:
      case 6:
      case 9:
        values = [...(tensor.int32Data ?? [])];
        break;
      default:
        return undefined;
    }
    if (values.length !== count) {
      throw new ModelFormatError(`tensor '${tensor.name}' holds ${values.length} values for dims [${tensor.dims.join(', ')}]`);
    }
  }
  return values;
}

type RawReader = { bytes: number; at: (view: DataView, offset: number) => number };
const RAW_READERS: Readonly<Record<number, RawReader>> = {
  1: { bytes: 4, at: (v, o) => v.getFloat32(o, true) },
  2: { bytes: 1, at: (v, o) => v.getUint8(o) },
  3: { bytes: 1, at: (v, o) => v.getInt8(o) },
  4: { bytes: 2, at: (v, o) => v.getUint16(o, true) },
  5: { bytes: 2, at: (v, o) => v.getInt16(o, true) },
  6: { bytes: 4, at: (v, o) => v.getInt32(o, true) },
  7: { bytes: 8, at: (v, o) => Number(v.getBigInt64(o, true)) },
  9: { bytes: 1, at: (v, o) => v.getUint8(o) },
  10: { bytes: 2, at: (v, o) => fromFloat16Bits(new Uint16Array([v.getUint16(o, true)]))[0] },
  11: { bytes: 8, at: (v, o) => v.getFloat64(o, true) },
  12: { bytes: 4, at: (v, o) => v.getUint32(o, true) },
  13: { bytes: 8, at: (v, o) => Number(v.getBigUint64(o, true)) },
  16: { bytes: 2, at: (v, o) => new Float32Array(new Uint32Array([v.getUint16(o, true) << 16]).buffer)[0] },
};
