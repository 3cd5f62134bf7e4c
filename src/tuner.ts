import type { DeviceProfile } from './device-profile';
import type { GpuCall } from './gpu-backend';
import { type InstanceNormPlan, planInstanceNorm, STRATEGIES, type Strategy } from './planner';

/** What tune() measured. */
export interface TuneResult {
  /** The fastest strategy, now used for this shape class on this adapter. */
  readonly strategy: Strategy;
  /** Milliseconds per call of each strategy: median of the repetitions after one warm-up. */
  readonly milliseconds: Readonly<Record<Strategy, number>>;
  /** How: GPU timestamps around the compute pass, or wall-clock time to the queue's completion. */
  readonly timing: 'timestamp-query' | 'wall-clock';
}

/** Records one call with a given plan, optionally timing its compute pass. */
export type RecordCall = (
  encoder: GPUCommandEncoder,
  call: GpuCall,
  plan: InstanceNormPlan,
  timestampWrites?: GPUComputePassTimestampWrites,
) => void;

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
    const encodeOnce = (timestampWrites?: GPUComputePassTimestampWrites) => {
      const encoder = device.createCommandEncoder({ label: `InstanceNorm.tune.${strategy}` });
      record(encoder, call, plan, timestampWrites);
      return encoder;
    };
    device.queue.submit([encodeOnce().finish()]); // warm-up: compiles, fills caches
    await device.queue.onSubmittedWorkDone();
    const samples =
      timing === 'timestamp-query'
        ? await timestampSamples(device, encodeOnce, repetitions)
        : await wallClockSamples(device, encodeOnce, repetitions);
    samples.sort((a, b) => a - b);
    milliseconds[strategy] = samples[Math.floor(samples.length / 2)];
  }
  return { milliseconds, timing };
}

async function wallClockSamples(device: GPUDevice, encodeOnce: () => GPUCommandEncoder, repetitions: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < repetitions; i++) {
    const started = performance.now();
    device.queue.submit([encodeOnce().finish()]);
    await device.queue.onSubmittedWorkDone();
    samples.push(performance.now() - started);
  }
  return samples;
}

async function timestampSamples(
  device: GPUDevice,
  encodeOnce: (timestampWrites: GPUComputePassTimestampWrites) => GPUCommandEncoder,
  repetitions: number,
): Promise<number[]> {
  const querySet = device.createQuerySet({ label: 'InstanceNorm.tune.timestamps', type: 'timestamp', count: 2 * repetitions });
  const resolved = device.createBuffer({ size: 16 * repetitions, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const readback = device.createBuffer({ size: 16 * repetitions, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  try {
    for (let i = 0; i < repetitions; i++) {
      const encoder = encodeOnce({ querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 });
      if (i === repetitions - 1) {
        encoder.resolveQuerySet(querySet, 0, 2 * repetitions, resolved, 0);
        encoder.copyBufferToBuffer(resolved, 0, readback, 0, 16 * repetitions);
      }
      device.queue.submit([encoder.finish()]);
    }
    await readback.mapAsync(GPUMapMode.READ);
    const ticks = new BigInt64Array(readback.getMappedRange());
    return Array.from({ length: repetitions }, (_, i) => Number(ticks[2 * i + 1] - ticks[2 * i]) / 1e6);
  } finally {
    querySet.destroy();
    resolved.destroy();
    readback.destroy();
  }
}
