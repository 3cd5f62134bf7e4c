/** What the browser and the native benchmarks share: seeded data, buffers, the copy kernel, medians. */

/** Runs `run` then `after` `warmup` times, then `reps` times timed; the median, milliseconds. */
export async function medianMs(run: () => unknown, after: () => Promise<unknown>, warmup: number, reps: number) {
  const { only } = await alternatingMediansMs({ only: { run, reps } }, after, warmup);
  return only;
}

/** One side of a comparison: what a call runs, and how many timed calls it gets. */
export interface TimedSide {
  readonly run: () => unknown;
  readonly reps: number;
}

// The shortest timed sample: performance.now() moves in steps of 0.1 ms in a browser, so calls
// shorter than this are timed in batches (the median is then of per-call means).
const MIN_SAMPLE_MS = 5;

/**
 * Times the sides of a comparison in alternation, call for call (a, b, c, a, b, c, ...), each
 * call followed by `after`, after `warmup` untimed rounds: whatever else the machine does
 * meanwhile (a collection, another process on a 2-core VM) falls on every side alike instead of
 * on whichever was being timed. A side whose last warm-up call took under MIN_SAMPLE_MS runs a
 * batch of calls per sample. A side drops out once it has had its `reps`. Medians, ms per call.
 */
export async function alternatingMediansMs<Name extends string>(
  sides: Record<Name, TimedSide>,
  after: () => Promise<unknown>,
  warmup: number,
): Promise<Record<Name, number>> {
  const names = Object.keys(sides) as Name[];
  const batches = new Map<Name, number>(names.map((name) => [name, 1]));
  for (let i = 0; i < warmup; i++) {
    for (const name of names) {
      const started = performance.now();
      await sides[name].run();
      await after();
      batches.set(name, Math.min(100, Math.ceil(MIN_SAMPLE_MS / Math.max(0.1, performance.now() - started))));
    }
  }
  const times = new Map<Name, number[]>(names.map((name) => [name, []]));
  const rounds = Math.max(...names.map((name) => sides[name].reps));
  for (let i = 0; i < rounds; i++) {
    for (const name of names.filter((n) => i < sides[n].reps)) {
      const batch = batches.get(name) ?? 1;
      const started = performance.now();
      for (let call = 0; call < batch; call++) {
        await sides[name].run();
        await after();
      }
      times.get(name)?.push((performance.now() - started) / batch);
    }
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return Object.fromEntries(names.map((name) => [name, median(times.get(name) ?? [])])) as Record<Name, number>;
}

/** Seeded values in [-1.5, 2.5): the same data on every run. */
export function randomData(length: number): Float32Array {
  const data = new Float32Array(length);
  let state = 12345;
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    data[i] = (state / 2 ** 32) * 4 - 2 + 0.5;
  }
  return data;
}

/** A storage buffer holding `data`, its size rounded up to whole vec4s. */
export function gpuBuffer(device: GPUDevice, data: Float32Array): GPUBuffer {
  const buffer = device.createBuffer({
    size: Math.ceil(data.byteLength / 16) * 16,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    mappedAtCreation: true,
  });
  new Float32Array(buffer.getMappedRange(), 0, data.length).set(data);
  buffer.unmap();
  return buffer;
}

/**
 * An elementwise kernel of two bindings over vec4s, one per invocation: records its dispatch
 * in an encoder (a new one, submitted, when none is given).
 */
export function elementwiseKernel(device: GPUDevice, code: string) {
  const pipeline = device.createComputePipeline({
    layout: 'auto',
    compute: { module: device.createShaderModule({ code }), entryPoint: 'main' },
  });
  return (first: GPUBuffer, second: GPUBuffer, into?: GPUCommandEncoder) => {
    const vectors = first.size / 16;
    const workgroups = Math.ceil(vectors / 256);
    const x = Math.min(workgroups, device.limits.maxComputeWorkgroupsPerDimension);
    const bindGroup = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: first } },
        { binding: 1, resource: { buffer: second } },
      ],
    });
    const encoder = into ?? device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, Math.ceil(workgroups / x));
    pass.end();
    if (!into) device.queue.submit([encoder.finish()]);
  };
}
