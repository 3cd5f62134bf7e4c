/**
 * A one-node ONNX model, `Y = InstanceNormalization(X, scale, B)` (opset 17), serialized by
 * hand: the few protobuf messages it needs, so the benchmark builds its model without a
 * protobuf library or a file. Field numbers from onnx/onnx.proto.
 */
export function instanceNormModel(shape: readonly number[], epsilon: number): Uint8Array {
  const channels = shape[1];
  const tensorType = (dims: readonly number[]) =>
    message([
      field(
        1,
        message([varintField(1, 1 /* FLOAT */), field(2, message(dims.map((d) => field(1, message([varintField(1, d)])))))]),
      ),
    ]);
  const valueInfo = (name: string, dims: readonly number[]) => message([stringField(1, name), field(2, tensorType(dims))]);
  const epsilonAttribute = message([stringField(1, 'epsilon'), float32Field(2, epsilon), varintField(20, 1 /* FLOAT */)]);
  const node = message([
    stringField(1, 'X'),
    stringField(1, 'scale'),
    stringField(1, 'B'),
    stringField(2, 'Y'),
    stringField(3, 'instance_norm'),
    stringField(4, 'InstanceNormalization'),
    field(5, epsilonAttribute),
  ]);
  const graph = message([
    field(1, node),
    stringField(2, 'instance_norm_graph'),
    field(11, valueInfo('X', shape)),
    field(11, valueInfo('scale', [channels])),
    field(11, valueInfo('B', [channels])),
    field(12, valueInfo('Y', shape)),
  ]);
  return message([
    varintField(1, 8), // ir_version
    stringField(2, 'webgpu-instancenorm bench'),
    field(7, graph),
    field(8, message([stringField(1, ''), varintField(2, 17)])), // opset_import
  ]);
}

type Bytes = number[];

function varint(value: number): Bytes {
  const out: Bytes = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

const key = (fieldNumber: number, wireType: number) => varint(fieldNumber * 8 + wireType);
const varintField = (n: number, value: number): Bytes => [...key(n, 0), ...varint(value)];
const field = (n: number, body: Uint8Array): Bytes => [...key(n, 2), ...varint(body.length), ...body];
const stringField = (n: number, text: string): Bytes => field(n, new TextEncoder().encode(text));
const float32Field = (n: number, value: number): Bytes => [...key(n, 5), ...new Uint8Array(new Float32Array([value]).buffer)];
const message = (fields: Bytes[]): Uint8Array => new Uint8Array(fields.flat());
