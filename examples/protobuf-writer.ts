/**
 * The few protobuf wire-format writers an ONNX model needs, for the models the examples, the
 * benchmark and the demo build in memory (examples/one-node-onnx-model.ts, demo/onnx-models.ts).
 */

/** Encoded bytes of one field. */
export type Bytes = number[];

export function varint(value: number): Bytes {
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
export const varintField = (n: number, value: number): Bytes => [...key(n, 0), ...varint(value)];
export const field = (n: number, body: Uint8Array): Bytes => [...key(n, 2), ...varint(body.length), ...body];
export const stringField = (n: number, text: string): Bytes => field(n, new TextEncoder().encode(text));
export const float32Field = (n: number, value: number): Bytes => [
  ...key(n, 5),
  ...new Uint8Array(new Float32Array([value]).buffer),
];

/** The fields as one message (copied into place: initializers may be large). */
export function message(fields: Bytes[]): Uint8Array {
  const out = new Uint8Array(fields.reduce((sum, f) => sum + f.length, 0));
  let at = 0;
  for (const f of fields) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}
