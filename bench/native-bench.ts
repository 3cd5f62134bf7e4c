import { InstanceNorm, type InstanceNormOptions, toFloat16Bits } from '../src';
import { STRATEGIES } from '../src/gpu/planner';
import copyWGSL from './copy.wgsl?raw';
import { elementwiseKernel, gpuBuffer, randomData } from './gpu-timing';
import type { GroupBenchRow } from './group-norm-bench';
import { BENCH_SHAPES, type BenchShape, GROUP_BENCH_SHAPES, groupLabel, layoutShape } from './shapes';

/**
 * The benchmark for a native WebGPU (Dawn in Node, `npm run bench:native`): GPU time per call of
 * the planner's choice and of every strategy, against the copy kernel on the same device. Calls
 * are batched (K per submit, K chosen per candidate) so the fixed cost of a submit and its wait, large against a real
 * GPU's microseconds, is spread over K; no ONNX Runtime here (it needs a browser).
 */
export interface NativeBenchRow {
  readonly shape: string;
  readonly layout: string;
  readonly elements: number;
  readonly strategy: string;
  /** Milliseconds per call: the median over 11 submits of K calls after 3 of warm-up, divided by K. */
  readonly oursMs: number;
  readonly copyMs: number;
  readonly backwardMs: number;
  readonly byStrategy: Record<string, number>;
}

/** GroupNorm + SiLU on one NCHW shape of Stable Diffusion: the browser bench's row without the peers (ms as NativeBenchRow's). */
export interface NativeGroupBenchRow
  extends Pick<
    GroupBenchRow,
    'shape' | 'model' | 'groups' | 'elements' | 'strategy' | 'halfStrategy' | 'oursMs' | 'halfMs' | 'copyMs' | 'halfCopyMs'
  > {
  /** float32 with each strategy forced. */
  readonly byStrategy: Record<string, number>;
}

export interface NativeBenchReport {
  readonly adapter: string;
  readonly features: string[];
  readonly rows: NativeBenchRow[];
  readonly groupRows: NativeGroupBenchRow[];
}

// Beyond the browser shapes: the sizes a real GPU is asked for (a 4-megapixel image, a
// diffusion U-Net's 320 and 640 channels at batch 2, a wide channels-last tensor).
const NATIVE_SHAPES: readonly BenchShape[] = [
  ...BENCH_SHAPES,
  { dims: [1, 3, 2048, 2048], layout: 'nchw' },
  { dims: [2, 320, 64, 64], layout: 'nchw' },
  { dims: [2, 640, 32, 32], layout: 'nchw' },
  { dims: [1, 16, 512, 512], layout: 'nhwc' },
];

const EPSILON = 1e-5;
// A submit of this many milliseconds or more: the submit's own cost is then noise.
const TARGET_SUBMIT_MS = 8;

/** `only`: shapes whose `[dims] layout` contains one of these |-separated texts. */
export async function runNativeBenchmark(only?: string): Promise<NativeBenchReport> {
  const norm = await InstanceNorm.create({ fallback: 'error' });
  const device = norm.device!;
  const forced = await Promise.all(STRATEGIES.map((strategy) => InstanceNorm.create({ device, strategy })));
  const copy = elementwiseKernel(device, copyWGSL);
  const idle = () => device.queue.onSubmittedWorkDone();
  // Calls per submit: enough to fill TARGET_SUBMIT_MS, from a probe of one call (some forced
  // strategies take 10^4 times longer than others on a shape). Recording stays outside the
  // timer: only the submit and the wait for the GPU count.
  const submitMs = async (record: (encoder: GPUCommandEncoder) => void, calls: number) => {
    const encoder = device.createCommandEncoder();
    for (let i = 0; i < calls; i++) record(encoder);
    const commands = encoder.finish();
    const started = performance.now();
    device.queue.submit([commands]);
    await idle();
    return performance.now() - started;
  };
  const perCall = async (record: (encoder: GPUCommandEncoder) => void) => {
    await submitMs(record, 1); // compiles
    const probe = await submitMs(record, 1);
    const calls = Math.max(1, Math.min(2000, Math.round(TARGET_SUBMIT_MS / probe)));
    const times: number[] = [];
    for (let rep = 0; rep < 14; rep++) {
      const ms = await submitMs(record, calls);
      if (rep >= 3) times.push(ms / calls);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)];
  };

  const rows: NativeBenchRow[] = [];
  for (const s of NATIVE_SHAPES) {
    const name = `[${s.dims.join(', ')}] ${s.layout}`;
    if (only && !only.split('|').some((part) => name.includes(part))) continue;
    const shape = layoutShape(s);
    const channels = s.dims[1];
    const elements = shape.reduce((a, b) => a * b, 1);
    const input = gpuBuffer(device, randomData(elements));
    const output = gpuBuffer(device, new Float32Array(elements));
    const scale = gpuBuffer(device, randomData(channels));
    const bias = gpuBuffer(device, randomData(channels));
    const options: InstanceNormOptions = { layout: s.layout, epsilon: EPSILON, scale, bias };

    // The forced strategies first: the first measurement of a shape reads high on a GPU still
    // clocking up after the uploads.
    const byStrategy: Record<string, number> = {};
    for (const forcedNorm of forced) {
      const strategy = forcedNorm.plan(shape, options).strategy;
      byStrategy[strategy] = await perCall((encoder) => forcedNorm.encode(encoder, input, output, shape, options));
    }
    const oursMs = await perCall((encoder) => norm.encode(encoder, input, output, shape, options));
    const copyMs = await perCall((encoder) => copy(input, output, encoder));
    const savedStats = gpuBuffer(device, new Float32Array(2 * s.dims[0] * channels));
    const gradOutput = gpuBuffer(device, randomData(elements));
    const gradAffine = gpuBuffer(device, new Float32Array(2 * channels));
    const backwardMs = await perCall((encoder) =>
      norm.encodeBackward(encoder, { gradOutput, input, gradInput: output, gradAffine }, shape, { ...options, savedStats }),
    );
    await norm.checkErrors();
    for (const f of forced) await f.checkErrors();
    const row: NativeBenchRow = {
      shape: `[${shape.join(', ')}]`,
      layout: s.layout,
      elements,
      strategy: norm.plan(shape, options).strategy,
      oursMs,
      copyMs,
      backwardMs,
      byStrategy,
    };
    console.log(`bench row ${JSON.stringify(row)}`);
    rows.push(row);
    for (const b of [input, output, scale, bias, savedStats, gradOutput, gradAffine]) b.destroy();
  }

  // GroupNorm + SiLU at diffusion scale, float32 and float16 storage, each against the copy of
  // as many bytes (the browser bench's GroupNorm section, without the peers).
  const groupRows: NativeGroupBenchRow[] = [];
  for (const g of GROUP_BENCH_SHAPES) {
    if (only && !only.split('|').some((part) => groupLabel(g).includes(part))) continue;
    const shape = [...g.dims];
    const channels = g.dims[1];
    const elements = shape.reduce((a, b) => a * b, 1);
    const x = randomData(elements);
    const input = gpuBuffer(device, x);
    const output = gpuBuffer(device, new Float32Array(elements));
    const halfWords = new Float32Array(toFloat16Bits(x).buffer);
    const halfInput = gpuBuffer(device, halfWords);
    const halfOutput = gpuBuffer(device, new Float32Array(halfWords.length));
    const scale = gpuBuffer(device, randomData(channels));
    const bias = gpuBuffer(device, randomData(channels));
    const options: InstanceNormOptions = { groups: g.groups, scale, bias, activation: 'silu', epsilon: EPSILON };
    const halfOptions: InstanceNormOptions = { ...options, dataType: 'float16' };
    const byStrategy: Record<string, number> = {};
    for (const forcedNorm of forced) {
      const strategy = forcedNorm.plan(shape, options).strategy;
      byStrategy[strategy] = await perCall((encoder) => forcedNorm.encode(encoder, input, output, shape, options));
    }
    const row: NativeGroupBenchRow = {
      shape: `[${shape.join(', ')}]`,
      model: g.model,
      groups: g.groups,
      elements,
      strategy: norm.plan(shape, options).strategy,
      halfStrategy: norm.plan(shape, halfOptions).strategy,
      oursMs: await perCall((encoder) => norm.encode(encoder, input, output, shape, options)),
      halfMs: await perCall((encoder) => norm.encode(encoder, halfInput, halfOutput, shape, halfOptions)),
      copyMs: await perCall((encoder) => copy(input, output, encoder)),
      halfCopyMs: await perCall((encoder) => copy(halfInput, halfOutput, encoder)),
      byStrategy,
    };
    await norm.checkErrors();
    for (const f of forced) await f.checkErrors();
    console.log(`bench row ${JSON.stringify(row)}`);
    groupRows.push(row);
    for (const b of [input, output, halfInput, halfOutput, scale, bias]) b.destroy();
  }
  const info = device.adapterInfo;
  return {
    adapter: `${info.vendor} / ${info.architecture} / ${info.description}`,
    features: [...device.features],
    rows,
    groupRows,
  };
}
