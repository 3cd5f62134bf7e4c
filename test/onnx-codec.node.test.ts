import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { field, message, stringField, varintField } from '../examples/protobuf-writer';
import { ModelFormatError, readModel, tensorValues } from '../src/onnxruntime/onnx-model';
import { readFields, readVarint } from '../src/onnxruntime/protobuf-wire';
import { writeSubModel } from '../src/onnxruntime/sub-model';

// The ONNX codec of webgpu-instancenorm/onnxruntime against what the onnx Python package reads in
// the same files (test/fixtures/onnx/summary.json, written with them by
// scripts/make-onnx-fixtures.py), and its sub-models against the bytes they come from.

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`fixtures/onnx/${name}.onnx`, import.meta.url)));

interface SummaryValue {
  name: string;
  elemType: number;
  dims: (number | string | null)[];
}
interface Summary {
  irVersion: number;
  opsetImports: { domain: string; version: number }[];
  inputs: SummaryValue[];
  outputs: SummaryValue[];
  nodes: {
    name: string;
    opType: string;
    domain: string;
    inputs: string[];
    outputs: string[];
    attributes: { name: string; type: number; value: unknown }[];
  }[];
  initializers: { name: string; dims: number[]; dataType: number; sum: number }[];
}
const summaries: Record<string, Summary> = JSON.parse(
  readFileSync(new URL('fixtures/onnx/summary.json', import.meta.url), 'utf8'),
);

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

// external-data.onnx keeps its initializers in external-data.bin.
const externalFile = new Uint8Array(readFileSync(new URL('fixtures/onnx/external-data.bin', import.meta.url)));
const files = (location: string) => (location === 'external-data.bin' ? externalFile : undefined);

describe.each(Object.keys(summaries))('%s.onnx reads as the onnx package reads it', (name) => {
  const expected = summaries[name];
  const model = readModel(fixture(name));

  it('ir_version, opset imports, graph inputs and outputs', () => {
    expect(model.irVersion).toBe(expected.irVersion);
    expect(model.opsetImports).toEqual(expected.opsetImports);
    const asRead = (values: typeof model.graph.inputs) =>
      values.map((v) => ({ name: v.name, elemType: v.elemType, dims: (v.dims ?? []).map((d) => d ?? null) }));
    expect(asRead(model.graph.inputs)).toEqual(expected.inputs);
    expect(asRead(model.graph.outputs)).toEqual(expected.outputs);
  });

  it('every node: name, op_type, domain, inputs, outputs, attributes', () => {
    expect(model.graph.nodes).toHaveLength(expected.nodes.length);
    model.graph.nodes.forEach((node, i) => {
      const want = expected.nodes[i];
      expect({ name: node.name, opType: node.opType, domain: node.domain, inputs: node.inputs, outputs: node.outputs }).toEqual({
        name: want.name,
        opType: want.opType,
        domain: want.domain,
        inputs: want.inputs,
        outputs: want.outputs,
      });
      expect([...node.attributes.keys()]).toEqual(want.attributes.map((a) => a.name));
      for (const a of want.attributes) {
        const got = node.attributes.get(a.name);
        expect(got?.type, `${node.name}.${a.name}`).toBe(a.type);
        if (a.type === 1) expect(got?.float).toBe(Math.fround(a.value as number));
        else if (a.type === 2) expect(got?.int).toBe(a.value);
        else if (a.type === 3) expect(got?.string).toBe(a.value);
        else if (a.type === 6) expect(got?.floats).toEqual((a.value as number[]).map(Math.fround));
        else if (a.type === 7) expect(got?.ints).toEqual(a.value);
        else if (a.type === 4) {
          const tensor = got?.tensor;
          const want = a.value as { dims: number[]; dataType: number; sum: number };
          expect({ dims: tensor?.dims, dataType: tensor?.dataType }).toEqual({ dims: want.dims, dataType: want.dataType });
          // int64 extremes (a Slice's end of -(2^63 - 1)) are read as the nearest double, as numpy's float64 sum has them.
          expect(sum(tensorValues(tensor!) ?? [])).toBeCloseTo(want.sum, 4);
        }
      }
    });
  });

  it('every initializer: name, dims, data type, values', () => {
    expect([...model.graph.initializers.values()].map((t) => ({ name: t.name, dims: t.dims, dataType: t.dataType }))).toEqual(
      expected.initializers.map(({ name, dims, dataType }) => ({ name, dims, dataType })),
    );
    for (const want of expected.initializers) {
      const values = tensorValues(model.graph.initializers.get(want.name)!, files)!;
      expect(Math.abs(sum(values) - want.sum), want.name).toBeLessThan(1e-6 * (1 + values.length));
    }
  });

  it('a sub-model of every node, with the graph inputs and outputs, is the file byte for byte', () => {
    const whole = writeSubModel(model, {
      nodes: model.graph.nodes,
      inputs: model.graph.inputs.map((v) => ({ name: v.name, elemType: v.elemType! })),
      outputs: model.graph.outputs.map((v) => ({ name: v.name, elemType: v.elemType! })),
    });
    expect(Buffer.from(whole).equals(Buffer.from(fixture(name)))).toBe(true);
  });
});

describe('sub-models', () => {
  const model = readModel(fixture('diffusion-block'));
  const nodes = model.graph.nodes;
  const conv = nodes.find((n) => n.opType === 'Conv')!;

  it('hold the nodes given, the initializers they read, new typed inputs and outputs, and everything else of the model', () => {
    const bytes = writeSubModel(model, {
      nodes: [conv],
      inputs: [{ name: conv.inputs[0], elemType: 1, dims: ['N', 64, 'H', 'W'] }],
      outputs: [{ name: conv.outputs[0], elemType: 1, dims: ['N', 64, undefined, undefined] }],
    });
    const sub = readModel(bytes);
    expect(sub.irVersion).toBe(model.irVersion);
    expect(sub.opsetImports).toEqual(model.opsetImports);
    expect(sub.graph.name).toBe(model.graph.name);
    expect(sub.graph.nodes.map((n) => n.opType)).toEqual(['Conv']);
    expect(Buffer.from(sub.graph.nodes[0].bytes).equals(Buffer.from(conv.bytes))).toBe(true);
    expect([...sub.graph.initializers.keys()]).toEqual(['conv1.weight', 'conv1.bias']);
    for (const [name, tensor] of sub.graph.initializers) {
      expect(Buffer.from(tensor.bytes).equals(Buffer.from(model.graph.initializers.get(name)!.bytes))).toBe(true);
    }
    expect(sub.graph.inputs.map((v) => [v.name, v.elemType, v.dims])).toEqual([[conv.inputs[0], 1, ['N', 64, 'H', 'W']]]);
    expect(sub.graph.outputs.map((v) => [v.name, v.elemType, v.dims])).toEqual([
      [conv.outputs[0], 1, ['N', 64, undefined, undefined]],
    ]);
    // The ModelProto's other fields (producer name and version) are the original's bytes.
    const others = (m: typeof model) =>
      m.fields.filter((f) => f.number !== 7).map((f) => Buffer.from(m.bytes.subarray(f.start, f.end)).toString('hex'));
    expect(others(sub)).toEqual(others(model));
  });

  it("keep a graph input's or output's own value info where the original has one", () => {
    const first = nodes[1]; // Reshape of the graph input
    const sub = readModel(
      writeSubModel(model, {
        nodes: [nodes[0], first],
        inputs: [{ name: 'input', elemType: 10 }],
        outputs: [{ name: first.outputs[0], elemType: 1 }],
      }),
    );
    expect(Buffer.from(sub.graph.inputs[0].bytes).equals(Buffer.from(model.graph.inputs[0].bytes))).toBe(true);
    expect(sub.graph.inputs[0].elemType).toBe(1);
  });

  it('read an external-data initializer from its file where it is given, at the offset and length it names', () => {
    const model = readModel(fixture('external-data'));
    const weight = [...model.graph.initializers.values()].find((t) => t.name === 'norm.weight')!;
    expect(weight.external).toBe(true);
    expect(weight.externalData?.location).toBe('external-data.bin');
    expect(tensorValues(weight)).toBeUndefined();
    expect(tensorValues(weight, files)).toHaveLength(8);
    expect(() => tensorValues(weight, () => externalFile.subarray(0, 16))).toThrow(
      /lies at bytes .* of 'external-data.bin', which has 16/,
    );
  });

  it('pass external-data initializers through as references, and keep metadata, doc strings and unknown fields', () => {
    const FLOAT = 1;
    const external = message([
      varintField(1, 4), // dims
      varintField(2, FLOAT),
      stringField(8, 'weights'),
      field(13, message([stringField(1, 'location'), stringField(2, 'weights.bin')])),
      field(13, message([stringField(1, 'offset'), stringField(2, '0')])),
      varintField(14, 1), // data_location EXTERNAL
    ]);
    const valueInfo = (name: string) =>
      message([stringField(1, name), field(2, message([field(1, message([varintField(1, FLOAT)]))]))]);
    const node = message([stringField(1, 'x'), stringField(1, 'weights'), stringField(2, 'y'), stringField(4, 'Add')]);
    const graph = message([
      field(1, node),
      stringField(2, 'g'),
      field(5, external),
      stringField(10, 'the graph doc'),
      field(11, valueInfo('x')),
      field(12, valueInfo('y')),
      varintField(99, 7), // a field newer than this codec
    ]);
    const bytes = message([
      varintField(1, 9),
      stringField(2, 'producer'),
      field(7, graph),
      field(8, message([stringField(1, ''), varintField(2, 17)])),
      field(14, message([stringField(1, 'author'), stringField(2, 'someone')])),
    ]);
    const read = readModel(bytes);
    const weights = read.graph.initializers.get('weights')!;
    expect(weights.external).toBe(true);
    expect(tensorValues(weights)).toBeUndefined();
    const written = writeSubModel(read, {
      nodes: read.graph.nodes,
      inputs: [{ name: 'x', elemType: FLOAT }],
      outputs: [{ name: 'y', elemType: FLOAT }],
    });
    expect(Buffer.from(written).equals(Buffer.from(bytes))).toBe(true);
  });
});

describe('the wire format', () => {
  it('reads int64 varints, negative ones as ten bytes of two’s complement', () => {
    const minusOne = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(readVarint(minusOne, 0, 10)).toEqual({ value: -1, next: 10 });
    expect(readVarint(new Uint8Array([0xac, 0x02]), 0, 2)).toEqual({ value: 300, next: 2 });
    const big = new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]); // 2^49
    expect(readVarint(big, 0, 8).value).toBe(2 ** 49);
  });

  it('names the field and the offset of a message that runs past its end', () => {
    expect(() => readFields(new Uint8Array([0x0a, 0x05, 0x01]))).toThrow(/field 1 runs past the end of its message/);
  });
});

describe('files that are not ONNX models', () => {
  const model = fixture('transformer-net');
  it.each([
    ['an empty file', new Uint8Array(0), /empty/],
    [
      'a PNG',
      new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]),
      /wire type|past the end|varint|no valid field/,
    ],
    [
      'JSON text',
      new TextEncoder().encode('{"format": "not onnx", "layers": []}'),
      /wire type|past the end|no valid field|graph/,
    ],
    ['the model cut in half', model.subarray(0, model.length >> 1), /runs past the end/],
    ['the model without its last byte', model.subarray(0, model.length - 1), /runs past the end/],
    ['a ModelProto without a graph', message([varintField(1, 8), stringField(2, 'x')]), /no graph/],
  ])('%s is refused, saying why', (_name, bytes, reason) => {
    expect(() => readModel(bytes)).toThrow(ModelFormatError);
    expect(() => readModel(bytes)).toThrow(reason);
  });
});
