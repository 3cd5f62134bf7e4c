import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-web/webgpu';
import { groupNormSiluModel } from '../demo/onnx-models';
import { type InstanceNorm, instanceNormCpu, toFloat16Bits } from '../src';
import { alternatingMediansMs, gpuBuffer, randomData, type TimedSide } from './gpu-timing';
import { ortWebGpuSide } from './ort-webgpu';
import { GROUP_BENCH_SHAPES, type GroupBenchShape, groupLabel } from './shapes';
import { tfjsWebGpu } from './tfjs-webgpu';

/** GroupNorm + SiLU (affine, G groups) on one NCHW shape, float32 and float16, against the peers. */
export interface GroupBenchRow {
  readonly shape: string;
  /** Stable Diffusion's U-Net or VAE decoder. */
  readonly model: string;
  readonly groups: number;
  readonly elements: number;
  /** The plans this library takes for float32 and float16. */
  readonly strategy: string;
  readonly halfStrategy: string;
  /** ms per call, medians, every side of the shape timed in alternation, GPU work awaited. */
  readonly oursMs: number;
  readonly halfMs: number;
  /** float32, the same tensor channels-last ([N, H, W, C], TF.js's layout), and its plan. */
  readonly nhwcMs: number;
  readonly nhwcStrategy: string;
  /** The vec4 copy of the float32 tensor, and of as many bytes as the float16 one. */
  readonly copyMs: number;
  readonly halfCopyMs: number;
  /** ORT-web's WebGPU EP on the decomposed graph PyTorch exports (Reshape, InstanceNormalization, ...), GPU-resident. */
  readonly ortMs: number | null;
  /** TF.js's WebGPU backend on the channels-last tensor: reshape, tf.moments, tf.batchNorm, affine, x · sigmoid(x). */
  readonly tfjsMs: number | null;
  /** The CPU fallback (instanceNormCpu, float32), and ORT-web's wasm EP (one thread) on the decomposed graph. */
  readonly cpuMs: number;
  readonly ortWasmMs: number | null;
}

const EPSILON = 1e-5;

/**
 * GroupNorm + SiLU at diffusion scale: every side of a shape (ours float32 and float16, the two
 * copies, ORT's decomposed graph, TF.js's composition on its own device) in one alternation;
 * each call awaits its own device.
 */
export async function runGroupNormBenchmark(
  device: GPUDevice,
  norm: InstanceNorm,
  { quick, only }: { quick: boolean; only?: string },
  copy: (source: GPUBuffer, destination: GPUBuffer) => void,
): Promise<GroupBenchRow[]> {
  const shapes = GROUP_BENCH_SHAPES.filter(
    (s) => (!quick || s.quick) && (!only || only.split('|').some((o) => groupLabel(s).includes(o))),
  );
  if (shapes.length === 0) return [];
  const { done: tfDone } = await tfjsWebGpu();
  const done = () => device.queue.onSubmittedWorkDone();
  const rows: GroupBenchRow[] = [];
  for (const s of shapes) {
    const [n, c, h, w] = s.dims;
    const elements = n * c * h * w;
    const shape = [...s.dims];
    // A few calls of the largest shapes: the peers take seconds each there on a CPU adapter.
    // Odd counts: the median of an even count is its upper middle, of two calls the slower one.
    const reps = elements > 8e6 ? 3 : quick ? 5 : 11;
    const peerReps = elements > 8e6 ? 3 : quick ? 3 : 5;
    const x = randomData(elements);
    const input = gpuBuffer(device, x);
    const output = gpuBuffer(device, new Float32Array(elements));
    const halfWords = new Float32Array(toFloat16Bits(x).buffer);
    const halfInput = gpuBuffer(device, halfWords);
    const halfOutput = gpuBuffer(device, new Float32Array(halfWords.length));
    const scaleValues = randomData(c);
    const biasValues = randomData(c);
    const scale = gpuBuffer(device, scaleValues);
    const bias = gpuBuffer(device, biasValues);
    const options = { groups: s.groups, scale, bias, activation: 'silu' as const, epsilon: EPSILON };
    const halfOptions = { ...options, dataType: 'float16' as const };
    const nhwcShape = [n, h, w, c];
    const nhwcOptions = { ...options, layout: 'nhwc' as const };
    const submitted = (record: (encoder: GPUCommandEncoder) => void) => () => {
      const encoder = device.createCommandEncoder();
      record(encoder);
      device.queue.submit([encoder.finish()]);
      return done();
    };
    const copied = (source: GPUBuffer, destination: GPUBuffer) => () => {
      copy(source, destination);
      return done();
    };
    // The decomposed graph a Stable Diffusion export holds.
    const model = groupNormSiluModel(s.dims, s.groups, EPSILON);
    const ortSide = await ortWebGpuSide(model, s.dims, [c, 1, 1], { input, scale, bias }, done).catch((e: unknown) => {
      console.log(`ORT WebGPU failed on the GroupNorm graph of [${shape}]: ${String(e)}`);
      return null;
    });
    const tfSide = tfjsComposition(s, x, tfDone);
    const sides: Record<string, TimedSide> = {
      ours: { run: submitted((e) => norm.encode(e, input, output, shape, options)), reps },
      half: { run: submitted((e) => norm.encode(e, halfInput, halfOutput, shape, halfOptions)), reps },
      nhwc: { run: submitted((e) => norm.encode(e, input, output, nhwcShape, nhwcOptions)), reps },
      copy: { run: copied(input, output), reps },
      halfCopy: { run: copied(halfInput, halfOutput), reps },
      ...(ortSide ? { ort: { run: ortSide.run, reps: peerReps } } : {}),
      ...(tfSide ? { tfjs: { run: tfSide.run, reps: peerReps } } : {}),
    };
    const timed = await alternatingMediansMs(sides, async () => {}, quick ? 1 : 2);
    await norm.checkErrors();
    await ortSide?.release();
    tfSide?.release();
    const cpu = await timeCpuSides(s, model, x, scaleValues, biasValues, peerReps);
    const row: GroupBenchRow = {
      shape: `[${shape.join(', ')}]`,
      model: s.model,
      groups: s.groups,
      elements,
      strategy: norm.plan(shape, options).strategy,
      halfStrategy: norm.plan(shape, halfOptions).strategy,
      oursMs: timed.ours,
      halfMs: timed.half,
      nhwcMs: timed.nhwc,
      nhwcStrategy: norm.plan(nhwcShape, nhwcOptions).strategy,
      copyMs: timed.copy,
      halfCopyMs: timed.halfCopy,
      ortMs: timed.ort ?? null,
      tfjsMs: timed.tfjs ?? null,
      ...cpu,
    };
    console.log(`bench row ${JSON.stringify(row)}`);
    rows.push(row);
    for (const b of [input, output, halfInput, halfOutput, scale, bias]) b.destroy();
  }
  return rows;
}

/** TF.js's composition on the channels-last tensor, on TF.js's own device; null where TF.js fails. */
function tfjsComposition(
  s: GroupBenchShape,
  x: Float32Array,
  tfDone: () => Promise<unknown>,
): { run: () => Promise<unknown>; release: () => void } | null {
  const [n, c, h, w] = s.dims;
  try {
    // The same values, channels-last: TF.js holds images that way.
    const nhwc = tf.transpose(tf.tensor(x, [n, c, h, w]), [0, 2, 3, 1]);
    const gamma = tf.tensor(randomData(c));
    const beta = tf.tensor(randomData(c));
    const compose = () =>
      tf.tidy(() => {
        const grouped = tf.reshape(nhwc, [n, h * w, s.groups, c / s.groups]);
        const { mean, variance } = tf.moments(grouped, [1, 3], true);
        const normalized = tf.reshape(tf.batchNorm(grouped, mean, variance, undefined, undefined, EPSILON), [n, h, w, c]);
        const affine = tf.add(tf.mul(normalized, gamma), beta);
        return tf.mul(affine, tf.sigmoid(affine));
      });
    return {
      run: () => {
        compose().dispose();
        return tfDone();
      },
      release: () => tf.dispose([nhwc, gamma, beta]),
    };
  } catch (e) {
    console.log(`TF.js failed on [${s.dims}]: ${String(e)}`);
    return null;
  }
}

/**
 * The CPU sides of a GroupNorm case, after the GPU's, with garbage collected first (the page may:
 * bench.mjs passes --expose-gc): ours (instanceNormCpu) and ORT's wasm EP on the same graph, in
 * alternation.
 */
async function timeCpuSides(
  s: GroupBenchShape,
  model: Uint8Array,
  x: Float32Array,
  scale: Float32Array,
  bias: Float32Array,
  reps: number,
): Promise<{ cpuMs: number; ortWasmMs: number | null }> {
  const c = s.dims[1];
  const options = { groups: s.groups, scale, bias, activation: 'silu' as const, epsilon: EPSILON };
  const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] }).catch((e: unknown) => {
    console.log(`ORT wasm failed on the GroupNorm graph of [${s.dims}]: ${String(e)}`);
    return null;
  });
  const feeds = {
    X: new ort.Tensor('float32', x, [...s.dims]),
    scale: new ort.Tensor('float32', scale, [c, 1, 1]),
    B: new ort.Tensor('float32', bias, [c, 1, 1]),
  };
  (globalThis as { gc?: () => void }).gc?.();
  const sides: Record<string, TimedSide> = {
    ours: { run: () => void instanceNormCpu(x, [...s.dims], options), reps },
    ...(session ? { theirs: { run: () => session.run(feeds), reps } } : {}),
  };
  const timed = await alternatingMediansMs(sides, async () => {}, 1);
  await session?.release();
  return { cpuMs: timed.ours, ortWasmMs: timed.theirs ?? null };
}
