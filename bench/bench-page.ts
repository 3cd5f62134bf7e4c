import '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-web/webgpu';
import { instanceNormModel } from '../examples/one-node-onnx-model';
import { InstanceNorm, instanceNormCpu, type Layout } from '../src';
import { STRATEGIES } from '../src/gpu/planner';
import { groupNorm, instanceNorm, instanceNormReady } from '../src/tfjs';
import copyWGSL from './copy.wgsl?raw';
import { alternatingMediansMs, elementwiseKernel, gpuBuffer, medianMs, randomData, type TimedSide } from './gpu-timing';
import { type GroupBenchRow, runGroupNormBenchmark } from './group-norm-bench';
import { type NetworkBenchRow, runNetworkBenchmark } from './network-bench';
import { type OnnxModelBenchRow, runOnnxModelBenchmark } from './onnx-model-bench';
import { ortWebGpuSide } from './ort-webgpu';
import separateEpilogueWGSL from './separate-epilogue.wgsl?raw';
import { BENCH_SHAPES, layoutShape, TFJS_BENCH_SHAPES, tfjsLabel } from './shapes';
import { tfjsWebGpu } from './tfjs-webgpu';

export interface BenchConfig {
  readonly quick: boolean;
  /** Also time every strategy on every shape (the planner's choice is one of them). */
  readonly strategies: boolean;
  /** Only shapes whose `[dims] layout` contains this text. */
  readonly only?: string;
}

export interface BenchRow {
  readonly shape: string;
  readonly layout: string;
  readonly elements: number;
  readonly strategy: string;
  /** Milliseconds per call, median over repetitions after warm-up; GPU work awaited. */
  readonly oursMs: number;
  readonly copyMs: number;
  /** For an nhwc row: the same tensor as nchw ([N, C, ...spatial]), ms per call, in the same alternation. */
  readonly nchwMs: number | null;
  readonly ortMs: number | null;
  readonly cpuMs: number | null;
  readonly ortWasmMs: number | null;
  /** Normalization with a fused SiLU and residual add, ms per call. */
  readonly fusedEpilogueMs: number;
  /** The same as two calls: normalization, then SiLU and residual add in a pass of its own. */
  readonly separateEpilogueMs: number;
  /** The backward pass (input, scale and bias gradients) with the forward's saved statistics, ms per call. */
  readonly backwardMs: number;
  /** The forward that saves its statistics for it (split plan), ms per call. */
  readonly forwardSavingStatsMs: number;
  /** With `strategies`: milliseconds per call of each strategy. */
  readonly byStrategy?: Record<string, number>;
}

/** A TF.js case: the op of webgpu-instancenorm/tfjs against the composition TF.js users write. */
export interface TfjsBenchRow {
  readonly shape: string;
  /** 'instanceNorm' or 'groupNorm G = 32'. */
  readonly op: string;
  /** ms per call of the op (a registered kernel on TF.js's device and buffers), GPU work awaited. */
  readonly opMs: number;
  /** ms per call of tf.moments + tf.batchNorm (the group-reshaped form for GroupNorm). */
  readonly compositionMs: number;
  /** The largest difference between the two outputs. */
  readonly maxDifference: number;
}

export interface BenchReport {
  readonly adapter: string;
  /** TF.js's WebGPU backend: its device's adapter, and the rows. */
  readonly tfjs: { readonly adapter: string; readonly rows: TfjsBenchRow[] };
  readonly ortVersion: string;
  /** CPU time of one encode() call on a small tensor, microseconds (median of 5 runs of 1000 calls). */
  readonly encodeMicroseconds: number;
  readonly rows: BenchRow[];
  /** GroupNorm + SiLU at Stable Diffusion's shapes, float32 and float16, against ORT's decomposed graph and TF.js. */
  readonly groupRows: GroupBenchRow[];
  /** Whole networks on TF.js's WebGPU backend (its adapter: `tfjs.adapter`): TransformNet with our norms, composed ones, none. */
  readonly networkRows: NetworkBenchRow[];
  /** Whole ONNX models on ORT-web's WebGPU EP (this report's adapter): ORT alone, spliced by webgpu-instancenorm/onnxruntime, the ceiling, no norm. */
  readonly onnxModelRows: OnnxModelBenchRow[];
}

const EPSILON = 1e-5;
// Warm-up calls on both CPU sides: JavaScript is timed once the JIT has optimized it (an app
// normalizes again and again; Chromium's V8 gets there later than Node's), as ORT's wasm is
// compiled ahead.
const CPU_WARMUP = 10;
// A pause before the CPU timings: the GPU timings of the shape leave the machine busy for up to
// a second after their last call (SwiftShader's threads, buffers being freed). Measured without
// it: the first 5 of 11 samples of nhwc RGB 4-5x slower on both CPU sides, enough to move the
// median of either.
const SETTLE_MS = 1000;
// Timed calls per CPU side, with --quick too (they take well under a second per shape): even
// after the pause, the first few hundred milliseconds of a 12 MB shape's CPU timings were now
// and then 4-5x slower on both sides (3 of 5 samples in a --quick run); 21 keep the median clear
// of such a stretch.
const CPU_REPS = 21;

/**
 * Collects garbage where the page may (bench.mjs launches Chromium with --expose-gc): the CPU
 * timings allocate an output per call, and one shape's garbage must not be collected during
 * the next one's timing.
 */
function collectGarbage() {
  (globalThis as { gc?: () => void }).gc?.();
}

async function runBenchmark(config: BenchConfig): Promise<BenchReport> {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
  // ORT's WebGPU EP makes its own device and publishes it once a session exists: everything
  // here runs on that one device, as an app that shares ORT's device would.
  await ort.InferenceSession.create(instanceNormModel([1, 1, 4], EPSILON), { executionProviders: ['webgpu'] });
  const device = await ort.env.webgpu.device;
  console.log(`device features: ${[...device.features].join(', ')}`);
  const norm = await InstanceNorm.create({ device });
  const copy = elementwiseKernel(device, copyWGSL);
  const separateEpilogue = elementwiseKernel(device, separateEpilogueWGSL);
  const idle = () => device.queue.onSubmittedWorkDone();
  const reps = config.quick ? 5 : 15;
  const warmup = config.quick ? 2 : 3;
  const shapes = BENCH_SHAPES.filter((s) => (!config.quick || s.quick) && matches(config, `[${s.dims.join(', ')}] ${s.layout}`));
  const forced = config.strategies
    ? await Promise.all(STRATEGIES.map((strategy) => InstanceNorm.create({ device, strategy })))
    : [];
  const rows: BenchRow[] = [];

  for (const s of shapes) {
    const shape = layoutShape(s);
    const channels = s.dims[1];
    const elements = shape.reduce((a, b) => a * b, 1);
    const x = randomData(elements);
    const scale = randomData(channels);
    const bias = randomData(channels);
    const input = gpuBuffer(device, x);
    const output = gpuBuffer(device, new Float32Array(elements));
    const scaleBuffer = gpuBuffer(device, scale);
    const biasBuffer = gpuBuffer(device, bias);
    const options = { layout: s.layout, epsilon: EPSILON, scale: scaleBuffer, bias: biasBuffer };

    // Every GPU side of the shape in one alternation, call for call, so that a disturbance on
    // this 2-core VM falls on all of them alike. The residual is another tensor; the forward
    // that saves statistics runs before the backward that uses them in every round.
    const encodeAndSubmit = (record: (encoder: GPUCommandEncoder) => void) => () => {
      const encoder = device.createCommandEncoder();
      record(encoder);
      device.queue.submit([encoder.finish()]);
    };
    const residual = gpuBuffer(device, randomData(elements));
    const savedStats = gpuBuffer(device, new Float32Array(2 * s.dims[0] * channels));
    const gradOutput = gpuBuffer(device, randomData(elements));
    const gradAffine = gpuBuffer(device, new Float32Array(2 * channels));
    const gpuSides: Record<string, TimedSide> = {
      ours: { run: encodeAndSubmit((e) => norm.encode(e, input, output, shape, options)), reps },
      copy: { run: () => copy(input, output), reps },
      // The goal of channels-last: as fast as the same tensor channels-first.
      ...(s.layout === 'nhwc'
        ? { nchw: { run: encodeAndSubmit((e) => norm.encode(e, input, output, s.dims, { ...options, layout: 'nchw' })), reps } }
        : {}),
      fusedEpilogue: {
        run: encodeAndSubmit((e) => norm.encode(e, input, output, shape, { ...options, activation: 'silu', residual })),
        reps,
      },
      separateEpilogue: {
        run: encodeAndSubmit((e) => {
          norm.encode(e, input, output, shape, options);
          separateEpilogue(output, residual, e);
        }),
        reps,
      },
      forwardSavingStats: {
        run: encodeAndSubmit((e) => norm.encode(e, input, output, shape, { ...options, saveStats: savedStats })),
        reps,
      },
      backward: {
        run: encodeAndSubmit((e) =>
          norm.encodeBackward(e, { gradOutput, input, gradInput: output, gradAffine }, shape, { ...options, savedStats }),
        ),
        reps,
      },
    };
    // ONNX's InstanceNormalization is channels-first: an nhwc case runs ORT on the same tensor as nchw.
    const buffers = { input, scale: scaleBuffer, bias: biasBuffer };
    const ortWebGpu = await ortWebGpuSide(instanceNormModel(s.dims, EPSILON), s.dims, [channels], buffers, idle).catch(
      (e: unknown) => {
        console.log(`ORT WebGPU failed on ${s.dims}: ${String(e)}`);
        return null;
      },
    );
    const timed: Record<string, number> = ortWebGpu
      ? await alternatingMediansMs({ ...gpuSides, ort: { run: ortWebGpu.run, reps: config.quick ? 3 : 7 } }, idle, warmup)
      : await alternatingMediansMs(gpuSides, idle, warmup);
    await ortWebGpu?.release();
    await norm.checkErrors();
    for (const b of [residual, savedStats, gradOutput, gradAffine]) b.destroy();

    const byStrategy: Record<string, number> = {};
    for (const forcedNorm of forced) {
      byStrategy[forcedNorm.plan(shape, options).strategy] = await medianMs(
        encodeAndSubmit((e) => forcedNorm.encode(e, input, output, shape, options)),
        idle,
        warmup,
        reps,
      );
    }
    await norm.checkErrors();
    const { cpuMs, ortWasmMs } = await timeCpuSides(s.dims, shape, s.layout, x, scale, bias, CPU_REPS);

    const row: BenchRow = {
      shape: `[${shape.join(', ')}]`,
      layout: s.layout,
      elements,
      strategy: norm.plan(shape, options).strategy,
      oursMs: timed.ours,
      copyMs: timed.copy,
      nchwMs: timed.nchw ?? null,
      ortMs: timed.ort ?? null,
      cpuMs,
      ortWasmMs,
      fusedEpilogueMs: timed.fusedEpilogue,
      separateEpilogueMs: timed.separateEpilogue,
      backwardMs: timed.backward,
      forwardSavingStatsMs: timed.forwardSavingStats,
      ...(config.strategies ? { byStrategy } : {}),
    };
    console.log(`bench row ${JSON.stringify(row)}`);
    rows.push(row);
    for (const b of [input, output, scaleBuffer, biasBuffer]) b.destroy();
  }
  const encodeMicroseconds = await measureEncodeCost(device, norm);
  const info = device.adapterInfo;
  const groupRows = await runGroupNormBenchmark(device, norm, config, copy);
  const tfjs = await runTfjsBenchmark(config, warmup, reps);
  const networkRows = await runNetworkBenchmark(config);
  const onnxModelRows = await runOnnxModelBenchmark(device, config);
  return {
    groupRows,
    tfjs,
    networkRows,
    onnxModelRows,
    encodeMicroseconds,
    adapter: `${info.vendor} / ${info.architecture} / ${info.description}`,
    ortVersion: ort.env.versions.web ?? '?',
    rows,
  };
}

/** Whether `--only` keeps a case of this label. */
function matches(config: BenchConfig, label: string): boolean {
  return !config.only || config.only.split('|').some((o) => label.includes(o));
}

/**
 * TF.js on its own WebGPU backend (its own device): the op of webgpu-instancenorm/tfjs against
 * what TF.js users write today, tf.moments then tf.batchNorm (for GroupNorm, on the tensor
 * reshaped to [N, H·W, G, C/G]), alternated call for call. A call disposes its output; `after`
 * submits what TF.js has recorded and waits for the GPU.
 */
async function runTfjsBenchmark(config: BenchConfig, warmup: number, reps: number): Promise<BenchReport['tfjs']> {
  const { device: tfDevice, done: after } = await tfjsWebGpu();
  await instanceNormReady();
  const rows: TfjsBenchRow[] = [];
  for (const s of TFJS_BENCH_SHAPES.filter((c) => (!config.quick || c.quick) && matches(config, tfjsLabel(c)))) {
    const shape = [...s.shape];
    const [n, h, w, c] = shape;
    const x = tf.tensor(randomData(n * h * w * c), shape);
    const gamma = tf.tensor(randomData(c));
    const beta = tf.tensor(randomData(c));
    const groups = s.groups;
    const op = () =>
      groups ? groupNorm(x, groups, { gamma, beta, epsilon: EPSILON }) : instanceNorm(x, { gamma, beta, epsilon: EPSILON });
    const composition = () =>
      tf.tidy(() => {
        if (!groups) {
          const { mean, variance } = tf.moments(x, [1, 2], true); // [N, 1, 1, C]
          return tf.batchNorm(x, mean, variance, tf.reshape(beta, [1, 1, 1, c]), tf.reshape(gamma, [1, 1, 1, c]), EPSILON);
        }
        const grouped = tf.reshape(x, [n, h * w, groups, c / groups]);
        const { mean, variance } = tf.moments(grouped, [1, 3], true);
        return tf.add(
          tf.mul(tf.reshape(tf.batchNorm(grouped, mean, variance, undefined, undefined, EPSILON), shape), gamma),
          beta,
        );
      });
    const a = op();
    const b = composition();
    const maxDifference = (await tf.max(tf.abs(tf.sub(a, b))).data())[0];
    tf.dispose([a, b]);
    const timed = await alternatingMediansMs(
      { op: { run: () => op().dispose(), reps }, composition: { run: () => composition().dispose(), reps } },
      after,
      warmup,
    );
    const row: TfjsBenchRow = {
      shape: `[${shape.join(', ')}]`,
      op: groups ? `groupNorm G = ${groups}` : 'instanceNorm',
      opMs: timed.op,
      compositionMs: timed.composition,
      maxDifference,
    };
    console.log(`bench row ${JSON.stringify(row)}`);
    rows.push(row);
    tf.dispose([x, gamma, beta]);
  }
  const info = tfDevice.adapterInfo;
  return { adapter: `${info.vendor} / ${info.architecture} / ${info.description}`, rows };
}

/** What encode() costs the CPU per call: recording only, nothing submitted. */
async function measureEncodeCost(device: GPUDevice, norm: InstanceNorm): Promise<number> {
  const shape = [1, 64, 16, 16];
  const x = randomData(64 * 256);
  const input = gpuBuffer(device, x);
  const output = gpuBuffer(device, x);
  const options = { scale: gpuBuffer(device, randomData(64)), bias: gpuBuffer(device, randomData(64)) };
  const calls = 1000;
  const runs: number[] = [];
  for (let run = 0; run < 6; run++) {
    const encoder = device.createCommandEncoder();
    const started = performance.now();
    for (let i = 0; i < calls; i++) norm.encode(encoder, input, output, shape, options);
    runs.push(((performance.now() - started) * 1000) / calls);
    encoder.finish();
  }
  await norm.checkErrors();
  runs.shift(); // the first run compiles
  runs.sort((a, b) => a - b);
  return runs[Math.floor(runs.length / 2)];
}

/**
 * The CPU fallback and ORT's wasm EP timed in alternation, call for call, after CPU_WARMUP calls
 * of each: whatever else the page or the machine does meanwhile (SwiftShader finishing the GPU
 * work timed before, a collection) falls on both alike. Medians in milliseconds; ORT's null if
 * it failed.
 */
async function timeCpuSides(
  dims: readonly number[],
  shape: readonly number[],
  layout: Layout,
  x: Float32Array,
  scale: Float32Array,
  bias: Float32Array,
  reps: number,
): Promise<{ cpuMs: number; ortWasmMs: number | null }> {
  const session = await ort.InferenceSession.create(instanceNormModel(dims, EPSILON), { executionProviders: ['wasm'] }).catch(
    (e: unknown) => {
      console.log(`ORT wasm failed on ${dims}: ${String(e)}`);
      return null;
    },
  );
  const feeds = {
    X: new ort.Tensor('float32', x, dims),
    scale: new ort.Tensor('float32', scale, [dims[1]]),
    B: new ort.Tensor('float32', bias, [dims[1]]),
  };
  const options = { layout, epsilon: EPSILON, scale, bias };
  const ours = { run: () => void instanceNormCpu(x, shape, options), reps };
  const nothingToAwait = async () => {};
  collectGarbage();
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  if (!session) {
    const { ours: cpuMs } = await alternatingMediansMs({ ours }, nothingToAwait, CPU_WARMUP);
    return { cpuMs, ortWasmMs: null };
  }
  const theirs = { run: () => session.run(feeds), reps };
  const { ours: cpuMs, theirs: ortWasmMs } = await alternatingMediansMs({ ours, theirs }, nothingToAwait, CPU_WARMUP);
  await session.release();
  return { cpuMs, ortWasmMs };
}

declare global {
  interface Window {
    runBenchmark: typeof runBenchmark;
  }
}
window.runBenchmark = runBenchmark;
