import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { field, message, stringField, varintField } from '../examples/protobuf-writer';
import { findTakeovers, type Takeover } from '../src/onnxruntime/find-takeovers';
import { cutGraph } from '../src/onnxruntime/graph-cut';
import { indexGraph } from '../src/onnxruntime/graph-index';
import { readModel } from '../src/onnxruntime/onnx-model';
import { type OnnxTakeoverKind, TAKEOVER_KINDS } from '../src/onnxruntime/patterns';

// What webgpu-instancenorm/onnxruntime finds in each fixture of test/fixtures/onnx/ (exported by
// torch, or built by onnx.helper, in scripts/make-onnx-fixtures.py), what it leaves to ORT and
// why, and how it cuts the graph: the pure steps of the adapter, without a browser.

const load = (name: string) =>
  indexGraph(readModel(new Uint8Array(readFileSync(new URL(`fixtures/onnx/${name}.onnx`, import.meta.url)))));
const find = (name: string, leaveToOrt: OnnxTakeoverKind[] = []) => findTakeovers(load(name), new Set(leaveToOrt));

/** A takeover as the tests compare it: its options, and its nodes by op. */
function summary(t: Takeover) {
  return {
    kind: t.kind,
    input: t.input,
    output: t.output,
    ops: t.nodes.map((n) => n.opType),
    layout: t.layout,
    epsilon: t.epsilon,
    groups: t.groups,
    channels: t.channels,
    dataType: t.dataType,
    activation: t.activation,
    activationAlpha: t.activationAlpha,
    residual: t.residual,
    residualPosition: t.residualPosition,
    epilogue: t.epilogue.map((p) => p.kind),
  };
}

const EPS = Math.fround(1e-5);

describe('the normalizations of the fixtures, with their epilogues', () => {
  it("TransformerNet: its 15 InstanceNorm2d, ReLU fused into 10, the residual blocks' Add into 5", () => {
    const { takeovers, leftToOrt } = find('transformer-net');
    expect(takeovers).toHaveLength(15);
    expect(leftToOrt).toEqual([]);
    expect(takeovers.map((t) => t.epilogue.map((p) => p.kind).join('+'))).toEqual([
      'Relu',
      'Relu',
      'Relu',
      ...Array(5).fill(['Relu', 'Add']).flat(),
      'Relu',
      'Relu',
    ]);
    expect(summary(takeovers[0])).toEqual({
      kind: 'InstanceNormalization',
      input: '/conv1/conv2d/Conv_output_0',
      output: '/relu/Relu_output_0',
      ops: ['InstanceNormalization', 'Relu'],
      layout: 'nchw',
      epsilon: EPS,
      groups: undefined,
      channels: 4,
      dataType: 'float32',
      activation: 'relu',
      activationAlpha: undefined,
      residual: undefined,
      residualPosition: undefined,
      epilogue: ['Relu'],
    });
    // A residual block's second norm: the Add of the block's input, with no activation.
    expect(summary(takeovers[4])).toMatchObject({
      ops: ['InstanceNormalization', 'Add'],
      activation: 'none',
      residual: '/relu_2/Relu_output_0',
      residualPosition: 'after-activation',
      output: '/res1/Add_output_0',
    });
    // Scale and bias are the initializers' values.
    const values = readModel(new Uint8Array(readFileSync(new URL('fixtures/onnx/transformer-net.onnx', import.meta.url))));
    expect(takeovers[0].scale).toHaveLength(4);
    expect(values.graph.initializers.get('in1.weight')?.dims).toEqual([4]);
  });

  it.each(['diffusion-block', 'diffusion-block-fp16'])(
    '%s: both GroupNorms as torch writes them (11 and 12 nodes, Constant and Shape nodes included), SiLU fused, then the residual',
    (name) => {
      const { takeovers, leftToOrt } = find(name);
      expect(leftToOrt).toEqual([]);
      const dataType = name.endsWith('fp16') ? 'float16' : 'float32';
      const chain = ['Constant', 'Reshape', 'Constant', 'Constant', 'InstanceNormalization', 'Shape', 'Reshape', 'Mul', 'Add'];
      expect(takeovers.map(summary)).toEqual([
        {
          kind: 'GroupNorm',
          input: 'input',
          output: '/Mul_output_0',
          ops: [...chain, 'Sigmoid', 'Mul'],
          layout: 'nchw',
          epsilon: EPS,
          groups: 32,
          channels: 64,
          dataType,
          activation: 'silu',
          activationAlpha: undefined,
          residual: undefined,
          residualPosition: undefined,
          epilogue: ['SiLU'],
        },
        {
          kind: 'GroupNorm',
          input: '/conv1/Conv_output_0',
          output: 'output',
          ops: [...chain, 'Sigmoid', 'Mul', 'Add'],
          layout: 'nchw',
          epsilon: EPS,
          groups: 32,
          channels: 64,
          dataType,
          activation: 'silu',
          activationAlpha: undefined,
          residual: 'input',
          residualPosition: 'after-activation',
          epilogue: ['SiLU', 'Add'],
        },
      ]);
      // γ and β: the Mul's and Add's [64, 1, 1] initializers, per channel at rank 4.
      expect(takeovers[0].scale).toHaveLength(64);
      expect(takeovers[0].rank).toBe(4);
    },
  );

  it('InstanceNorm1d + LeakyReLU(0.2), rank 3, epsilon 1e-3', () => {
    const { takeovers } = find('instance-norm-1d');
    expect(takeovers.map(summary)).toEqual([
      expect.objectContaining({
        ops: ['InstanceNormalization', 'LeakyRelu'],
        epsilon: Math.fround(1e-3),
        activation: 'leakyRelu',
        activationAlpha: Math.fround(0.2),
        channels: 8,
      }),
    ]);
  });

  it('com.microsoft.GroupNorm: channels last, its SiLU; the Relu after it is left to ORT (one activation per epilogue)', () => {
    const { takeovers, leftToOrt } = find('contrib-group-norm');
    expect(takeovers.map(summary)).toEqual([
      expect.objectContaining({
        kind: 'com.microsoft.GroupNorm',
        layout: 'nhwc',
        groups: 4,
        channels: 8,
        activation: 'silu',
        epilogue: [],
      }),
    ]);
    expect(leftToOrt).toEqual([{ node: "Relu 'relu'", kind: 'Relu', reason: 'the epilogue already has an activation (silu)' }]);
  });

  it('an Add before the activation: the residual is added before it, and ORT would run Add + Relu if it broadcasts', () => {
    const [takeover] = find('residual-input').takeovers;
    expect(summary(takeover)).toMatchObject({ residual: 'residual', residualPosition: 'before-activation', activation: 'relu' });
    expect(takeover.residualTail?.addend).toBe('normalized');
    expect(takeover.residualTail?.nodes.map((n) => n.opType)).toEqual(['Add', 'Relu']);
  });
});

describe('near misses, each with its reason', () => {
  it.each([
    ['no-normalization', [], []],
    [
      'scale-from-input',
      [],
      [
        {
          node: "InstanceNormalization 'norm'",
          kind: 'InstanceNormalization',
          reason: "'scale' is not a constant (an initializer or a Constant node)",
        },
      ],
    ],
    [
      'rank-6',
      [],
      [
        {
          node: "InstanceNormalization 'norm'",
          kind: 'InstanceNormalization',
          reason: 'its input has rank 6: the library takes rank 3 to 5 (N, C and 1 to 3 spatial dimensions)',
        },
      ],
    ],
    [
      'group-norm-near-miss',
      ['normalized'],
      [{ node: "InstanceNormalization 'norm'", kind: 'GroupNorm', reason: "'group_scale' is [2, 2], not all 1" }],
    ],
  ] as const)('%s', (name, outputs, leftToOrt) => {
    const found = find(name);
    // A GroupNorm whose InstanceNormalization scale is not 1 is no GroupNorm: its InstanceNormalization alone is taken.
    expect(found.takeovers.map((t) => t.output)).toEqual(outputs);
    expect(found.leftToOrt).toEqual(leftToOrt);
  });

  it("TransformerNet: a residual block's input is read by the next conv too, so the norm before it does not fuse the Add", () => {
    const index = load('transformer-net');
    const { takeovers } = findTakeovers(index);
    // The Add is fused by the norm on its other side (reported nowhere as left to ORT).
    expect(takeovers.filter((t) => t.residual).map((t) => t.anchor)).toEqual(
      [1, 2, 3, 4, 5].map((i) => `InstanceNormalization '/res${i}/in2/InstanceNormalization'`),
    );
  });
});

describe('attributes, across opsets', () => {
  /** A model of one InstanceNormalization (scale and B initializers of C = 2) and a LeakyRelu, with the attributes given. */
  function model(opset: number, normAttributes: Uint8Array[], leakyAttributes: Uint8Array[] = []) {
    const FLOAT = 1;
    const tensor = (name: string, values: number[]) =>
      message([
        varintField(1, values.length),
        varintField(2, FLOAT),
        stringField(8, name),
        field(9, new Uint8Array(new Float32Array(values).buffer)),
      ]);
    const valueInfo = (name: string) =>
      message([stringField(1, name), field(2, message([field(1, message([varintField(1, FLOAT)]))]))]);
    const norm = message([
      stringField(1, 'x'),
      stringField(1, 'scale'),
      stringField(1, 'B'),
      stringField(2, 't'),
      stringField(3, 'norm'),
      stringField(4, 'InstanceNormalization'),
      ...normAttributes.map((a) => field(5, a)),
    ]);
    const leaky = message([
      stringField(1, 't'),
      stringField(2, 'y'),
      stringField(3, 'act'),
      stringField(4, 'LeakyRelu'),
      ...leakyAttributes.map((a) => field(5, a)),
    ]);
    const graph = message([
      field(1, norm),
      field(1, leaky),
      field(5, tensor('scale', [1, 2])),
      field(5, tensor('B', [0, 1])),
      field(11, valueInfo('x')),
      field(12, valueInfo('y')),
    ]);
    return indexGraph(readModel(message([varintField(1, 3), field(7, graph), field(8, message([varintField(2, opset)]))])));
  }
  const floatAttribute = (name: string, value: number) =>
    message([
      stringField(1, name),
      [...new Uint8Array([0x15]), ...new Uint8Array(new Float32Array([value]).buffer)],
      varintField(20, 1),
    ]);
  const intsAttribute = (name: string, values: number[]) =>
    message([stringField(1, name), ...values.map((v) => varintField(8, v)), varintField(20, 7)]);

  it("InstanceNormalization-1's consumed_inputs is ignored; epsilon defaults to 1e-5 and LeakyRelu's alpha to 0.01", () => {
    const { takeovers } = findTakeovers(model(1, [intsAttribute('consumed_inputs', [0, 0, 0])]));
    expect(takeovers.map((t) => [t.epsilon, t.activation, t.activationAlpha, t.channels])).toEqual([
      [1e-5, 'leakyRelu', 0.01, 2],
    ]);
  });

  it('an epsilon the library cannot take, or an attribute it does not know, leaves the node to ORT with the reason', () => {
    expect(findTakeovers(model(17, [floatAttribute('epsilon', -1)])).leftToOrt.map((l) => l.reason)).toEqual([
      'epsilon -1: the library takes 0 to 3.4e38',
    ]);
    expect(findTakeovers(model(17, [floatAttribute('momentum', 0.9)])).leftToOrt.map((l) => l.reason)).toEqual([
      "InstanceNormalization 'norm': attribute 'momentum' is not one the library can honour",
    ]);
    const { takeovers } = findTakeovers(model(17, [floatAttribute('epsilon', 1e-3)], [floatAttribute('alpha', 0.3)]));
    expect(takeovers.map((t) => [t.epsilon, t.activationAlpha])).toEqual([[Math.fround(1e-3), Math.fround(0.3)]]);
  });
});

describe('leaveToOrt', () => {
  const FIXTURE_OF: Record<OnnxTakeoverKind, string> = {
    InstanceNormalization: 'transformer-net',
    GroupNorm: 'diffusion-block',
    'com.microsoft.GroupNorm': 'contrib-group-norm',
    Relu: 'transformer-net',
    LeakyRelu: 'instance-norm-1d',
    SiLU: 'diffusion-block',
    Add: 'diffusion-block',
  };
  it.each(TAKEOVER_KINDS)('%s: left to ORT with the option named as the reason', (kind) => {
    const name = FIXTURE_OF[kind];
    const kept = find(name, [kind]);
    expect(kept.leftToOrt.some((left) => left.kind === kind && left.reason === 'left to ORT by the leaveToOrt option')).toBe(
      true,
    );
    for (const takeover of kept.takeovers) {
      expect(takeover.kind).not.toBe(kind);
      expect(takeover.epilogue.map((p) => p.kind)).not.toContain(kind);
    }
  });

  it('GroupNorm left to ORT keeps its InstanceNormalization with ORT too (not taken alone on the reshaped tensor)', () => {
    expect(find('diffusion-block', ['GroupNorm']).takeovers).toEqual([]);
  });
});

describe('cutting the graph', () => {
  const steps = (name: string) => {
    const index = load(name);
    const cut = cutGraph(index, findTakeovers(index).takeovers);
    return cut.steps.map((s) =>
      s.kind === 'ort' ? `ORT ${s.inputs.join(',')} → ${s.outputs.join(',')}` : `IN ${s.inputs.join(',')} → ${s.outputs[0]}`,
    );
  };

  it('TransformerNet: 16 stretches around its 15 norms; the padding arithmetic goes with each conv, crossing no cut', () => {
    const index = load('transformer-net');
    const cut = cutGraph(index, findTakeovers(index).takeovers);
    expect(cut.steps.map((s) => s.kind)).toEqual(['ort', ...Array(15).fill(['library', 'ort']).flat()]);
    for (const step of cut.steps) {
      if (step.kind !== 'ort') continue;
      expect(step.inputs).toHaveLength(1);
      expect(step.outputs).toHaveLength(1);
      expect(step.nodes.filter((n) => n.opType === 'Conv')).toHaveLength(1);
    }
    // A residual block's input is read again four steps later.
    expect(cut.lastRead.get('/relu_2/Relu_output_0')).toBe(9);
    expect(cut.lastRead.has('output')).toBe(false);
  });

  it('the diffusion block: a norm on the graph input, the conv alone in ORT, a norm adding the graph input', () => {
    expect(steps('diffusion-block')).toEqual([
      'IN input → /Mul_output_0',
      'ORT /Mul_output_0 → /conv1/Conv_output_0',
      'IN /conv1/Conv_output_0,input → output',
    ]);
  });

  it('a model that is only a norm has no stretch; one whose norm is not taken is one stretch', () => {
    expect(steps('instance-norm-relu')).toEqual(['IN input → output']);
    const index = load('rank-6');
    expect(cutGraph(index, []).steps.map((s) => s.kind)).toEqual(['ort']);
  });

  it('the near-miss GroupNorm: the shape Shape(x) made before the norm crosses to the stretch after it', () => {
    expect(steps('group-norm-near-miss')).toEqual([
      'ORT input → grouped,input_shape',
      'IN grouped → normalized',
      'ORT normalized,input_shape → output',
    ]);
  });

  it('a node reading a tensor nothing makes is refused, naming both', () => {
    const node = message([stringField(1, 'ghost'), stringField(2, 'y'), stringField(3, 'relu'), stringField(4, 'Relu')]);
    const valueInfo = (name: string) =>
      message([stringField(1, name), field(2, message([field(1, message([varintField(1, 1)]))]))]);
    const graph = message([field(1, node), field(11, valueInfo('x')), field(12, valueInfo('y'))]);
    const model = readModel(message([varintField(1, 8), field(7, graph), field(8, message([varintField(2, 17)]))]));
    expect(() => cutGraph(indexGraph(model), [])).toThrow("node relu reads 'ghost'");
  });
});
