import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adainCpu,
  fromFloat16Bits,
  InstanceNorm,
  InstanceNormError,
  type InstanceNormErrorCode,
  instanceNormBackwardCpu,
  instanceNormCpu,
  instanceStatsCpu,
  RunningStats,
  toFloat16Bits,
} from '../src';
import { referenceAdain, referenceBackward, referenceInstanceNorm, referenceStats } from '../src/reference/float64-reference';
import { expectClose } from './helpers/compare';
import { readBuffer, storageBuffer } from './helpers/gpu';
import { randomNormal } from './helpers/random';

// Hostile use of the library: reuse of one instance across kinds of work, options that are not
// what they seem, buffers that alias, arguments that change or die while a call waits. Each
// case either gives the reference's result or an InstanceNormError with a code, before anything
// is recorded into the caller's encoder.

/** The InstanceNormError `action` throws (or rejects with). */
async function errorOf(action: () => unknown): Promise<InstanceNormError> {
  try {
    await action();
  } catch (error) {
    expect(error).toBeInstanceOf(InstanceNormError);
    return error as InstanceNormError;
  }
  return expect.fail('expected an InstanceNormError, but the call succeeded');
}

async function expectError(action: () => unknown, code: InstanceNormErrorCode, message: RegExp, argument?: string) {
  const error = await errorOf(action);
  expect(error.message).toMatch(message);
  expect(error.code).toBe(code);
  if (argument !== undefined) expect(error.argument).toBe(argument);
}

// A page without WebGPU: an own property on navigator shadows the prototype's `gpu` getter.
async function cpuInstance(): Promise<InstanceNorm> {
  Object.defineProperty(navigator, 'gpu', { value: undefined, configurable: true });
  try {
    return await InstanceNorm.create();
  } finally {
    delete (navigator as { gpu?: unknown }).gpu;
  }
}

let gpu: InstanceNorm;
let cpu: InstanceNorm;
let device: GPUDevice;
beforeAll(async () => {
  gpu = await InstanceNorm.create({ fallback: 'error' });
  device = gpu.device!;
  cpu = await cpuInstance();
  expect(cpu.backend).toBe('cpu');
});
afterAll(() => {
  gpu.destroy();
  cpu.destroy();
});

const buffer = (bytes: number, usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST) =>
  device.createBuffer({ size: bytes, usage });

/** An encoder that must still finish and submit cleanly after a refused call. */
async function expectEncoderUntouched(encoder: GPUCommandEncoder): Promise<void> {
  device.pushErrorScope('validation');
  device.queue.submit([encoder.finish()]);
  expect(await device.popErrorScope()).toBeNull();
}

describe.each(['webgpu', 'cpu'] as const)('options on the %s backend', (backend) => {
  const norm = () => (backend === 'webgpu' ? gpu : cpu);
  const shape = [2, 3, 20];
  const x = randomNormal(120, 5, 4, 3);

  it('are read as own properties: Object.prototype cannot change a call', async () => {
    const expected = referenceInstanceNorm(x, shape);
    const proto = Object.prototype as Record<string, unknown>;
    proto.epsilon = 0.5;
    proto.layout = 'nhwc';
    try {
      expectClose(await norm().run(x, shape), expected, 1e-5);
      expectClose(await norm().run(x, shape, {}), expected, 1e-5);
      expectClose(instanceNormCpu(x, shape, {}), expected, 1e-5);
    } finally {
      delete proto.epsilon;
      delete proto.layout;
    }
  });

  it.each([
    ['a typo', { epsilion: 1 }, /options has an unknown key 'epsilion'; did you mean 'epsilon'\?/, 'epsilion'],
    ['another capitalisation', { Layout: 'nhwc' }, /unknown key 'Layout'; did you mean 'layout'\?/, 'Layout'],
    ["another library's name", { gamma: new Float32Array(3) }, /unknown key 'gamma'; did you mean 'scale'\?/, 'gamma'],
    ['a key near nothing', { quantum: true }, /unknown key 'quantum'$/, 'quantum'],
  ])('with %s are refused on every entry point, naming the key', async (_name, options, message, argument) => {
    const calls: (() => unknown)[] = [
      () => norm().run(x, shape, options as never),
      () => norm().stats(x, shape, options as never),
      () => norm().adain(x, shape, x, shape, options as never),
      () => norm().backward(x, x, shape, options as never),
      () => instanceNormCpu(x, shape, options as never),
      () => instanceStatsCpu(x, shape, options as never),
      () => adainCpu(x, shape, x, shape, options as never),
      () => instanceNormBackwardCpu(x, x, shape, options as never),
    ];
    if (backend === 'webgpu') {
      const b = buffer(480);
      const o = buffer(480);
      calls.push(
        () => norm().encode(device.createCommandEncoder(), b, o, shape, options as never),
        () => norm().encodeStats(device.createCommandEncoder(), b, o, shape, options as never),
        () => norm().encodeAdain(device.createCommandEncoder(), b, b, o, shape, shape, options as never),
        () =>
          norm().encodeBackward(
            device.createCommandEncoder(),
            { gradOutput: b, input: b, gradInput: o },
            shape,
            options as never,
          ),
        () => norm().plan(shape, options as never),
        () => norm().tune(shape, options as never),
      );
    }
    for (const call of calls) await expectError(call, 'invalid-argument', message, argument);
  });

  it('that are not plain objects are refused: a Map, an array, an object inheriting its options', async () => {
    for (const options of [new Map([['layout', 'nhwc']]), [1, 2], Object.create({ layout: 'nhwc' })]) {
      await expectError(() => norm().run(x, shape, options), 'invalid-argument', /options must be a plain object/, 'options');
      await expectError(() => instanceNormCpu(x, shape, options), 'invalid-argument', /options must be a plain object/);
    }
    // An object without a prototype is a plain object.
    const bare = Object.assign(Object.create(null), { layout: 'nhwc', epsilon: 1e-3 });
    expectClose(
      await norm().run(x, [2, 20, 3], bare),
      referenceInstanceNorm(x, [2, 20, 3], { layout: 'nhwc', epsilon: 1e-3 }),
      1e-5,
    );
  });

  it('create(), loadStateDict() and RunningStats.set() refuse unknown keys too', async () => {
    await expectError(
      () => InstanceNorm.create({ devise: device } as never),
      'invalid-argument',
      /did you mean 'device'\?/,
      'devise',
    );
    await expectError(
      () => InstanceNorm.create({ fallback: 'cpu', strategy: 'auto', Fallback: 'error' } as never),
      'invalid-argument',
      /did you mean 'fallback'/,
    );
    const weight = new Float32Array([1, 2, 3]);
    await expectError(
      () => norm().loadStateDict({ weight, runing_mean: weight } as never),
      'invalid-argument',
      /did you mean 'running_mean'\?/,
    );
    await expectError(
      () => norm().loadStateDict({ weight }, { epsilon: 1e-5 } as never),
      'invalid-argument',
      /unknown key 'epsilon'/,
    );
    const running = norm().createRunningStats(3);
    await expectError(() => running.set({ means: weight } as never), 'invalid-argument', /did you mean 'mean'\?/);
    running.destroy();
  });

  it('a shape with holes is refused at the hole', async () => {
    const holeAtH = [1, 3, 1, 4];
    delete holeAtH[2];
    const holeAtC = [1, 3, 3, 4];
    delete holeAtC[1];
    await expectError(
      () => norm().run(new Float32Array(12), holeAtH),
      'invalid-argument',
      /shape\[2\] must be a positive integer, got undefined/,
      'shape',
    );
    await expectError(
      () => instanceNormCpu(new Float32Array(12), holeAtC),
      'invalid-argument',
      /shape\[1\] must be a positive integer, got undefined/,
    );
  });

  it('epsilon beyond float32 is refused, naming the limit', async () => {
    await expectError(
      () => norm().run(x, shape, { epsilon: 1e39 }),
      'invalid-argument',
      /epsilon must be at most float32's largest number, 3\.4e38, got 1e\+39/,
      'epsilon',
    );
  });

  it('an epsilon below float32 subnormals gives what epsilon 0 gives, the reference too (constant instances: the bias)', async () => {
    // Channel 1 of each image is constant: var + eps is 0 to float32 there.
    const data = x.slice();
    for (let n = 0; n < 2; n++) data.fill(3.25, (n * 3 + 1) * 20, (n * 3 + 2) * 20);
    const options = { epsilon: 1e-46, bias: new Float32Array([0.5, -2, 1]) };
    const expected = referenceInstanceNorm(data, shape, options);
    expect(expected.subarray(20, 40).every((v) => v === -2)).toBe(true);
    expectClose(await norm().run(data, shape, options), expected, 1e-4);
    expectClose(await norm().run(data, shape, { ...options, epsilon: 0 }), expected, 1e-4);
  });

  it('loadStateDict() refuses a negative or fractional num_batches_tracked', async () => {
    const stats = { running_mean: new Float32Array(3), running_var: new Float32Array(3).fill(1) };
    for (const tracked of [-1, 2.5, Number.NaN, [-3]]) {
      await expectError(
        () => norm().loadStateDict({ ...stats, num_batches_tracked: tracked as never }),
        'invalid-argument',
        /num_batches_tracked must be a count/,
        'num_batches_tracked',
      );
    }
    const loaded = norm().loadStateDict({ ...stats, num_batches_tracked: new BigInt64Array([7n]) as never });
    expect(loaded.runningStats?.batchesTracked).toBe(7);
  });

  it('raw TypeErrors and RangeErrors become InstanceNormError', async () => {
    await expectError(
      () => norm().createRunningStats(1e10),
      'invalid-argument',
      /channels must be an integer from 1 to 2\^30/,
      'channels',
    );
    await expectError(() => new RunningStats(2.5), 'invalid-argument', /channels must be an integer/);
    const running = norm().createRunningStats(3);
    await expectError(() => running.set(null as never), 'invalid-argument', /values must be/);
    running.destroy();
    await expectError(() => running.read(), 'destroyed', /RunningStats\.read\(\) after destroy\(\)/);
  });

  it('typed arrays from another realm (a same-origin iframe) are accepted', async () => {
    const frame = document.createElement('iframe');
    document.body.append(frame);
    try {
      const realm = frame.contentWindow as unknown as { Float32Array: Float32ArrayConstructor };
      const foreign = new realm.Float32Array(x);
      expect(foreign instanceof Float32Array).toBe(false);
      const scale = new realm.Float32Array([1, 2, 3]);
      const expected = referenceInstanceNorm(x, shape, { scale: new Float32Array([1, 2, 3]) });
      expectClose(await norm().run(foreign, shape, { scale }), expected, 1e-5);
      expectClose(instanceNormCpu(foreign, shape, { scale }), expected, 1e-5);
      await expectError(
        () => norm().run(new (frame.contentWindow as unknown as typeof globalThis).Float64Array(120) as never, shape),
        'invalid-argument',
        /input must be a Float32Array, got Float64Array\(120\)/,
      );
    } finally {
      frame.remove();
    }
  });
});

describe('one instance, many kinds of work interleaved', () => {
  // The forward of an nchw instance of a multiple of 8 values takes pairs of vec4s on a CPU
  // adapter, the backward single vec4s: their Params blocks differ though the shape is the same.
  const shape = [1, 2, 65536];
  const x = randomNormal(2 * 65536, 41, 2, 3);
  const dy = randomNormal(2 * 65536, 42, 0, 1);
  const options = { activation: 'leakyRelu' as const, activationAlpha: 0 };

  async function forwardSavingStats(norm: InstanceNorm, input: GPUBuffer, stats: GPUBuffer) {
    const output = storageBuffer(device, new Float32Array(x.length).fill(Number.NaN));
    const encoder = device.createCommandEncoder();
    norm.encode(encoder, input, output, shape, { ...options, saveStats: stats });
    device.queue.submit([encoder.finish()]);
    return readBuffer(device, output, x.length);
  }

  async function backwardFromStats(norm: InstanceNorm, input: GPUBuffer, stats: GPUBuffer) {
    const gradInput = storageBuffer(device, new Float32Array(x.length).fill(Number.NaN));
    const encoder = device.createCommandEncoder();
    norm.encodeBackward(encoder, { gradOutput: storageBuffer(device, dy), input, gradInput }, shape, { savedStats: stats });
    device.queue.submit([encoder.finish()]);
    return readBuffer(device, gradInput, x.length);
  }

  it.each(['forward first', 'backward first'])(
    'forward with saveStats and backward with savedStats agree with the reference, %s',
    async (order) => {
      const norm = await InstanceNorm.create({ device });
      const input = storageBuffer(device, x);
      const stats = storageBuffer(device, new Float32Array(4));
      const forwardExpected = referenceInstanceNorm(x, shape, options);
      const backwardExpected = referenceBackward(dy, x, shape).gradInput;
      if (order === 'backward first') {
        // Statistics for the backward from encodeStats() first, then from the forward's saveStats.
        const encoder = device.createCommandEncoder();
        norm.encodeStats(encoder, input, stats, shape);
        device.queue.submit([encoder.finish()]);
        expectClose(await backwardFromStats(norm, input, stats), backwardExpected, 1e-4, 1e-4);
      }
      expectClose(await forwardSavingStats(norm, input, stats), forwardExpected, 1e-4);
      expectClose(await backwardFromStats(norm, input, stats), backwardExpected, 1e-4, 1e-4);
      expectClose(await forwardSavingStats(norm, input, stats), forwardExpected, 1e-4);
      // stats, adain and GroupNorm on the same instance and shape in between change nothing.
      const { mean } = await norm.stats(x, shape);
      expectClose(mean, referenceStats(x, shape).mean, 1e-4);
      expectClose(await norm.adain(x, shape, dy, shape), referenceAdain(x, shape, dy, shape), 1e-4);
      expectClose(await norm.run(x, [1, 2, 65536], { groups: 1 }), referenceInstanceNorm(x, shape, { groups: 1 }), 1e-4);
      expectClose(await backwardFromStats(norm, input, stats), backwardExpected, 1e-4, 1e-4);
      await norm.checkErrors();
      norm.destroy();
    },
  );

  it('float16 and float32 calls of one shape, interleaved, each match the reference', async () => {
    const norm = await InstanceNorm.create({ device });
    const small = [2, 3, 6, 5];
    const values = randomNormal(180, 3, 1, 2);
    const halves = toFloat16Bits(values);
    const half = { dataType: 'float16' } as const;
    for (let round = 0; round < 3; round++) {
      expectClose(await norm.run(values, small), referenceInstanceNorm(values, small), 1e-4);
      const expected = fromFloat16Bits(referenceInstanceNorm(halves, small, half));
      expectClose(fromFloat16Bits(await norm.run(halves, small, half)), expected, 2e-3, 2e-3);
    }
    norm.destroy();
  });
});

describe('state changes only for work that was submitted', () => {
  it('a rejected run() does not count as a batch (momentum null)', async () => {
    const norm = await InstanceNorm.create({ device });
    const running = norm.createRunningStats(2);
    const shape = [2, 2, 8];
    const x = randomNormal(32, 8, 3, 2);
    const doomed = buffer(128);
    doomed.destroy(); // a residual the submit refuses
    await expectError(
      () => norm.run(x, shape, { runningStats: running, momentum: null, residual: doomed }),
      'gpu-validation',
      /WebGPU error in InstanceNorm\.run/,
    );
    expect(running.batchesTracked).toBe(0);
    await norm.run(x, shape, { runningStats: running, momentum: null });
    expect(running.batchesTracked).toBe(1);
    // momentum null after one batch: the running mean is that batch's mean (not half of it).
    const reference = new RunningStats(2);
    referenceInstanceNorm(x, shape, { runningStats: reference, momentum: null });
    const { mean, variance } = await running.read();
    const expected = await reference.read();
    expectClose(mean, expected.mean, 1e-5, 1e-5);
    expectClose(variance, expected.variance, 1e-5, 1e-5);
    norm.destroy();
  });

  it('plan() returns a frozen plan: editing it throws and later calls are unchanged', async () => {
    const shape = [1, 4, 33];
    const plan = gpu.plan(shape);
    expect(Object.isFrozen(plan)).toBe(true);
    expect(Object.isFrozen(plan.windows[0].dispatches[0])).toBe(true);
    expect(() => {
      (plan.windows[0].dispatches[0] as unknown as { workgroups: number[] }).workgroups[0] = 0;
    }).toThrow(TypeError);
    const x = randomNormal(132, 4);
    expectClose(await gpu.run(x, shape), referenceInstanceNorm(x, shape), 1e-4);
  });
});

describe('lifetimes', () => {
  /** Buffers the library made on `device` and has not destroyed. */
  function liveLibraryBuffers(target: GPUDevice): Set<GPUBuffer> {
    const live = new Set<GPUBuffer>();
    const createBuffer = target.createBuffer.bind(target);
    target.createBuffer = (descriptor: GPUBufferDescriptor) => {
      const created = createBuffer(descriptor);
      if (descriptor.label?.startsWith('InstanceNorm')) {
        live.add(created);
        const destroy = created.destroy.bind(created);
        created.destroy = () => {
          live.delete(created);
          destroy();
        };
      }
      return created;
    };
    return live;
  }

  it('a scale array changed in place between 600 calls leaks nothing; destroy() frees everything', async () => {
    const owner = await InstanceNorm.create({ fallback: 'error' });
    const own = owner.device!;
    const live = liveLibraryBuffers(own);
    const norm = await InstanceNorm.create({ device: own });
    const shape = [1, 3, 16];
    const x = randomNormal(48, 6);
    const input = storageBuffer(own, x);
    const output = storageBuffer(own, new Float32Array(48));
    const scale = new Float32Array([1, 2, 3]);
    for (let call = 0; call < 600; call++) {
      scale[call % 3] = call;
      if (call % 2 === 0) await norm.run(x, shape, { scale });
      else {
        const encoder = own.createCommandEncoder();
        norm.encode(encoder, input, output, shape, { scale });
        own.queue.submit([encoder.finish()]);
      }
    }
    // The last call was an encode() with the scale as it is now.
    expectClose(await readBuffer(own, output, 48), referenceInstanceNorm(x, shape, { scale }), 1e-4, 1e-5);
    expect(live.size).toBeLessThanOrEqual(256 + 256 + 8);
    norm.destroy();
    expect(live.size).toBe(0);
    owner.destroy();
  });

  it('run() calls never evict what an unsubmitted encode() recorded', async () => {
    const norm = await InstanceNorm.create({ device });
    const shape = [1, 2, 24];
    const x = randomNormal(48, 12, 1, 2);
    const input = storageBuffer(device, x);
    const output = storageBuffer(device, new Float32Array(48).fill(Number.NaN));
    const encoder = device.createCommandEncoder();
    norm.encode(encoder, input, output, shape, { epsilon: 0.25, scale: new Float32Array([2, 3]) });
    for (let call = 0; call < 300; call++)
      await norm.run(x, shape, { epsilon: 1e-3 + call * 1e-6, scale: new Float32Array([call, 1]) });
    device.pushErrorScope('validation');
    device.queue.submit([encoder.finish()]);
    expect(await device.popErrorScope()).toBeNull();
    expectClose(
      await readBuffer(device, output, 48),
      referenceInstanceNorm(x, shape, { epsilon: 0.25, scale: new Float32Array([2, 3]) }),
      1e-4,
    );
    norm.destroy();
  });

  it('after a loss, concurrent run()s share one replacement device and all succeed', async () => {
    const norm = await InstanceNorm.create({ fallback: 'error' });
    const first = norm.device!;
    const shape = [1, 3, 40];
    const x = randomNormal(120, 9);
    const expected = referenceInstanceNorm(x, shape);
    first.destroy();
    await first.lost;
    const requested: GPUDevice[] = [];
    const requestDevice = GPUAdapter.prototype.requestDevice;
    GPUAdapter.prototype.requestDevice = async function (this: GPUAdapter, descriptor) {
      const made = await requestDevice.call(this, descriptor);
      requested.push(made);
      return made;
    };
    try {
      const results = await Promise.all(Array.from({ length: 5 }, () => norm.run(x, shape)));
      for (const result of results) expectClose(result, expected, 1e-4);
    } finally {
      GPUAdapter.prototype.requestDevice = requestDevice;
    }
    expect(requested).toHaveLength(1);
    expect(norm.device).toBe(requested[0]);
    norm.destroy();
  });

  it('destroy() while a replacement device is requested: the call rejects and the new device is destroyed', async () => {
    const norm = await InstanceNorm.create({ fallback: 'error' });
    norm.device!.destroy();
    await norm.device!.lost;
    const requested: GPUDevice[] = [];
    const requestDevice = GPUAdapter.prototype.requestDevice;
    GPUAdapter.prototype.requestDevice = async function (this: GPUAdapter, descriptor) {
      const made = await requestDevice.call(this, descriptor);
      requested.push(made);
      return made;
    };
    try {
      const call = norm.run(new Float32Array(12), [1, 3, 4]);
      norm.destroy();
      await expectError(() => call, 'destroyed', /run\(\) called on a destroyed InstanceNorm/);
    } finally {
      GPUAdapter.prototype.requestDevice = requestDevice;
    }
    expect(requested).toHaveLength(1);
    expect((await requested[0].lost).reason).toBe('destroyed');
  });

  it('an input detached or grown while run() waits for a new device is refused, not read', async () => {
    const norm = await InstanceNorm.create({ fallback: 'error' });
    const shape = [1, 3, 4];
    norm.device!.destroy();
    await norm.device!.lost;
    const detached = new Float32Array(12);
    const call = norm.run(detached, shape);
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    await expectError(() => call, 'invalid-argument', /input has length 0, expected 12/, 'input');
    norm.device!.destroy();
    await norm.device!.lost;
    // A resizable buffer (ES2024), typed by hand: the project's lib is ES2022.
    const Resizable = ArrayBuffer as unknown as new (
      bytes: number,
      options: { maxByteLength: number },
    ) => ArrayBuffer & {
      resize(bytes: number): void;
    };
    const growable = new Resizable(48, { maxByteLength: 400 });
    const tracking = new Float32Array(growable);
    const grown = norm.run(tracking, shape);
    growable.resize(400);
    await expectError(() => grown, 'invalid-argument', /input has length 100, expected 12/, 'input');
    norm.destroy();
  });
});

describe('everything is checked before the caller’s encoder is touched', () => {
  const shape = [2, 3, 8];
  const bytes = 2 * 3 * 8 * 4;

  it.each([
    [
      'runningStats of another device',
      async () => (await InstanceNorm.create({ fallback: 'error' })).createRunningStats(3),
      /another GPU device/,
      'invalid-argument',
    ],
    ['runningStats on the CPU', async () => new RunningStats(3), /runningStats live on the CPU/, 'invalid-argument'],
    [
      'destroyed runningStats',
      async () => {
        const running = gpu.createRunningStats(3);
        running.destroy();
        return running;
      },
      /runningStats were destroyed/,
      'destroyed',
    ],
  ] as const)('%s', async (_name, make, message, code) => {
    const running = await make();
    const encoder = device.createCommandEncoder();
    await expectError(() => gpu.encode(encoder, buffer(bytes), buffer(bytes), shape, { runningStats: running }), code, message);
    await expectError(
      () => gpu.encode(encoder, buffer(bytes), buffer(bytes), shape, { runningStats: running, training: false }),
      code,
      message,
    );
    await expectEncoderUntouched(encoder);
  });

  it('buffers that alias are refused at encode(), naming both', async () => {
    const input = buffer(bytes);
    const output = buffer(bytes);
    const small = buffer(64);
    const stats = buffer(64);
    const running = gpu.createRunningStats(3);
    const encoder = device.createCommandEncoder();
    const cases: [() => void, RegExp, string][] = [
      [() => gpu.encode(encoder, input, output, shape, { scale: output }), /scale and output are the same buffer/, 'output'],
      [() => gpu.encode(encoder, input, output, shape, { bias: output }), /bias and output are the same buffer/, 'output'],
      [
        () => gpu.encode(encoder, input, output, shape, { saveStats: small, scale: small }),
        /scale and saveStats are the same buffer/,
        'saveStats',
      ],
      [
        () => gpu.encode(encoder, input, output, shape, { saveStats: output }),
        /output and saveStats are the same buffer/,
        'saveStats',
      ],
      [
        () => gpu.encode(encoder, input, output, shape, { saveStats: input }),
        /input and saveStats are the same buffer/,
        'saveStats',
      ],
      [
        () => gpu.encode(encoder, input, output, shape, { residual: output }),
        /residual and output are the same buffer/,
        'output',
      ],
      [
        () => gpu.encode(encoder, input, output, shape, { scale: running.buffer!, runningStats: running }),
        /scale and runningStats are the same buffer/,
        'runningStats',
      ],
      [() => gpu.encodeStats(encoder, input, input, shape), /in-place|input and output are the same buffer/, 'output'],
      [
        () =>
          gpu.encodeBackward(encoder, { gradOutput: input, input, gradInput: output, gradAffine: small }, shape, {
            scale: small,
          }),
        /scale and gradAffine are the same buffer/,
        'gradAffine',
      ],
      [
        () => gpu.encodeBackward(encoder, { gradOutput: input, input, gradInput: output }, shape, { savedStats: output }),
        /gradInput and savedStats are the same buffer|savedStats and gradInput are the same buffer/,
        'savedStats',
      ],
      [
        () => gpu.encodeBackward(encoder, { gradOutput: output, input, gradInput: output }, shape),
        /gradOutput and gradInput are the same buffer/,
        'gradInput',
      ],
      [() => gpu.encodeAdain(encoder, input, output, output, shape, shape), /style and output are the same buffer/, 'output'],
      [
        () =>
          gpu.encodeBackward(encoder, { gradOutput: input, input, gradInput: output, gradAffine: stats }, shape, {
            savedStats: stats,
          }),
        /gradAffine and savedStats are the same buffer/,
        'savedStats',
      ],
    ];
    for (const [call, message, argument] of cases) await expectError(call, 'invalid-argument', message, argument);
    await expectEncoderUntouched(encoder);
    running.destroy();
  });

  it('a null encoder or a compute pass encoder is refused', async () => {
    const input = buffer(bytes);
    const output = buffer(bytes);
    await expectError(
      () => gpu.encode(null as never, input, output, shape),
      'invalid-argument',
      /encoder must be a GPUCommandEncoder, got null/,
      'encoder',
    );
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    await expectError(
      () => gpu.encode(pass as never, input, output, shape),
      'invalid-argument',
      /encoder must be a GPUCommandEncoder, got GPUComputePassEncoder/,
    );
    await expectError(
      () => gpu.encodeStats(pass as never, input, output, shape),
      'invalid-argument',
      /encoder must be a GPUCommandEncoder/,
    );
    pass.end();
    await expectEncoderUntouched(encoder);
  });

  it('a device from another realm is accepted', async () => {
    const frame = document.createElement('iframe');
    document.body.append(frame);
    try {
      const gpuOfFrame = (frame.contentWindow as unknown as { navigator: Navigator }).navigator.gpu;
      const adapter = await gpuOfFrame.requestAdapter();
      const foreignDevice = await adapter!.requestDevice();
      expect(foreignDevice instanceof GPUDevice).toBe(false);
      const norm = await InstanceNorm.create({ device: foreignDevice });
      const x = randomNormal(48, 2);
      expectClose(await norm.run(x, [1, 3, 16]), referenceInstanceNorm(x, [1, 3, 16]), 1e-4);
      norm.destroy();
      foreignDevice.destroy();
    } finally {
      frame.remove();
    }
  });
});

describe('error codes', () => {
  it('a WebGPU out-of-memory error is out-of-memory, a validation error gpu-validation', async () => {
    const { gpuError } = await import('../src/core/errors');
    expect(gpuError('run', new GPUOutOfMemoryError('no memory')).code).toBe('out-of-memory');
    expect(gpuError('run', new GPUValidationError('bad.')).code).toBe('gpu-validation');
    expect(gpuError('run', new GPUValidationError('bad.')).message).toBe('WebGPU error in InstanceNorm.run: bad');
  });

  it('unsupported requests, WebGPU missing, a destroyed instance, a lost device', async () => {
    await expectError(
      () => gpu.backward(new Float32Array(12), new Float32Array(12), [1, 3, 4], { activation: 'silu' } as never),
      'unsupported',
      /takes no activation option/,
    );
    await expectError(
      () => cpu.encode(device.createCommandEncoder(), buffer(48), buffer(48), [1, 3, 4]),
      'unsupported',
      /encode needs the WebGPU backend/,
    );
    Object.defineProperty(navigator, 'gpu', { value: undefined, configurable: true });
    try {
      await expectError(() => InstanceNorm.create({ fallback: 'error' }), 'webgpu-unavailable', /WebGPU is unavailable/);
    } finally {
      delete (navigator as { gpu?: unknown }).gpu;
    }
    const doomed = await InstanceNorm.create({ device });
    doomed.destroy();
    await expectError(() => doomed.run(new Float32Array(12), [1, 3, 4]), 'destroyed', /called on a destroyed InstanceNorm/);
    const adapter = await navigator.gpu.requestAdapter();
    const appDevice = await adapter!.requestDevice();
    const guest = await InstanceNorm.create({ device: appDevice });
    appDevice.destroy();
    await appDevice.lost;
    const lost = await errorOf(() => guest.run(new Float32Array(12), [1, 3, 4]));
    expect(lost.code).toBe('device-lost');
    // One sentence: the browser's own full stop does not stay inside ours.
    expect(lost.message).not.toMatch(/\.;/);
    guest.destroy();
  });
});
