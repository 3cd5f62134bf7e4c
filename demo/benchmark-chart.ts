import { type InstanceNorm, instanceNormCpu } from '../src';

/** Milliseconds per call of the GPU path and of the CPU fallback, per tensor size. */
export interface BenchmarkPoint {
  readonly side: number;
  readonly elements: number;
  readonly gpuMs: number | null;
  readonly cpuMs: number;
}

export interface BenchmarkSettings {
  /** Image sides to time, [1, 16, side, side] each. */
  readonly sides: readonly number[];
  /** A batch of calls is timed as one: it grows until it takes at least this long. */
  readonly minBatchMs: number;
  /** Batches timed per side and path; the median is shown (5 by default: a busy machine's outliers stay out of it). */
  readonly batches: number;
}

const CHANNELS = 16;
export const BENCHMARK_SIDES = [16, 32, 64, 128, 256, 512];
export const DEFAULT_BENCHMARK: BenchmarkSettings = { sides: BENCHMARK_SIDES, minBatchMs: 30, batches: 5 };
/** The most calls in one batch: enough to lift a 16² call on a fast GPU well above the 0.1 ms timer. */
const MAX_BATCH = 512;

/**
 * Times [1, 16, side, side] on this device, smallest first, calling `onPoint` after each size so
 * that the chart grows while it runs. Both paths are timed in batches of calls, the batch
 * doubling until it takes `minBatchMs` (the browser's timer has a resolution of 0.1 ms, more
 * than a small call takes): the GPU path as that many encode() calls on GPU-resident buffers in
 * one submit, awaited; the CPU fallback as that many instanceNormCpu() calls. Before the first
 * size both paths run untimed for a while, so that the first point does not carry the start-up
 * (pipeline compilation, the JIT, SwiftShader's threads).
 */
export async function runBenchmark(
  norm: InstanceNorm,
  settings: BenchmarkSettings,
  onPoint: (p: BenchmarkPoint, done: number) => void,
): Promise<BenchmarkPoint[]> {
  const points: BenchmarkPoint[] = [];
  const device = norm.device;
  await timeSide(settings.sides[0], device, norm, settings); // warm-up, discarded
  for (const side of settings.sides) {
    points.push(await timeSide(side, device, norm, settings));
    onPoint(points[points.length - 1], points.length);
    await new Promise((resolve) => setTimeout(resolve)); // let the page paint between sizes
  }
  return points;
}

async function timeSide(
  side: number,
  device: GPUDevice | undefined,
  norm: InstanceNorm,
  settings: BenchmarkSettings,
): Promise<BenchmarkPoint> {
  const shape = [1, CHANNELS, side, side];
  const elements = CHANNELS * side * side;
  const data = Float32Array.from({ length: elements }, (_, i) => Math.sin(i * 0.37) * 3 + 1);
  const cpuMs = await medianPerCall(settings, async (calls) => {
    for (let i = 0; i < calls; i++) instanceNormCpu(data, shape);
  });
  const gpuMs = device ? await timeGpu(norm, device, data, shape, settings) : null;
  return { side, elements, gpuMs, cpuMs };
}

async function timeGpu(
  norm: InstanceNorm,
  device: GPUDevice,
  data: Float32Array<ArrayBuffer>,
  shape: number[],
  settings: BenchmarkSettings,
): Promise<number> {
  const buffer = (label: string) =>
    device.createBuffer({ label, size: data.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const input = buffer('demo.benchmark.input');
  const output = buffer('demo.benchmark.output');
  device.queue.writeBuffer(input, 0, data);
  try {
    return await medianPerCall(settings, async (calls) => {
      const encoder = device.createCommandEncoder();
      for (let i = 0; i < calls; i++) norm.encode(encoder, input, output, shape);
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
    });
  } finally {
    await norm.checkErrors();
    input.destroy();
    output.destroy();
  }
}

/** Grows a batch until it takes `minBatchMs`, then the median over `batches` batches of that size, per call. */
async function medianPerCall(settings: BenchmarkSettings, run: (calls: number) => Promise<void>): Promise<number> {
  const time = async (calls: number) => {
    const started = performance.now();
    await run(calls);
    return performance.now() - started;
  };
  let calls = 1;
  while ((await time(calls)) < settings.minBatchMs && calls < MAX_BATCH) calls *= 2;
  const perCall: number[] = [];
  for (let b = 0; b < settings.batches; b++) perCall.push((await time(calls)) / calls);
  perCall.sort((a, b) => a - b);
  return perCall[Math.floor(perCall.length / 2)];
}

/** The chart's fixed range, in ms per call: the same from run to run, so two runs can be compared by eye. */
export const CHART_RANGE_MS = { low: 1e-3, high: 1e3 };

/**
 * A log-log chart of ms per call against elements, GPU (circles) and CPU (squares), on a canvas:
 * the axes at once, then the points measured so far (`points` may be partial). `sides` are the
 * sizes the run will measure; `labels.gpu` is empty where there is no GPU line. Sets `data-points` on the canvas to the number of points drawn.
 */
export function drawChart(
  canvas: HTMLCanvasElement,
  points: readonly BenchmarkPoint[],
  sides: readonly number[],
  labels: { gpu: string; cpu: string },
): void {
  const context = canvas.getContext('2d');
  if (!context) return;
  const { width, height } = canvas;
  const margin = { left: 64, right: 40, top: 16, bottom: 44 };
  context.clearRect(0, 0, width, height);
  context.font = '12px system-ui, sans-serif';
  const minX = Math.log10(CHANNELS * sides[0] ** 2);
  const maxX = Math.log10(CHANNELS * sides[sides.length - 1] ** 2);
  const minY = Math.log10(CHART_RANGE_MS.low);
  const maxY = Math.log10(CHART_RANGE_MS.high);
  const x = (elements: number) =>
    margin.left + ((Math.log10(elements) - minX) / Math.max(maxX - minX, 1e-9)) * (width - margin.left - margin.right);
  const y = (ms: number) => {
    const clamped = Math.min(Math.max(ms, CHART_RANGE_MS.low), CHART_RANGE_MS.high);
    return height - margin.bottom - ((Math.log10(clamped) - minY) / (maxY - minY)) * (height - margin.top - margin.bottom);
  };
  context.strokeStyle = '#ddd';
  context.fillStyle = '#555';
  context.lineWidth = 1;
  context.textAlign = 'right';
  for (let e = minY; e <= maxY; e++) {
    context.beginPath();
    context.moveTo(margin.left, y(10 ** e));
    context.lineTo(width - margin.right, y(10 ** e));
    context.stroke();
    context.fillText(`${Number((10 ** e).toPrecision(1))} ms`, margin.left - 6, y(10 ** e) + 4);
  }
  context.textAlign = 'center';
  let labelsFit = true;
  for (const side of sides) {
    const at = x(CHANNELS * side * side);
    const half = context.measureText(`${side}²`).width / 2;
    labelsFit &&= at - half >= 0 && at + half <= width;
    context.fillText(`${side}²`, at, height - margin.bottom + 16);
  }
  // For the end-to-end tests: the axis does not move between runs, and no size label is cut off.
  canvas.dataset.range = `${CHART_RANGE_MS.low}-${CHART_RANGE_MS.high} ms`;
  canvas.dataset.labelsFit = String(labelsFit);
  context.fillText('tensor [1, 16, side, side]', margin.left + (width - margin.left - margin.right) / 2, height - 8);
  context.textAlign = 'left';

  const series = (color: string, value: (p: BenchmarkPoint) => number | null, marker: 'circle' | 'square') => {
    const drawn = points.filter((p) => value(p) !== null);
    context.strokeStyle = color;
    context.fillStyle = color;
    context.lineWidth = 2;
    context.beginPath();
    drawn.forEach((p, i) => {
      const at = [x(p.elements), y(value(p) as number)] as const;
      if (i === 0) context.moveTo(...at);
      else context.lineTo(...at);
    });
    context.stroke();
    for (const p of drawn) drawMarker(context, marker, x(p.elements), y(value(p) as number));
    return drawn.length;
  };
  const hasGpu = labels.gpu !== '';
  let drawnPoints = 0;
  if (hasGpu) drawnPoints += series('#d62728', (p) => p.gpuMs, 'circle');
  drawnPoints += series('#1f77b4', (p) => p.cpuMs, 'square');
  // Legend, top left.
  const legend: [string, string, 'circle' | 'square'][] = hasGpu
    ? [
        [labels.gpu, '#d62728', 'circle'],
        [labels.cpu, '#1f77b4', 'square'],
      ]
    : [[labels.cpu, '#1f77b4', 'square']];
  legend
    .filter(([label]) => label !== '')
    .forEach(([label, color, marker], i) => {
      const row = margin.top + 10 + 16 * i;
      context.fillStyle = color;
      drawMarker(context, marker, margin.left + 14, row - 4);
      context.fillStyle = '#222';
      context.fillText(label, margin.left + 24, row);
    });
  canvas.dataset.points = String(drawnPoints);
}

function drawMarker(context: CanvasRenderingContext2D, marker: 'circle' | 'square', cx: number, cy: number): void {
  context.beginPath();
  if (marker === 'circle') context.arc(cx, cy, 4, 0, 2 * Math.PI);
  else context.rect(cx - 3.5, cy - 3.5, 7, 7);
  context.fill();
}
