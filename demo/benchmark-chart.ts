import { type InstanceNorm, instanceNormCpu } from '../src';

/** Milliseconds per call of the GPU path and of the CPU fallback, per tensor size. */
export interface BenchmarkPoint {
  readonly side: number;
  readonly elements: number;
  readonly gpuMs: number | null;
  readonly cpuMs: number;
}

const CHANNELS = 16;
export const BENCHMARK_SIDES = [16, 32, 64, 128, 256, 512];

/**
 * Times [1, 16, side, side] on this device: the GPU path on GPU-resident buffers (record, submit,
 * await completion; median of 5 after a warm-up), the CPU fallback on a typed array (median of 3).
 */
export async function runBenchmark(norm: InstanceNorm, onPoint: (p: BenchmarkPoint) => void): Promise<BenchmarkPoint[]> {
  const points: BenchmarkPoint[] = [];
  for (const side of BENCHMARK_SIDES) {
    const shape = [1, CHANNELS, side, side];
    const elements = CHANNELS * side * side;
    const data = Float32Array.from({ length: elements }, (_, i) => Math.sin(i * 0.37) * 3 + 1);
    const cpuMs = await median(3, async () => void instanceNormCpu(data, shape));
    const gpuMs = norm.device ? await timeGpu(norm, norm.device, data, shape) : null;
    const point = { side, elements, gpuMs, cpuMs };
    points.push(point);
    onPoint(point);
    await new Promise((resolve) => setTimeout(resolve)); // let the page paint between sizes
  }
  return points;
}

async function timeGpu(norm: InstanceNorm, device: GPUDevice, data: Float32Array<ArrayBuffer>, shape: number[]): Promise<number> {
  const buffer = () => device.createBuffer({ size: data.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const input = buffer();
  const output = buffer();
  device.queue.writeBuffer(input, 0, data);
  const once = async () => {
    const encoder = device.createCommandEncoder();
    norm.encode(encoder, input, output, shape);
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  await once();
  const ms = await median(5, once);
  input.destroy();
  output.destroy();
  return ms;
}

async function median(runs: number, run: () => Promise<void>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(runs / 2)];
}

/** A log-log line chart of ms per call against elements, GPU and CPU, drawn on a canvas. */
export function drawChart(canvas: HTMLCanvasElement, points: readonly BenchmarkPoint[]): void {
  const context = canvas.getContext('2d');
  if (!context) return;
  const { width, height } = canvas;
  const margin = { left: 56, right: 16, top: 16, bottom: 40 };
  context.clearRect(0, 0, width, height);
  context.font = '12px system-ui, sans-serif';
  const minX = Math.log10(CHANNELS * BENCHMARK_SIDES[0] ** 2);
  const maxX = Math.log10(CHANNELS * BENCHMARK_SIDES[BENCHMARK_SIDES.length - 1] ** 2);
  const times = points.flatMap((p) => [p.cpuMs, p.gpuMs ?? p.cpuMs]).filter((t) => t > 0);
  const minY = Math.floor(Math.log10(Math.min(0.1, ...times)));
  const maxY = Math.ceil(Math.log10(Math.max(10, ...times)));
  const x = (elements: number) =>
    margin.left + ((Math.log10(elements) - minX) / (maxX - minX)) * (width - margin.left - margin.right);
  const y = (ms: number) =>
    height -
    margin.bottom -
    ((Math.log10(Math.max(ms, 10 ** minY)) - minY) / (maxY - minY)) * (height - margin.top - margin.bottom);
  context.strokeStyle = '#ddd';
  context.fillStyle = '#555';
  for (let e = minY; e <= maxY; e++) {
    context.beginPath();
    context.moveTo(margin.left, y(10 ** e));
    context.lineTo(width - margin.right, y(10 ** e));
    context.stroke();
    context.fillText(`${10 ** e} ms`, 4, y(10 ** e) + 4);
  }
  for (const side of BENCHMARK_SIDES) {
    context.fillText(`${side}²`, x(CHANNELS * side * side) - 10, height - margin.bottom + 16);
  }
  context.fillText(`elements (16 channels × side²)`, width / 2 - 80, height - 6);
  const series = (label: string, color: string, value: (p: BenchmarkPoint) => number | null, row: number) => {
    context.strokeStyle = color;
    context.fillStyle = color;
    context.lineWidth = 2;
    context.beginPath();
    points.forEach((p, i) => {
      const ms = value(p);
      if (ms === null) return;
      if (i === 0) context.moveTo(x(p.elements), y(ms));
      else context.lineTo(x(p.elements), y(ms));
    });
    context.stroke();
    context.fillText(label, margin.left + 8, margin.top + 14 * row);
    context.lineWidth = 1;
  };
  const hasGpu = points.some((p) => p.gpuMs !== null);
  if (hasGpu) series('GPU (WebGPU)', '#d62728', (p) => p.gpuMs, 1);
  series('CPU fallback', '#1f77b4', (p) => p.cpuMs, hasGpu ? 2 : 1);
}
