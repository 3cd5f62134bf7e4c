import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InstanceNorm, InstanceNormError } from '../src';
import { storageBuffer } from './helpers/gpu';

let norm: InstanceNorm;
let device: GPUDevice;
beforeAll(async () => {
  norm = await InstanceNorm.create({ fallback: 'error' });
  device = norm.device!;
});
afterAll(() => norm.destroy());

const shape = [1, 3, 4];
const buffer = (bytes: number, usage = GPUBufferUsage.STORAGE) => device.createBuffer({ size: bytes, usage });
const encodeWith = (input: GPUBuffer, output: GPUBuffer, options?: object, s: unknown = shape) =>
  norm.encode(device.createCommandEncoder(), input, output, s as number[], options);

// Each bad encode() call, and the words its message must contain.
const badEncodes: [string, () => void, RegExp][] = [
  [
    'input without STORAGE usage',
    () => encodeWith(buffer(48, GPUBufferUsage.COPY_DST), buffer(48)),
    /input buffer must have GPUBufferUsage\.STORAGE usage/,
  ],
  [
    'output without STORAGE usage',
    () => encodeWith(buffer(48), buffer(48, GPUBufferUsage.COPY_SRC)),
    /output buffer must have GPUBufferUsage\.STORAGE usage/,
  ],
  [
    'input buffer too small',
    () => encodeWith(buffer(44), buffer(48)),
    /input buffer has 44 bytes, expected at least 48 \(12 float32 values for shape \[1, 3, 4\]\)/,
  ],
  ['output buffer too small', () => encodeWith(buffer(48), buffer(16)), /output buffer has 16 bytes, expected at least 48/],
  [
    'the same buffer as input and output',
    () => {
      const b = buffer(48);
      encodeWith(b, b);
    },
    /in-place normalization is not supported/,
  ],
  [
    'a mapped input buffer',
    () => encodeWith(device.createBuffer({ size: 48, usage: GPUBufferUsage.STORAGE, mappedAtCreation: true }), buffer(48)),
    /input buffer is mapped; unmap it before use/,
  ],
  [
    'a typed array where a buffer belongs',
    () => encodeWith(new Float32Array(12) as never, buffer(48)),
    /input must be a GPUBuffer, got Float32Array\(12\)/,
  ],
  [
    'a scale buffer of C - 1 values',
    () => encodeWith(buffer(48), buffer(48), { scale: buffer(8) }),
    /scale has 8 bytes, expected at least 12 \(C = 3 float32 values\)/,
  ],
  [
    'a bias buffer without STORAGE usage',
    () => encodeWith(buffer(48), buffer(48), { bias: buffer(16, GPUBufferUsage.UNIFORM) }),
    /bias must have GPUBufferUsage\.STORAGE usage/,
  ],
  [
    'a scale array of C + 1 values',
    () => encodeWith(buffer(48), buffer(48), { scale: new Float32Array(4) }),
    /scale has length 4, expected C = 3/,
  ],
  [
    'a scale of plain numbers',
    () => encodeWith(buffer(48), buffer(48), { scale: [1, 2, 3] }),
    /scale must be a Float32Array or GPUBuffer of length C = 3 \(or N × C\), got Array\(3\)/,
  ],
  ['a shape of rank 2', () => encodeWith(buffer(48), buffer(48), {}, [3, 4]), /shape must have rank 3, 4 or 5/],
  ['a zero dimension', () => encodeWith(buffer(48), buffer(48), {}, [1, 0, 4]), /shape\[1\] must be a positive integer, got 0/],
  ['epsilon -1', () => encodeWith(buffer(48), buffer(48), { epsilon: -1 }), /epsilon must be a finite number ≥ 0, got -1/],
  [
    'layout NHWC in capitals',
    () => encodeWith(buffer(48), buffer(48), { layout: 'NHWC' }),
    /layout must be 'nchw' or 'nhwc', got 'NHWC'/,
  ],
  ['layout nchwx', () => encodeWith(buffer(48), buffer(48), { layout: 'nchwx' }), /layout must be 'nchw' or 'nhwc', got 'nchwx'/],
  ['a shape of rank 6', () => encodeWith(buffer(48), buffer(48), {}, [1, 1, 1, 1, 1, 12]), /got rank 6/],
  [
    'a fractional dimension',
    () => encodeWith(buffer(48), buffer(48), {}, [1, 3, 4.5]),
    /shape\[2\] must be a positive integer, got 4\.5/,
  ],
  [
    'a negative dimension',
    () => encodeWith(buffer(48), buffer(48), {}, [-1, 3, 4]),
    /shape\[0\] must be a positive integer, got -1/,
  ],
  [
    'a dimension given as a string',
    () => encodeWith(buffer(48), buffer(48), {}, [1, '3', 4]),
    /shape\[1\] must be a positive integer, got '3'/,
  ],
  [
    'a shape that is not an array',
    () => encodeWith(buffer(48), buffer(48), {}, 'big'),
    /shape must be an array of positive integers, got 'big'/,
  ],
  [
    'a shape of more than 2^32 bytes',
    () => encodeWith(buffer(48), buffer(48), {}, [1024, 1024, 1025]),
    /4299161600 bytes as float32: more than the 2\^32 bytes/,
  ],
  [
    'epsilon NaN',
    () => encodeWith(buffer(48), buffer(48), { epsilon: Number.NaN }),
    /epsilon must be a finite number ≥ 0, got NaN/,
  ],
  [
    'epsilon Infinity',
    () => encodeWith(buffer(48), buffer(48), { epsilon: Number.POSITIVE_INFINITY }),
    /epsilon must be a finite number ≥ 0, got Infinity/,
  ],
  [
    'epsilon as a string',
    () => encodeWith(buffer(48), buffer(48), { epsilon: '1e-5' }),
    /epsilon must be a finite number ≥ 0, got '1e-5'/,
  ],
  [
    'options that are not an object',
    () => encodeWith(buffer(48), buffer(48), 'nhwc' as never),
    /options must be an object or undefined, got 'nhwc'/,
  ],
  [
    'a bias array of C + 1 values in nhwc',
    () => encodeWith(buffer(48), buffer(48), { layout: 'nhwc', bias: new Float32Array(5) }, [1, 3, 4]),
    /bias has length 5, expected C = 4/,
  ],
  [
    'a scale array of N × C + 1 values',
    () => encodeWith(buffer(96), buffer(96), { scale: new Float32Array(7) }, [2, 3, 4]),
    /scale has length 7, expected C = 3 or N × C = 6/,
  ],
  [
    'a per-instance scale buffer of C values',
    () => encodeWith(buffer(96), buffer(96), { scale: buffer(12), perInstanceAffine: true }, [2, 3, 4]),
    /scale has 12 bytes, expected at least 24 \(N × C = 6 float32 values\)/,
  ],
  [
    'perInstanceAffine as a string',
    () => encodeWith(buffer(48), buffer(48), { perInstanceAffine: 'yes' }),
    /perInstanceAffine must be a boolean, got 'yes'/,
  ],
  [
    'an unknown activation',
    () => encodeWith(buffer(48), buffer(48), { activation: 'tanh' }),
    /activation must be one of 'none', 'relu', 'leakyRelu', 'silu', 'gelu', got 'tanh'/,
  ],
  [
    'activationAlpha NaN',
    () => encodeWith(buffer(48), buffer(48), { activation: 'leakyRelu', activationAlpha: Number.NaN }),
    /activationAlpha must be a finite number, got NaN/,
  ],
  [
    'an unknown residualPosition',
    () => encodeWith(buffer(48), buffer(48), { residual: buffer(48), residualPosition: 'before' }),
    /residualPosition must be one of 'after-activation', 'before-activation', got 'before'/,
  ],
  [
    'a residual typed array in encode()',
    () => encodeWith(buffer(48), buffer(48), { residual: new Float32Array(12) }),
    /residual must be a GPUBuffer for encode\(\) \(run\(\) also takes a Float32Array\), got Float32Array\(12\)/,
  ],
  [
    'a residual buffer too small',
    () => encodeWith(buffer(48), buffer(48), { residual: buffer(32) }),
    /residual has 32 bytes, expected at least 48/,
  ],
  [
    'the output as residual',
    () => {
      const out = buffer(48);
      encodeWith(buffer(48), out, { residual: out });
    },
    /residual and output are the same buffer/,
  ],
  ['no input buffer', () => encodeWith(undefined as never, buffer(48)), /input must be a GPUBuffer, got undefined/],
  [
    'an output typed array',
    () => encodeWith(buffer(48), new Float32Array(12) as never),
    /output must be a GPUBuffer, got Float32Array\(12\)/,
  ],
];

it('the table above holds at least 25 bad inputs', () => {
  expect(badEncodes.length).toBeGreaterThanOrEqual(25);
});

describe('bad encode() arguments throw InstanceNormError before touching the GPU', () => {
  it.each(badEncodes)('%s', (_name, call, message) => {
    expect(call).toThrow(InstanceNormError);
    expect(call).toThrow(message);
    let error: InstanceNormError | undefined;
    try {
      call();
    } catch (thrown) {
      error = thrown as InstanceNormError;
    }
    expect(error?.code).toBe('invalid-argument');
    // The argument at fault is named, in the message and in the error.
    expect(error?.argument).toBeTruthy();
    expect(error?.message).toContain(error?.argument);
  });
});

describe('bad run() arguments reject with InstanceNormError', () => {
  it('input of the wrong length', async () => {
    await expect(norm.run(new Float32Array(10), shape)).rejects.toThrow(/input has length 10, expected 12 for shape \[1, 3, 4\]/);
  });
  it('bias of the wrong length', async () => {
    await expect(norm.run(new Float32Array(12), shape, { bias: new Float32Array(2) })).rejects.toThrow(
      /bias has length 2, expected C = 3/,
    );
  });
  it('epsilon NaN', async () => {
    await expect(norm.run(new Float32Array(12), shape, { epsilon: Number.NaN })).rejects.toThrow(InstanceNormError);
  });
  it('a residual array of the wrong length', async () => {
    await expect(norm.run(new Float32Array(12), shape, { residual: new Float32Array(11) })).rejects.toThrow(
      /residual has length 11, expected 12, the input's, for shape \[1, 3, 4\]/,
    );
  });
});

describe('WebGPU validation errors are surfaced as InstanceNormError', () => {
  it('a scale buffer from another device fails encode(), reported by checkErrors() and the next call', async () => {
    const other = await InstanceNorm.create({ fallback: 'error' });
    const foreignScale = storageBuffer(other.device!, new Float32Array([1, 2, 3]));
    const input = storageBuffer(
      device,
      new Float32Array(12).map((_, i) => i),
    );
    const output = storageBuffer(device, new Float32Array(12));
    norm.encode(device.createCommandEncoder(), input, output, shape, { scale: foreignScale });
    await expect(norm.checkErrors()).rejects.toThrow(/WebGPU error in InstanceNorm\.encode/);
    // Reported once: the instance works again afterwards.
    await expect(
      norm.run(
        new Float32Array(12).map((_, i) => i),
        shape,
      ),
    ).resolves.toHaveLength(12);
    other.destroy();
  });

  it('the same error in run() rejects that run', async () => {
    const other = await InstanceNorm.create({ fallback: 'error' });
    const foreignBias = storageBuffer(other.device!, new Float32Array([1, 2, 3]));
    await expect(
      norm.run(
        new Float32Array(12).map((_, i) => i),
        shape,
        { bias: foreignBias },
      ),
    ).rejects.toThrow(/WebGPU error in InstanceNorm\.run/);
    other.destroy();
  });
});

describe('lifetime and create() options', () => {
  it('a destroyed instance refuses every call', async () => {
    const doomed = await InstanceNorm.create({ device });
    doomed.destroy();
    await expect(doomed.run(new Float32Array(12), shape)).rejects.toThrow(/run\(\) called on a destroyed InstanceNorm/);
    expect(() => doomed.encode(device.createCommandEncoder(), buffer(48), buffer(48), shape)).toThrow(
      /encode\(\) called on a destroyed InstanceNorm/,
    );
  });

  it('destroy() of an instance on an app device leaves the device usable', async () => {
    const guest = await InstanceNorm.create({ device });
    guest.destroy();
    await expect(
      norm.run(
        new Float32Array(12).map((_, i) => i),
        shape,
      ),
    ).resolves.toHaveLength(12);
  });

  it.each([
    ['fallback', { fallback: 'gpu' }, /fallback must be 'cpu' or 'error', got 'gpu'/],
    ['strategy', { strategy: 'fastest' }, /strategy must be 'auto' or one of .*got 'fastest'/],
    ['device', { device: {} }, /device must be a GPUDevice, got Object/],
  ])('create() with a bad %s', async (_name, options, message) => {
    await expect(InstanceNorm.create(options as never)).rejects.toThrow(message);
  });

  it('createSync() on an app device computes at once; without a device, or with a bad one, it throws', async () => {
    const guest = InstanceNorm.createSync({ device });
    expect(guest.backend).toBe('webgpu');
    const x = new Float32Array([3, -1, 4, 1, -5, 9, 2, -6, 5, 3, -5, 8]);
    const mean = [1.75, 0, 2.75]; // [1, 3, 4]: instances (3, -1, 4, 1), (-5, 9, 2, -6), (5, 3, -5, 8)
    const variance = [3.6875, 36.5, 23.1875];
    const expected = x.map((v, i) => (v - mean[i >> 2]) / Math.sqrt(variance[i >> 2] + 1e-5));
    const y = await guest.run(x, shape);
    for (let i = 0; i < 12; i++) expect(y[i]).toBeCloseTo(expected[i], 5);
    guest.destroy();
    for (const [options, message] of [
      [undefined, /createSync needs a GPUDevice/],
      [{}, /createSync needs a GPUDevice/],
      [{ device: {} }, /device must be a GPUDevice, got Object/],
      [{ device, strategy: 'fastest' }, /strategy must be 'auto' or one of/],
      [{ device, devise: device }, /devise/],
    ] as const) {
      expect(() => InstanceNorm.createSync(options as never)).toThrow(InstanceNormError);
      expect(() => InstanceNorm.createSync(options as never)).toThrow(message);
    }
  });
});
