// Protocol Buffers' wire format, the little of it an ONNX file needs: a message is a run of
// fields, each a key (field number × 8 + wire type) then a varint, 8 bytes, a length-prefixed
// body or 4 bytes. Reading keeps each field's byte range, so that a field the codec does not
// interpret is written back byte for byte. https://protobuf.dev/programming-guides/encoding/

/** A message that does not parse: where, and what was expected. */
export class WireError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'WireError';
  }
}

/** The wire types of proto3: varint, 64-bit, length-delimited, 32-bit (the group types 3 and 4 are refused). */
export type WireType = 0 | 1 | 2 | 5;

/** One field of a message, with the bytes it spans. */
export interface WireField {
  /** The field number. */
  readonly number: number;
  readonly wireType: WireType;
  /** Where the field's key starts, and where the field ends (exclusive), in the buffer read. */
  readonly start: number;
  readonly end: number;
  /** Where the value starts: for wire type 2, the body after its length. */
  readonly valueStart: number;
  /** The value of a varint field; for wire type 2 the body's length; otherwise 0. */
  readonly varint: number;
}

const TWO_32 = 2 ** 32;

/**
 * The varint at `offset`: its value as an int64 (two's complement, so 10-byte varints are
 * negative), exact within ±2^53, and the offset after it.
 */
export function readVarint(bytes: Uint8Array, offset: number, end: number): { value: number; next: number } {
  let low = 0;
  let high = 0;
  let at = offset;
  for (let shift = 0; shift < 70; shift += 7) {
    if (at >= end) throw new WireError('a varint runs past the end of its message', offset);
    const byte = bytes[at++];
    const bits = byte & 0x7f;
    if (shift < 28) low += bits * 2 ** shift;
    else if (shift === 28) {
      low += (bits & 0x0f) * 2 ** 28;
      high += bits >> 4;
    } else high += bits * 2 ** (shift - 32);
    if (byte < 0x80) {
      high %= TWO_32;
      const negative = high >= 2 ** 31;
      return { value: negative ? (high - TWO_32) * TWO_32 + low : high * TWO_32 + low, next: at };
    }
  }
  throw new WireError('a varint is longer than 10 bytes', offset);
}

/** The fields of the message in `bytes[start, end)`, in order. */
export function readFields(bytes: Uint8Array, start = 0, end = bytes.length): WireField[] {
  const fields: WireField[] = [];
  let at = start;
  while (at < end) {
    const fieldStart = at;
    const key = readVarint(bytes, at, end);
    at = key.next;
    const number = Math.floor(key.value / 8);
    const wireType = key.value % 8;
    if (number < 1 || key.value < 0) throw new WireError(`a field key ${key.value} names no valid field number`, fieldStart);
    let varint = 0;
    let valueStart = at;
    switch (wireType) {
      case 0: {
        const value = readVarint(bytes, at, end);
        varint = value.value;
        at = value.next;
        break;
      }
      case 1:
        at += 8;
        break;
      case 2: {
        const length = readVarint(bytes, at, end);
        if (length.value < 0) throw new WireError('a length-delimited field has a negative length', fieldStart);
        varint = length.value;
        valueStart = length.next;
        at = length.next + length.value;
        break;
      }
      case 5:
        at += 4;
        break;
      default:
        throw new WireError(`field ${number} has wire type ${wireType}, which is not one of proto3's`, fieldStart);
    }
    if (at > end) throw new WireError(`field ${number} runs past the end of its message`, fieldStart);
    fields.push({ number, wireType: wireType as WireType, start: fieldStart, end: at, valueStart, varint });
  }
  return fields;
}

/** The body of a length-delimited field, as a view. */
export function body(bytes: Uint8Array, field: WireField): Uint8Array {
  if (field.wireType !== 2) throw new WireError(`field ${field.number} should be length-delimited`, field.start);
  return bytes.subarray(field.valueStart, field.end);
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** A string field's text. */
export function text(bytes: Uint8Array, field: WireField): string {
  return utf8.decode(body(bytes, field));
}

/** A varint field's value (wire type 0). */
export function varintOf(field: WireField): number {
  if (field.wireType !== 0) throw new WireError(`field ${field.number} should be a varint`, field.start);
  return field.varint;
}

/** A float field's value (wire type 5). */
export function float32Of(bytes: Uint8Array, field: WireField): number {
  if (field.wireType !== 5) throw new WireError(`field ${field.number} should be a 32-bit float`, field.start);
  return new DataView(bytes.buffer, bytes.byteOffset + field.valueStart, 4).getFloat32(0, true);
}

/** The values of a repeated varint field, packed (one body) or not (one field each). */
export function varints(bytes: Uint8Array, field: WireField): number[] {
  if (field.wireType === 0) return [field.varint];
  const values: number[] = [];
  const end = field.end;
  let at = field.valueStart;
  while (at < end) {
    const value = readVarint(bytes, at, end);
    values.push(value.value);
    at = value.next;
  }
  return values;
}

/** The values of a repeated float field, packed or not. */
export function floats(bytes: Uint8Array, field: WireField): number[] {
  if (field.wireType === 5) return [float32Of(bytes, field)];
  const view = body(bytes, field);
  if (view.length % 4 !== 0) throw new WireError(`packed floats of field ${field.number} are not whole`, field.start);
  const data = new DataView(view.buffer, view.byteOffset, view.length);
  return Array.from({ length: view.length / 4 }, (_, i) => data.getFloat32(4 * i, true));
}

/** The values of a repeated double field, packed or not. */
export function doubles(bytes: Uint8Array, field: WireField): number[] {
  const view = field.wireType === 1 ? bytes.subarray(field.valueStart, field.end) : body(bytes, field);
  if (view.length % 8 !== 0) throw new WireError(`packed doubles of field ${field.number} are not whole`, field.start);
  const data = new DataView(view.buffer, view.byteOffset, view.length);
  return Array.from({ length: view.length / 8 }, (_, i) => data.getFloat64(8 * i, true));
}

// Writing: a message is built as a list of byte chunks (fields copied from the file or encoded
// here) and joined once, so that large initializers are copied a single time.

/** Bytes of a message being written. */
export type Chunks = Uint8Array[];

/** A varint's bytes (a non-negative integer up to 2^53). */
export function encodeVarint(value: number): Uint8Array {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

/** A varint field. */
export function varintField(number: number, value: number): Uint8Array {
  return join([encodeVarint(number * 8), encodeVarint(value)]);
}

/** A length-delimited field holding `chunks`. */
export function messageField(number: number, chunks: Chunks): Chunks {
  const length = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  return [encodeVarint(number * 8 + 2), encodeVarint(length), ...chunks];
}

/** A string field. */
export function stringField(number: number, value: string): Chunks {
  return messageField(number, [new TextEncoder().encode(value)]);
}

/** The chunks as one array. */
export function join(chunks: Chunks): Uint8Array {
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
