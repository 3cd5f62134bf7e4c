import * as tf from '@tensorflow/tfjs-core';
import { deviceProfile } from '../src/gpu/device-profile';
import { instanceNorm, instanceNormReady } from '../src/tfjs';
import { alternatingMediansMs, randomData } from './gpu-timing';
import { NETWORK_BENCH_CASES, networkLabel } from './shapes';
import { tfjsWebGpu } from './tfjs-webgpu';

/**
 * A whole network on TF.js's WebGPU backend: Engstrom's TransformNet (fast-style-transfer's
 * `transform.py`, the network ml5's StyleTransfer runs), channels-last, seeded weights, in three
 * variants of the same weights: its instance norms by this library's op (ReLU and the residual
 * add fused), composed of TF.js ops as ml5 writes them, and removed (the floor).
 */

/** What one variant of the network costs per frame. */
export interface NetworkVariantFigures {
  /** TF.js kernels run per frame: the entries of `tf.profile`'s `kernels` (Reshape and Cast among them, which dispatch nothing). */
  readonly tfjsKernels: number;
  /** Compute dispatches per frame: calls of `GPUComputePassEncoder.dispatchWorkgroups`, TF.js's and the library's. */
  readonly dispatches: number;
  /** ms per frame, from the call to the output done on the GPU; median of the timed frames, the variants alternated frame by frame. */
  readonly frameMs: number;
}

export interface NetworkBenchRow {
  /** `transformnet 64`: what `--only` matches. */
  readonly network: string;
  /** [1, H, W, 3]. */
  readonly input: string;
  /** Instance norms per frame. */
  readonly normLayers: number;
  /** Timed frames per variant (after one warm-up frame each). */
  readonly frames: number;
  readonly ours: NetworkVariantFigures;
  readonly composed: NetworkVariantFigures;
  readonly noNorm: NetworkVariantFigures;
  /**
   * The 16 norm layers alone (each with its ReLU or residual add) on the tensors a frame hands
   * them, ms for all of them, the three alternated; no convolution around them. No-norm's are its
   * ReLUs and adds alone, what it runs in their place.
   */
  readonly oursLayersMs: number;
  readonly composedLayersMs: number;
  readonly noNormLayersMs: number;
  /** The largest difference between ours' and composed's outputs (values in about -22.5..277.5). */
  readonly maxDifference: number;
  /** The smallest and largest value of ours' output, and whether every variant's output was finite. */
  readonly outputRange: readonly [number, number];
  readonly finite: boolean;
}

type Variant = 'ours' | 'composed' | 'noNorm';

/** A layer: a convolution (transposed where `transposed`), then (but in `noNorm`) an instance norm, then its epilogue. */
interface Layer {
  readonly size: number;
  readonly filters: number;
  readonly stride: number;
  readonly transposed?: boolean;
  readonly relu: boolean;
  /** The second convolution of a residual block: the block's input is added after the norm. */
  readonly addsBlockInput?: boolean;
}

const conv = (size: number, filters: number, stride: number, relu = true): Layer => ({ size, filters, stride, relu });
const residualBlock: Layer[] = [conv(3, 128, 1), { ...conv(3, 128, 1, false), addsBlockInput: true }];

// transform.py's net(): every layer, the last included, has its instance norm (ml5's convLayer
// too: its last layer is convLayer(convT2, 1, false, 45), and its 48 variables are 16 × (kernel,
// shift, scale)); the last has no ReLU, nor has a block's second.
const TRANSFORM_NET: readonly Layer[] = [
  conv(9, 32, 1),
  conv(3, 64, 2),
  conv(3, 128, 2),
  ...residualBlock,
  ...residualBlock,
  ...residualBlock,
  ...residualBlock,
  ...residualBlock,
  { ...conv(3, 64, 2), transposed: true },
  { ...conv(3, 32, 2), transposed: true },
  conv(9, 3, 1, false),
];

/** As fast-style-transfer and ml5. */
const EPSILON = 1e-3;

interface Weights {
  /** [k, k, in, out]; transposed: [k, k, out, in], as tf.conv2dTranspose takes it. */
  readonly kernels: tf.Tensor4D[];
  readonly gammas: tf.Tensor1D[];
  readonly betas: tf.Tensor1D[];
}

/**
 * Seeded weights: one stream of randomData cut into the layers' tensors. Kernels He-like, zero
 * mean with standard deviation sqrt(2 / fan-in) (a transposed convolution of stride s gathers
 * about k² · in / s² values an output), so that the network without norms stays finite; γ in
 * [0.8, 1.2), β in [-0.2, 0.2).
 */
function seededWeights(): Weights {
  let channels = 3;
  const sizes = TRANSFORM_NET.map((layer) => {
    const size = layer.size * layer.size * channels * layer.filters;
    channels = layer.filters;
    return size;
  });
  const total = sizes.reduce((a, b) => a + b, 0) + 2 * TRANSFORM_NET.reduce((a, l) => a + l.filters, 0);
  const stream = randomData(total); // uniform in [-1.5, 2.5): mean 0.5, standard deviation 4 / sqrt(12)
  let at = 0;
  const take = (length: number, scale: number, offset: number) => {
    const values = stream.slice(at, at + length).map((v) => (v - 0.5) * scale + offset);
    at += length;
    return values;
  };
  const uniformStd = 4 / Math.sqrt(12);
  const kernels: tf.Tensor4D[] = [];
  const gammas: tf.Tensor1D[] = [];
  const betas: tf.Tensor1D[] = [];
  channels = 3;
  TRANSFORM_NET.forEach((layer, i) => {
    const fanIn = (layer.size * layer.size * channels) / (layer.transposed ? layer.stride * layer.stride : 1);
    const values = take(sizes[i], Math.sqrt(2 / fanIn) / uniformStd, 0);
    const shape: [number, number, number, number] = layer.transposed
      ? [layer.size, layer.size, layer.filters, channels]
      : [layer.size, layer.size, channels, layer.filters];
    kernels.push(tf.tensor4d(values, shape));
    gammas.push(tf.tensor1d(take(layer.filters, 0.1, 1)));
    betas.push(tf.tensor1d(take(layer.filters, 0.1, 0)));
    channels = layer.filters;
  });
  return { kernels, gammas, betas };
}

/** What comes after a layer's convolution: its norm (or none), its ReLU, its residual add. */
type NormLayer = (x: tf.Tensor4D, layer: number, residual?: tf.Tensor4D) => tf.Tensor4D;

function normLayers(weights: Weights, epsilon: tf.Scalar): Record<Variant, NormLayer> {
  const epilogue = (y: tf.Tensor4D, layer: number, residual?: tf.Tensor4D): tf.Tensor4D => {
    const activated = TRANSFORM_NET[layer].relu ? tf.relu(y) : y;
    return residual ? tf.add(activated, residual) : activated;
  };
  return {
    // The library's op: the ReLU or the residual add in the same pass.
    ours: (x, layer, residual) =>
      instanceNorm(x, {
        gamma: weights.gammas[layer],
        beta: weights.betas[layer],
        epsilon: EPSILON,
        activation: TRANSFORM_NET[layer].relu ? 'relu' : 'linear',
        residual,
      }) as tf.Tensor4D,
    // ml5's instanceNorm: moments over H and W, (x − μ) / sqrt(σ² + ε), scale · normalized + shift;
    // then ReLU and the residual add as ops of their own (convLayer, residualBlock).
    composed: (x, layer, residual) => {
      const { mean, variance } = tf.moments(x, [1, 2], true);
      const normalized = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, epsilon)));
      const shifted = tf.add(tf.mul(weights.gammas[layer], normalized), weights.betas[layer]) as tf.Tensor4D;
      return epilogue(shifted, layer, residual);
    },
    noNorm: (x, layer, residual) => epilogue(x, layer, residual),
  };
}

/**
 * One frame: the image through the network, `norm` after every convolution; tanh · 150 + 127.5.
 * Each layer in a tf.tidy of its own, as ml5's convLayer: its intermediates go back to TF.js's
 * buffer pool before the next layer.
 */
function transformNet(image: tf.Tensor4D, weights: Weights, norm: NormLayer, scalars: { times: tf.Scalar; plus: tf.Scalar }) {
  return tf.tidy(() => {
    let h = image;
    let blockInput = image;
    TRANSFORM_NET.forEach((layer, i) => {
      if (!layer.addsBlockInput) blockInput = h;
      const input = h;
      const residual = layer.addsBlockInput ? blockInput : undefined;
      h = tf.tidy(() => {
        const [n, height, width] = input.shape;
        const outputShape: [number, number, number, number] = [n, height * layer.stride, width * layer.stride, layer.filters];
        const y = layer.transposed
          ? tf.conv2dTranspose(input, weights.kernels[i], outputShape, layer.stride, 'same')
          : tf.conv2d(input, weights.kernels[i], layer.stride, 'same');
        return norm(y, i, residual);
      });
    });
    return tf.add(tf.mul(tf.tanh(h), scalars.times), scalars.plus) as tf.Tensor4D;
  });
}

/** Compute dispatches recorded while `run` runs, on any device of the page (nothing else runs meanwhile). */
function countingDispatches<T>(run: () => T): { result: T; dispatches: number } {
  const prototype = GPUComputePassEncoder.prototype;
  const dispatch = prototype.dispatchWorkgroups;
  const indirect = prototype.dispatchWorkgroupsIndirect;
  let dispatches = 0;
  prototype.dispatchWorkgroups = function (this: GPUComputePassEncoder, ...args: Parameters<typeof dispatch>) {
    dispatches++;
    return dispatch.apply(this, args);
  };
  prototype.dispatchWorkgroupsIndirect = function (this: GPUComputePassEncoder, ...args: Parameters<typeof indirect>) {
    dispatches++;
    return indirect.apply(this, args);
  };
  try {
    const result = run();
    return { result, dispatches };
  } finally {
    prototype.dispatchWorkgroups = dispatch;
    prototype.dispatchWorkgroupsIndirect = indirect;
  }
}

/**
 * TransformNet per `NETWORK_BENCH_CASES` size, on TF.js's WebGPU backend: per variant, TF.js
 * kernels (tf.profile) and compute dispatches (counted) per frame, then ms per frame, the three
 * variants alternated frame by frame (one warm-up frame each); then the norm layers alone.
 * Before any timing, one frame of each: ours' and composed's outputs compared.
 */
export async function runNetworkBenchmark({ quick, only }: { quick: boolean; only?: string }): Promise<NetworkBenchRow[]> {
  const wanted = only?.split('|');
  const cases = NETWORK_BENCH_CASES.filter(
    (c) => (!quick || c.quick) && (!wanted || wanted.some((o) => networkLabel(c).includes(o))),
  );
  if (cases.length === 0) return [];
  const { device, done } = await tfjsWebGpu();
  await instanceNormReady();
  const cpuAdapter = deviceProfile(device).isCpuAdapter;
  const weights = seededWeights();
  // Scalars made once, as ml5 makes them.
  const epsilon = tf.scalar(EPSILON);
  const norms = normLayers(weights, epsilon);
  const scalars = { times: tf.scalar(150), plus: tf.scalar(127.5) };
  const rows: NetworkBenchRow[] = [];
  for (const c of cases) {
    const label = networkLabel(c);
    if (c.gpuOnly && cpuAdapter && !wanted?.includes(label)) {
      console.log(`${label}: skipped on a CPU adapter (--only '${label}' runs it)`);
      continue;
    }
    const image = tf.tensor4d(
      randomData(c.size * c.size * 3).map((v) => ((v + 1.5) / 4) * 255),
      [1, c.size, c.size, 3],
    );
    const frame = (variant: Variant) => transformNet(image, weights, norms[variant], scalars);

    // One frame of each, the dispatches counted (and the pipelines compiled): the outputs compared.
    const outputs = {} as Record<Variant, Float32Array>;
    const dispatches = {} as Record<Variant, number>;
    for (const variant of ['ours', 'composed', 'noNorm'] as const) {
      const { result, dispatches: count } = countingDispatches(() => frame(variant));
      await done();
      dispatches[variant] = count;
      outputs[variant] = (await result.data()) as Float32Array;
      result.dispose();
    }
    let maxDifference = 0;
    for (let i = 0; i < outputs.ours.length; i++) {
      maxDifference = Math.max(maxDifference, Math.abs(outputs.ours[i] - outputs.composed[i]));
    }
    const finite = Object.values(outputs).every((o) => o.every(Number.isFinite));
    const outputRange = outputs.ours.reduce(([low, high], v) => [Math.min(low, v), Math.max(high, v)] as const, [
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ] as const);
    console.log(`${label}: ours against composed, outputs differ by ${maxDifference.toExponential(2)}; finite: ${finite}`);

    // TF.js's kernels per frame, named.
    const tfjsKernels = {} as Record<Variant, number>;
    for (const variant of ['ours', 'composed', 'noNorm'] as const) {
      const profile = await tf.profile(() => frame(variant));
      await done();
      (profile.result as tf.Tensor).dispose();
      tfjsKernels[variant] = profile.kernels.length;
      const byName = new Map<string, number>();
      for (const k of profile.kernels) byName.set(k.name, (byName.get(k.name) ?? 0) + 1);
      console.log(
        `${label} ${variant}: ${profile.kernels.length} TF.js kernels: ${[...byName].map(([n, k]) => `${n} ${k}`).join(', ')}`,
      );
    }

    // A CPU adapter's frames take seconds: a few of them there.
    const frames = cpuAdapter ? 3 : 11;
    const timed = await alternatingMediansMs(
      {
        ours: { run: () => frame('ours').dispose(), reps: frames },
        composed: { run: () => frame('composed').dispose(), reps: frames },
        noNorm: { run: () => frame('noNorm').dispose(), reps: frames },
      },
      done,
      1,
    );

    // The norm layers alone, on the tensors a frame hands them (kept from one frame of ours): on a
    // CPU adapter shared with other work, frames of seconds vary by more than the norms take.
    const handed: { x: tf.Tensor4D; layer: number; residual?: tf.Tensor4D }[] = [];
    const recording: NormLayer = (x, layer, residual) => {
      handed.push({ x: tf.keep(x), layer, residual: residual && tf.keep(residual) });
      return norms.ours(x, layer, residual);
    };
    transformNet(image, weights, recording, scalars).dispose();
    await done();
    const normsOnly = (variant: Variant) => () =>
      tf.tidy(() => {
        for (const { x, layer, residual } of handed) norms[variant](x, layer, residual);
      });
    const alone = await alternatingMediansMs(
      {
        ours: { run: normsOnly('ours'), reps: frames + 2 },
        composed: { run: normsOnly('composed'), reps: frames + 2 },
        noNorm: { run: normsOnly('noNorm'), reps: frames + 2 },
      },
      done,
      1,
    );
    tf.dispose([image, ...handed.flatMap(({ x, residual }) => (residual ? [x, residual] : [x]))]);

    const figures = (variant: Variant): NetworkVariantFigures => ({
      tfjsKernels: tfjsKernels[variant],
      dispatches: dispatches[variant],
      frameMs: timed[variant],
    });
    const row: NetworkBenchRow = {
      network: label,
      input: `[1, ${c.size}, ${c.size}, 3]`,
      normLayers: TRANSFORM_NET.length,
      frames,
      ours: figures('ours'),
      composed: figures('composed'),
      noNorm: figures('noNorm'),
      oursLayersMs: alone.ours,
      composedLayersMs: alone.composed,
      noNormLayersMs: alone.noNorm,
      maxDifference,
      outputRange,
      finite,
    };
    console.log(`bench row ${JSON.stringify(row)}`);
    rows.push(row);
  }
  tf.dispose([...weights.kernels, ...weights.gammas, ...weights.betas, epsilon, scalars.times, scalars.plus]);
  return rows;
}
