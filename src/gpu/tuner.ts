import type { DeviceProfile } from './device-profile.js';
import type { GpuCall } from './gpu-backend.js';
import { type GpuPlan, planInstanceNorm, STRATEGIES, type Strategy } from './planner.js';

/** What tune() measured. */
export interface TuneResult {
  /** The fastest strategy, now used for this shape class on this adapter. */
  readonly strategy: Strategy;
  /**
   * Milliseconds per call of each strategy: the median of `repetitions` samples after one warm-up,
   * each sample a batch of calls lasting at least 1 ms (GPU timers can be coarse), divided by its calls.
   */
  readonly milliseconds: Readonly<Record<Strategy, number>>;
  /** How: GPU timestamps around the compute pass, or wall-clock time to the queue's completion. */
  readonly timing: 'timestamp-query' | 'wall-clock';
}

/** Records one call with a given plan, optionally timing its compute pass. */
export type RecordCall = (
  encoder: GPUCommandEncoder,
  call: GpuCall,
  plan: GpuPlan,
  timestampWrites?: GPUComputePassTimestampWrites,
) => void;

// A real GPU runs a call in microseconds, browsers coarsen timestamps (Chromium to 100 µs) and
// waiting for a submit costs tens of microseconds: each sample times a batch of calls, grown
// until one lasts SAMPLE_MS (at most MAX_CALLS_PER_SAMPLE calls).
const SAMPLE_MS = 1;
const MAX_CALLS_PER_SAMPLE = 256;

/**
 * The next batch size after a probe of `calls` calls took `probeMs`, or null when that batch
 * is long enough to time. A probe read as 0 (below the timer's resolution) grows the batch 16x.
 */
export function nextBatchSize(calls: number, probeMs: number): number | null {
  if (probeMs >= SAMPLE_MS || calls >= MAX_CALLS_PER_SAMPLE) return null;
  const factor = probeMs > 0 ? Math.ceil(SAMPLE_MS / probeMs) : 16;
  return Math.min(MAX_CALLS_PER_SAMPLE, calls * Math.max(2, factor));
}

/** Times every strategy on a device for one call; the buffers are the caller's. */
export async function timeStrategies(
  device: GPUDevice,
  profile: DeviceProfile,
  record: RecordCall,
  call: GpuCall,
  repetitions: number,
): Promise<Omit<TuneResult, 'strategy'>> {
  const timing = device.features.has('timestamp-query') ? 'timestamp-query' : 'wall-clock';
  const milliseconds = {} as Record<Strategy, number>;
  for (const strategy of STRATEGIES) {
    const plan = planInstanceNorm(call.geometry, profile, strategy);
    // `calls` calls in one encoder; the timestamps, if any, open the first pass and close the last.
    const encodeBatch: EncodeBatch = (calls, timestamps) => {
      const encoder = device.createCommandEncoder({ label: `InstanceNorm.tune.${strategy}` });
      for (let i = 0; i < calls; i++) {
        const first = i === 0;
        const last = i === calls - 1;
        // A pass's timestamp writes name at least one index: the passes between have none.
        const timestampWrites =
          timestamps && (first || last)
            ? {
                querySet: timestamps.querySet,
                ...(first ? { beginningOfPassWriteIndex: timestamps.begin } : {}),
                ...(last ? { endOfPassWriteIndex: timestamps.end } : {}),
              }
            : undefined;
        record(encoder, call, plan, timestampWrites);
      }
      return encoder;
    };
    const sample = (calls: number, count: number) =>
      timing === 'timestamp-query'
        ? timestampSamples(device, encodeBatch, calls, count)
        : wallClockSamples(device, encodeBatch, calls, count);
    device.queue.submit([encodeBatch(1).finish()]); // warm-up: compiles, fills caches
    await device.queue.onSubmittedWorkDone();
    let calls = 1;
    for (;;) {
      const [probeMs] = await sample(calls, 1);
      const next = nextBatchSize(calls, probeMs);
      if (next === null) break;
      calls = next;
    }
    const samples = (await sample(calls, repetitions)).map((ms) => ms / calls);
    samples.sort((a, b) => a - b);
    milliseconds[strategy] = samples[Math.floor(samples.length / 2)];
  }
  return { milliseconds, timing };
}

/** Where a batch's timestamps go: the first pass writes `begin`, the last `end`. */
interface TimestampSpan {
  readonly querySet: GPUQuerySet;
  readonly begin: number;
  readonly end: number;
}

type EncodeBatch = (calls: number, timestamps?: TimestampSpan) => GPUCommandEncoder;

async function wallClockSamples(device: GPUDevice, encodeBatch: EncodeBatch, calls: number, count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const commands = encodeBatch(calls).finish();
    const started = performance.now();
    device.queue.submit([commands]);
    await device.queue.onSubmittedWorkDone();
    samples.push(performance.now() - started);
  }
  return samples;
}

async function timestampSamples(device: GPUDevice, encodeBatch: EncodeBatch, calls: number, count: number): Promise<number[]> {
  const querySet = device.createQuerySet({ label: 'InstanceNorm.tune.timestamps', type: 'timestamp', count: 2 * count });
  const resolved = device.createBuffer({ size: 16 * count, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const readback = device.createBuffer({ size: 16 * count, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  try {
    for (let i = 0; i < count; i++) {
      const encoder = encodeBatch(calls, { querySet, begin: 2 * i, end: 2 * i + 1 });
      if (i === count - 1) {
        encoder.resolveQuerySet(querySet, 0, 2 * count, resolved, 0);
        encoder.copyBufferToBuffer(resolved, 0, readback, 0, 16 * count);
      }
      device.queue.submit([encoder.finish()]);
    }
    await readback.mapAsync(GPUMapMode.READ);
    const ticks = new BigInt64Array(readback.getMappedRange());
    return Array.from({ length: count }, (_, i) => Number(ticks[2 * i + 1] - ticks[2 * i]) / 1e6);
  } finally {
    querySet.destroy();
    resolved.destroy();
    readback.destroy();
  }
}
