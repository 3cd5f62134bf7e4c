// What the adapter takes over from ONNX Runtime, written once as data (as ORT's own graph
// fusions and onnxscript's rewriter write theirs): each pattern is a chain of ops with the
// edges between them, the attributes each may carry, and the value each constant must hold.
// pattern-matcher.ts finds them in a graph; find-takeovers.ts turns a match into library options.

/** The kinds an app may leave to ONNX Runtime (`leaveToOrt`): the normalizations, then the epilogue's parts. */
export type OnnxTakeoverKind =
  | 'InstanceNormalization'
  | 'GroupNorm'
  | 'com.microsoft.GroupNorm'
  | 'Relu'
  | 'LeakyRelu'
  | 'SiLU'
  | 'Add';

/** Every kind, in the order the docs list them. */
export const TAKEOVER_KINDS: readonly OnnxTakeoverKind[] = [
  'InstanceNormalization',
  'GroupNorm',
  'com.microsoft.GroupNorm',
  'Relu',
  'LeakyRelu',
  'SiLU',
  'Add',
];

/** What an attribute of a pattern node must be. An attribute the node carries that its rules do not name fails the match. */
export type AttributeRule =
  /** Read into variable `bind` (a float or an int), `fallback` where absent; `oneOf` the values allowed. */
  | { readonly bind: string; readonly fallback?: number; readonly oneOf?: readonly number[] }
  /** Absent, or equal to `value`. */
  | { readonly equals: number }
  /** Carried by old opsets for no effect (InstanceNormalization-1's consumed_inputs): ignored. */
  | { readonly ignored: true };

/** A node of a pattern: its op, and the variables naming its input and output tensors. */
export interface PatternNode {
  readonly op: string;
  /** '' (the default) for the standard operators. */
  readonly domain?: string;
  /** The variables of its inputs, all required, in order. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Its two inputs may come in either order (Add, Mul). */
  readonly commutative?: boolean;
  readonly attributes?: Readonly<Record<string, AttributeRule>>;
}

/** What a constant of a pattern must hold. Strings in `values` and `length` are variables, bound once. */
export type ConstantRule =
  /** Exactly these int values (Reshape's target shape). */
  | { readonly values: readonly (number | string)[] }
  /** A 1-D tensor of `length` values, each `fill` exactly. */
  | { readonly fill: number; readonly length: string }
  /** A 1-D tensor of `length` values (InstanceNormalization's scale and B). */
  | { readonly vector: string }
  /** A tensor that broadcasts along the channel axis (1) alone: [C, 1, 1], [1, C, 1, 1], or a scalar. */
  | { readonly perChannel: true };

/** A chain of ops to find, anchored at one of its nodes. */
export interface Pattern {
  readonly kind: OnnxTakeoverKind;
  /** How the plan and its near misses name it. */
  readonly description: string;
  readonly nodes: readonly PatternNode[];
  /** The node the search starts from. */
  readonly anchor: number;
  /** The variables that must be constants, and what they must hold. */
  readonly constants?: Readonly<Record<string, ConstantRule>>;
  /** The tensor the pattern reads (the normalization's input; an epilogue's incoming tensor). */
  readonly input: string;
  /** The tensor it makes: every other tensor made inside is read inside only. */
  readonly output: string;
}

/** A normalization: what it is in the library's terms. */
export interface NormalizationPattern extends Pattern {
  /** Variables holding the library's options: epsilon, groups, per-channel scale and bias, activation, layout. */
  readonly options: {
    readonly epsilon: string;
    readonly groups?: string;
    readonly scale?: string;
    readonly bias?: string;
    /** com.microsoft.GroupNorm's activation attribute (0 none, 1 SiLU). */
    readonly activation?: string;
    /** com.microsoft.GroupNorm's channels_last attribute (1 nhwc, 0 nchw); nchw where absent. */
    readonly channelsLast?: string;
  };
  /** The constant whose data type is the pattern's (ONNX's type constraint T), where one is. */
  readonly typeFrom?: string;
}

/** A part of the fused epilogue: an activation or the residual add. */
export interface EpiloguePattern extends Pattern {
  /** The library's activation this part is. */
  readonly activation?: 'relu' | 'leakyRelu' | 'silu';
  /** The variable of LeakyRelu's slope. */
  readonly alpha?: string;
  /** The variable of the residual tensor, for an Add. */
  readonly residual?: string;
}

const EPSILON = { bind: 'epsilon', fallback: 1e-5 } as const;

/** The first decomposed GroupNorm (torch.onnx's nn.GroupNorm, affine); the reshapes exactly as torch 1.13 writes them. */
const GROUP_NORM_NODES: readonly PatternNode[] = [
  { op: 'Reshape', inputs: ['x', 'groupedShape'], outputs: ['grouped'], attributes: { allowzero: { equals: 0 } } },
  {
    op: 'InstanceNormalization',
    inputs: ['grouped', 'ones', 'zeros'],
    outputs: ['normalized'],
    attributes: { epsilon: EPSILON, consumed_inputs: { ignored: true } },
  },
  { op: 'Shape', inputs: ['x'], outputs: ['shape'], attributes: { start: { equals: 0 } } },
  { op: 'Reshape', inputs: ['normalized', 'shape'], outputs: ['ungrouped'], attributes: { allowzero: { equals: 0 } } },
];

const GROUP_NORM_CONSTANTS = {
  groupedShape: { values: [0, 'groups', -1] },
  ones: { fill: 1, length: 'groups' },
  zeros: { fill: 0, length: 'groups' },
} as const;

/**
 * The normalizations, tried in this order at each InstanceNormalization or GroupNorm node: the
 * first that matches takes it.
 */
export const NORMALIZATION_PATTERNS: readonly NormalizationPattern[] = [
  {
    kind: 'GroupNorm',
    description:
      'GroupNorm as torch.onnx writes it: Reshape [0, G, -1] → InstanceNormalization(ones, zeros) → Reshape(Shape) → Mul(γ) → Add(β)',
    nodes: [
      ...GROUP_NORM_NODES,
      { op: 'Mul', inputs: ['ungrouped', 'gamma'], outputs: ['scaled'], commutative: true },
      { op: 'Add', inputs: ['scaled', 'beta'], outputs: ['y'], commutative: true },
    ],
    anchor: 1,
    constants: { ...GROUP_NORM_CONSTANTS, gamma: { perChannel: true }, beta: { perChannel: true } },
    input: 'x',
    output: 'y',
    options: { epsilon: 'epsilon', groups: 'groups', scale: 'gamma', bias: 'beta' },
    typeFrom: 'ones',
  },
  {
    kind: 'GroupNorm',
    description:
      'GroupNorm without an affine map (affine=False): Reshape [0, G, -1] → InstanceNormalization(ones, zeros) → Reshape(Shape)',
    nodes: GROUP_NORM_NODES,
    anchor: 1,
    constants: GROUP_NORM_CONSTANTS,
    input: 'x',
    output: 'ungrouped',
    options: { epsilon: 'epsilon', groups: 'groups' },
    typeFrom: 'ones',
  },
  {
    kind: 'InstanceNormalization',
    description: 'InstanceNormalization with constant scale and B',
    nodes: [
      {
        op: 'InstanceNormalization',
        inputs: ['x', 'scale', 'B'],
        outputs: ['y'],
        attributes: { epsilon: EPSILON, consumed_inputs: { ignored: true } },
      },
    ],
    anchor: 0,
    constants: { scale: { vector: 'channels' }, B: { vector: 'channels' } },
    input: 'x',
    output: 'y',
    options: { epsilon: 'epsilon', scale: 'scale', bias: 'B' },
    typeFrom: 'scale',
  },
  {
    kind: 'com.microsoft.GroupNorm',
    description: "ONNX Runtime's contrib op com.microsoft.GroupNorm with constant gamma and beta",
    nodes: [
      {
        op: 'GroupNorm',
        domain: 'com.microsoft',
        inputs: ['x', 'gamma', 'beta'],
        outputs: ['y'],
        attributes: {
          epsilon: EPSILON,
          groups: { bind: 'groups' },
          activation: { bind: 'activation', oneOf: [0, 1] },
          channels_last: { bind: 'channelsLast', fallback: 1, oneOf: [0, 1] },
        },
      },
    ],
    anchor: 0,
    constants: { gamma: { vector: 'channels' }, beta: { vector: 'channels' } },
    input: 'x',
    output: 'y',
    options: {
      epsilon: 'epsilon',
      groups: 'groups',
      scale: 'gamma',
      bias: 'beta',
      activation: 'activation',
      channelsLast: 'channelsLast',
    },
  },
];

/** The parts of the epilogue, each tried at the tensor the normalization (or the part before) makes. */
export const EPILOGUE_PATTERNS: readonly EpiloguePattern[] = [
  {
    kind: 'Relu',
    description: 'Relu',
    nodes: [{ op: 'Relu', inputs: ['t'], outputs: ['y'] }],
    anchor: 0,
    input: 't',
    output: 'y',
    activation: 'relu',
  },
  {
    kind: 'LeakyRelu',
    description: 'LeakyRelu',
    nodes: [{ op: 'LeakyRelu', inputs: ['t'], outputs: ['y'], attributes: { alpha: { bind: 'alpha', fallback: 0.01 } } }],
    anchor: 0,
    input: 't',
    output: 'y',
    activation: 'leakyRelu',
    alpha: 'alpha',
  },
  {
    kind: 'SiLU',
    description: 'SiLU as Mul(x, Sigmoid(x))',
    nodes: [
      { op: 'Sigmoid', inputs: ['t'], outputs: ['s'] },
      { op: 'Mul', inputs: ['t', 's'], outputs: ['y'], commutative: true },
    ],
    anchor: 0,
    input: 't',
    output: 'y',
    activation: 'silu',
  },
  {
    kind: 'Add',
    description: 'Add of a residual',
    nodes: [{ op: 'Add', inputs: ['t', 'r'], outputs: ['y'], commutative: true }],
    anchor: 0,
    input: 't',
    output: 'y',
    residual: 'r',
  },
];
