import { type Chunks, encodeVarint, join, messageField, stringField, varintField } from '../src/onnxruntime/protobuf-wire';

/**
 * The whole ONNX models of `npm run bench`'s ONNX rows, written in the page from seeded weights
 * (nothing downloaded): the node structure is what torch 1.13's `torch.onnx.export` writes for
 * these PyTorch modules (read from test/fixtures/onnx/, which scripts/make-onnx-fixtures.py
 * exported at reduced widths), node for node and name for name; the weights are drawn here as
 * that script's `seed_weights` draws them (same distributions, another generator).
 *
 * - {@link transformerNetModel}: PyTorch's fast-neural-style TransformerNet
 *   (examples/fast_neural_style/neural_style/transformer_net.py, the network of the ONNX model
 *   zoo's fast_neural_style models) at its real widths 32, 64, 128: reflection-padded convs, 15
 *   InstanceNorm2d(affine=True) (ε 1e-5), 10 followed by a ReLU, 5 by a residual Add, five
 *   residual blocks, two nearest-upsample convs. Opset 11 (the model zoo's is 9), N, H, W dynamic.
 * - {@link diffusionBlockModel}: a diffusion U-Net ResNet block without its time embedding
 *   (diffusers' ResnetBlock2D): GroupNorm(32) + SiLU, 3×3 conv, GroupNorm(32) + SiLU, 3×3 conv,
 *   the block's input added. Opset 17, GroupNorm decomposed as torch 1.13 exports it
 *   (Reshape [0, 32, -1] → InstanceNormalization(ones, zeros) → Reshape(Shape) → Mul(γ) → Add(β)),
 *   SiLU as Sigmoid then Mul.
 */

// TensorProto.DataType, and AttributeProto.AttributeType.
const FLOAT = 1;
const INT64 = 7;
const ATTRIBUTE = { float: 1, int: 2, string: 3, tensor: 4, ints: 7 } as const;

type Attribute =
  | { readonly name: string; readonly int: number }
  | { readonly name: string; readonly float: number }
  | { readonly name: string; readonly string: string }
  | { readonly name: string; readonly ints: readonly number[] }
  | { readonly name: string; readonly tensor: Uint8Array };

/** A TensorProto: dims (1), data_type (2), name (8) where given, raw_data (9). */
function tensorProto(dims: readonly number[], data: Float32Array | BigInt64Array, name?: string): Uint8Array {
  return join([
    ...dims.map((d) => varintField(1, d)),
    varintField(2, data instanceof Float32Array ? FLOAT : INT64),
    ...(name === undefined ? [] : stringField(8, name)),
    ...messageField(9, [new Uint8Array(data.buffer, data.byteOffset, data.byteLength)]),
  ]);
}

/** An AttributeProto: name (1), f (2), i (3), s (4), t (5), ints (8, unpacked as torch writes them), type (20). */
function attributeProto(attribute: Attribute): Chunks {
  const value: Chunks =
    'int' in attribute
      ? [varintField(3, attribute.int), varintField(20, ATTRIBUTE.int)]
      : 'float' in attribute
        ? [
            encodeVarint((2 << 3) | 5),
            new Uint8Array(new Float32Array([attribute.float]).buffer),
            varintField(20, ATTRIBUTE.float),
          ]
        : 'string' in attribute
          ? [...stringField(4, attribute.string), varintField(20, ATTRIBUTE.string)]
          : 'ints' in attribute
            ? [...attribute.ints.map((i) => varintField(8, i)), varintField(20, ATTRIBUTE.ints)]
            : [...messageField(5, [attribute.tensor]), varintField(20, ATTRIBUTE.tensor)];
  return [...stringField(1, attribute.name), ...value];
}

/** A ValueInfoProto of a float tensor: dims by value or by name (dynamic). */
function valueInfo(name: string, dims: readonly (number | string)[]): Chunks {
  const shape = dims.flatMap((d) => messageField(1, typeof d === 'number' ? [varintField(1, d)] : stringField(2, d)));
  const tensorType = messageField(1, [varintField(1, FLOAT), ...messageField(2, shape)]);
  return [...stringField(1, name), ...messageField(2, tensorType)];
}

/** Uniform values in [0, 1) from a seeded generator (mulberry32). */
function seededUniform(length: number, seed: number): Float32Array {
  const values = new Float32Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    values[i] = ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }
  return values;
}

/** A graph being written in torch's order: nodes, then the initializers, inputs and outputs. */
class GraphWriter {
  private readonly nodes: Chunks = [];
  private readonly initializers: Chunks = [];
  private seed: number;

  constructor(seed: number) {
    this.seed = seed;
  }

  /** Appends a node named `name`; its outputs are `${name}_output_0`… unless given. */
  node(op: string, name: string, inputs: readonly string[], attributes: readonly Attribute[] = [], outputs?: string[]): string {
    const names = outputs ?? [`${name}_output_0`];
    this.nodes.push(
      ...messageField(1, [
        ...inputs.flatMap((input) => stringField(1, input)),
        ...names.flatMap((output) => stringField(2, output)),
        ...stringField(3, name),
        ...stringField(4, op),
        ...attributes.flatMap((a) => messageField(5, attributeProto(a))),
      ]),
    );
    return names[0];
  }

  /** A Constant node holding `data` (of `dims`). */
  constant(name: string, dims: readonly number[], data: Float32Array | BigInt64Array): string {
    return this.node('Constant', name, [], [{ name: 'value', tensor: tensorProto(dims, data) }]);
  }

  /** A float32 initializer of `dims`, seeded: `scale · (u + offset)` for u uniform in [0, 1). */
  initializer(name: string, dims: readonly number[], scale: number, offset: number): string {
    const values = seededUniform(
      dims.reduce((a, b) => a * b, 1),
      this.seed++,
    ).map((u) => scale * (u + offset));
    this.initializers.push(...messageField(5, [tensorProto(dims, values, name)]));
    return name;
  }

  /**
   * Conv weights and bias as seed_weights draws them: weights uniform in ±sqrt(3 / fan-in), bias
   * uniform in [-0.5, 0.5); the norms' γ uniform in [0.5, 1.5), β in [-0.5, 0.5).
   */
  convWeights(prefix: string, inChannels: number, outChannels: number, kernel: number): [string, string] {
    const bound = Math.sqrt(3 / (inChannels * kernel * kernel));
    return [
      this.initializer(`${prefix}.weight`, [outChannels, inChannels, kernel, kernel], 2 * bound, -0.5),
      this.initializer(`${prefix}.bias`, [outChannels], 1, -0.5),
    ];
  }

  normWeights(weight: string, bias: string, dims: readonly number[]): [string, string] {
    return [this.initializer(weight, dims, 1, 0.5), this.initializer(bias, dims, 1, -0.5)];
  }

  /** The ModelProto bytes: ir_version, producer, the graph, one opset import. */
  model(options: {
    irVersion: number;
    opset: number;
    input: { name: string; dims: readonly (number | string)[] };
    output: { name: string; dims: readonly (number | string)[] };
  }): Uint8Array {
    const graph = [
      ...this.nodes,
      ...stringField(2, 'torch_jit'),
      ...this.initializers,
      ...messageField(11, valueInfo(options.input.name, options.input.dims)),
      ...messageField(12, valueInfo(options.output.name, options.output.dims)),
    ];
    return join([
      varintField(1, options.irVersion),
      ...stringField(2, 'pytorch'),
      ...stringField(3, '1.13.0'),
      ...messageField(7, graph),
      ...messageField(8, [varintField(2, options.opset)]),
    ]);
  }
}

const int64s = (values: readonly number[]) => BigInt64Array.from(values.map((v) => BigInt(v)));

/**
 * torch 1.13's ReflectionPad2d at opset 11: the pads [p, p, p, p] turned into ONNX's order by
 * ConstantOfShape, Concat, Reshape [-1, 2], Slice (reversed), Transpose, Reshape [-1], Cast, then
 * Pad(mode = reflect). ORT folds the constant arithmetic; the Pad runs.
 */
function reflectionPad(g: GraphWriter, prefix: string, input: string, pad: number): string {
  const p = `${prefix}/reflection_pad`;
  const four = g.constant(`${p}/Constant`, [1], int64s([4]));
  const pads = g.constant(`${p}/Constant_1`, [4], int64s([pad, pad, pad, pad]));
  const zeros = g.node(
    'ConstantOfShape',
    `${p}/ConstantOfShape`,
    [four],
    [{ name: 'value', tensor: tensorProto([1], int64s([0])) }],
  );
  const concat = g.node('Concat', `${p}/Concat`, [pads, zeros], [{ name: 'axis', int: 0 }]);
  const pairsShape = g.constant(`${p}/Constant_2`, [2], int64s([-1, 2]));
  const pairs = g.node('Reshape', `${p}/Reshape`, [concat, pairsShape]);
  const axes = g.constant(`${p}/Constant_3`, [1], int64s([0]));
  const starts = g.constant(`${p}/Constant_4`, [1], int64s([-1]));
  const ends = g.constant(`${p}/Constant_5`, [1], BigInt64Array.from([-9223372036854775807n]));
  const steps = g.constant(`${p}/Constant_6`, [1], int64s([-1]));
  const reversed = g.node('Slice', `${p}/Slice`, [pairs, starts, ends, axes, steps]);
  const transposed = g.node('Transpose', `${p}/Transpose`, [reversed], [{ name: 'perm', ints: [1, 0] }]);
  const flatShape = g.constant(`${p}/Constant_7`, [1], int64s([-1]));
  const flat = g.node('Reshape', `${p}/Reshape_1`, [transposed, flatShape]);
  const cast = g.node('Cast', `${p}/Cast`, [flat], [{ name: 'to', int: INT64 }]);
  return g.node('Pad', `${p}/Pad`, [input, cast], [{ name: 'mode', string: 'reflect' }]);
}

/** TransformerNet's ConvLayer (and UpsampleConvLayer): [nearest ×2 upsample], reflection pad k // 2, conv k × k. */
function convLayer(
  g: GraphWriter,
  module: string,
  input: string,
  channels: [number, number],
  kernel: number,
  stride: number,
  options: { upsample?: boolean; output?: string } = {},
): string {
  const prefix = `/${module.replaceAll('.', '/')}`;
  let x = input;
  if (options.upsample) {
    const scales = g.constant(`${prefix}/Constant`, [4], new Float32Array([1, 1, 2, 2]));
    const roi = g.constant(`${prefix}/Constant_1`, [0], new Float32Array(0));
    x = g.node(
      'Resize',
      `${prefix}/Resize`,
      [x, roi, scales],
      [
        { name: 'coordinate_transformation_mode', string: 'asymmetric' },
        { name: 'cubic_coeff_a', float: -0.75 },
        { name: 'mode', string: 'nearest' },
        { name: 'nearest_mode', string: 'floor' },
      ],
    );
  }
  const padded = reflectionPad(g, prefix, x, Math.floor(kernel / 2));
  const [weight, bias] = g.convWeights(`${module}.conv2d`, channels[0], channels[1], kernel);
  return g.node(
    'Conv',
    `${prefix}/conv2d/Conv`,
    [padded, weight, bias],
    [
      { name: 'dilations', ints: [1, 1] },
      { name: 'group', int: 1 },
      { name: 'kernel_shape', ints: [kernel, kernel] },
      { name: 'pads', ints: [0, 0, 0, 0] },
      { name: 'strides', ints: [stride, stride] },
    ],
    options.output ? [options.output] : undefined,
  );
}

/** InstanceNorm2d(affine = True), ε 1e-5 (stored as float32, as torch writes it). */
function instanceNorm(g: GraphWriter, module: string, input: string, channels: number): string {
  const [weight, bias] = g.normWeights(`${module}.weight`, `${module}.bias`, [channels]);
  return g.node(
    'InstanceNormalization',
    `/${module.replaceAll('.', '/')}/InstanceNormalization`,
    [input, weight, bias],
    [{ name: 'epsilon', float: 1e-5 }],
  );
}

/** PyTorch's fast-neural-style TransformerNet at widths `widths` (32, 64, 128 in the real network). */
export function transformerNetModel(widths: readonly [number, number, number] = [32, 64, 128], seed = 2701): Uint8Array {
  const [a, b, c] = widths;
  const g = new GraphWriter(seed);
  let relus = 0;
  const relu = (x: string, scope = '') => {
    const name = scope ? `/${scope}/relu/Relu` : `/relu${relus === 0 ? '' : `_${relus}`}/Relu`;
    if (!scope) relus++;
    return g.node('Relu', name, [x]);
  };
  let y = relu(instanceNorm(g, 'in1', convLayer(g, 'conv1', 'input', [3, a], 9, 1), a));
  y = relu(instanceNorm(g, 'in2', convLayer(g, 'conv2', y, [a, b], 3, 2), b));
  y = relu(instanceNorm(g, 'in3', convLayer(g, 'conv3', y, [b, c], 3, 2), c));
  for (let block = 1; block <= 5; block++) {
    const res = `res${block}`;
    const residual = y;
    const out = relu(instanceNorm(g, `${res}.in1`, convLayer(g, `${res}.conv1`, y, [c, c], 3, 1), c), res);
    const normed = instanceNorm(g, `${res}.in2`, convLayer(g, `${res}.conv2`, out, [c, c], 3, 1), c);
    y = g.node('Add', `/${res}/Add`, [normed, residual]);
  }
  y = relu(instanceNorm(g, 'in4', convLayer(g, 'deconv1', y, [c, b], 3, 1, { upsample: true }), b));
  y = relu(instanceNorm(g, 'in5', convLayer(g, 'deconv2', y, [b, a], 3, 1, { upsample: true }), a));
  convLayer(g, 'deconv3', y, [a, 3], 9, 1, { output: 'output' });
  return g.model({
    irVersion: 6,
    opset: 11,
    input: { name: 'input', dims: ['N', 3, 'H', 'W'] },
    output: { name: 'output', dims: ['N', 3, 'H', 'W'] },
  });
}

/**
 * torch 1.13's nn.GroupNorm(groups, C) at opset 17: Reshape to [0, groups, -1],
 * InstanceNormalization with unit scale and zero bias (Constant nodes), Reshape back to
 * Shape(x), then Mul(γ) and Add(β) of [C, 1, 1] initializers (named onnx::Mul_n, onnx::Add_n).
 */
function groupNorm(g: GraphWriter, module: string, input: string, groups: number, channels: number, id: number): string {
  const p = `/${module}`;
  const shape = g.constant(`${p}/Constant`, [3], int64s([0, groups, -1]));
  const grouped = g.node('Reshape', `${p}/Reshape`, [input, shape], [{ name: 'allowzero', int: 0 }]);
  const ones = g.constant(`${p}/Constant_1`, [groups], new Float32Array(groups).fill(1));
  const zeros = g.constant(`${p}/Constant_2`, [groups], new Float32Array(groups));
  const normalized = g.node(
    'InstanceNormalization',
    `${p}/InstanceNormalization`,
    [grouped, ones, zeros],
    [{ name: 'epsilon', float: 1e-5 }],
  );
  const original = g.node('Shape', `${p}/Shape`, [input]);
  const ungrouped = g.node('Reshape', `${p}/Reshape_1`, [normalized, original], [{ name: 'allowzero', int: 0 }]);
  const [gamma, beta] = g.normWeights(`onnx::Mul_${id}`, `onnx::Add_${id + 1}`, [channels, 1, 1]);
  const scaled = g.node('Mul', `${p}/Mul`, [ungrouped, gamma]);
  return g.node('Add', `${p}/Add`, [scaled, beta]);
}

/** F.silu as torch 1.13 exports it: Sigmoid, then Mul. */
function silu(g: GraphWriter, x: string, index: number): string {
  const suffix = index === 0 ? '' : `_${index}`;
  const gate = g.node('Sigmoid', `/Sigmoid${suffix}`, [x]);
  return g.node('Mul', `/Mul${suffix}`, [x, gate]);
}

/** A diffusion ResNet block of `channels` channels: x + conv2(silu(norm2(conv1(silu(norm1(x)))))), GroupNorm(32). */
export function diffusionBlockModel(channels = 320, groups = 32, seed = 3301): Uint8Array {
  const g = new GraphWriter(seed);
  const conv = (name: string, x: string) => {
    const [weight, bias] = g.convWeights(name, channels, channels, 3);
    return g.node(
      'Conv',
      `/${name}/Conv`,
      [x, weight, bias],
      [
        { name: 'dilations', ints: [1, 1] },
        { name: 'group', int: 1 },
        { name: 'kernel_shape', ints: [3, 3] },
        { name: 'pads', ints: [1, 1, 1, 1] },
        { name: 'strides', ints: [1, 1] },
      ],
    );
  };
  let h = silu(g, groupNorm(g, 'norm1', 'input', groups, channels, 41), 0);
  h = conv('conv1', h);
  h = silu(g, groupNorm(g, 'norm2', h, groups, channels, 43), 1);
  h = conv('conv2', h);
  g.node('Add', '/Add', ['input', h], [], ['output']);
  return g.model({
    irVersion: 8,
    opset: 17,
    input: { name: 'input', dims: ['N', channels, 'H', 'W'] },
    output: { name: 'output', dims: ['N', channels, 'H', 'W'] },
  });
}
