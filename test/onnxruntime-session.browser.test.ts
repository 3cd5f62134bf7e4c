import * as ort from 'onnxruntime-web/webgpu';
import { afterAll, describe, expect, it } from 'vitest';
import { halfUlp, halfValue, toFloat16Bits } from '../src/core/float16';
import { createSession, InstanceNormError, type OnnxSessionPlan, type SplicedSession } from '../src/onnxruntime';
import { referenceInstanceNorm } from '../src/reference/float64-reference';
import { expectClose } from './helpers/compare';
import { adapterFeatures, unlessMissing } from './helpers/features';
import { libraryBuffer, watchBuffers } from './helpers/live-buffers';
import { randomNormal, randomUniform } from './helpers/random';

// webgpu-instancenorm/onnxruntime on ORT-web 1.30's WebGPU EP: the fixtures of test/fixtures/onnx/
// (exported by torch 1.13 from seeded weights, scripts/make-onnx-fixtures.py) run spliced, against
// the same model run by ORT alone on its wasm EP (the CPU reference), or against the float64
// reference where ORT cannot run the model alone; every fallback to one plain ORT session; bad
// input; and the session's GPU buffers over many runs.

ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
const WEBGPU = { executionProviders: ['webgpu'] };
const features = await adapterFeatures();

const files = new Map<string, Uint8Array>();
async function fixture(name: string): Promise<Uint8Array> {
  if (!files.has(name)) files.set(name, new Uint8Array(await (await fetch(`/test/fixtures/onnx/${name}.onnx`)).arrayBuffer()));
  return files.get(name) as Uint8Array;
}

/** What the onnx package read in each fixture (scripts/make-onnx-fixtures.py): small initializers' values. */
const summary: Record<string, { initializers: { name: string; values?: number[] }[] }> = await (
  await fetch('/test/fixtures/onnx/summary.json')
).json();
const initializer = (model: string, name: string) =>
  Float32Array.from(summary[model].initializers.find((i) => i.name === name)?.values ?? []);

const sessions: { release(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.release()));
});

async function spliced(name: string, sessionOptions: object = WEBGPU, options?: object): Promise<SplicedSession<ort.Tensor>> {
  const session = await createSession(ort, await fixture(name), sessionOptions, options as never);
  sessions.push(session);
  return session;
}

/** The model run by ORT alone on its wasm EP: the CPU reference. */
async function onWasm(
  name: string,
  feeds: Record<string, ort.Tensor>,
  options: object = {},
): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(await fixture(name), { ...options, executionProviders: ['wasm'] });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/**
 * float32 outputs within 1e-4 relative: |a − e| ≤ 1e-4 · (|e| + max|e|). Relative to the output's
 * scale as well as the element's: after a dozen convolutions an output near zero is the
 * cancellation of large terms, which ORT's WebGPU EP and its wasm EP already sum differently
 * (measured on the TransformerNet: 6e-6 of the scale between them, 5e-4 of some elements).
 */
function expectFloat32Close(actual: ort.Tensor, expected: ort.Tensor): void {
  expect({ type: actual.type, dims: actual.dims, location: actual.location }).toEqual({
    type: expected.type,
    dims: expected.dims,
    location: expected.location,
  });
  const e = expected.data as Float32Array;
  const scale = e.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  expectClose(actual.data as Float32Array, e, 1e-4 * scale, 1e-4);
}

const halves = (t: ort.Tensor) => {
  const data = t.data as ArrayBufferView;
  return new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
};

/** Each half within `ulps` half ulps of the reference's, or within 2^-20 absolute where the reference cancelled to near zero. */
function expectHalvesClose(actual: ort.Tensor, expected: ort.Tensor, ulps: number): void {
  expect({ type: actual.type, dims: actual.dims }).toEqual({ type: expected.type, dims: expected.dims });
  const a = halves(actual);
  const e = halves(expected);
  const bad: string[] = [];
  for (let i = 0; i < e.length; i++) {
    const [x, y] = [halfValue(a[i]), halfValue(e[i])];
    if (!(Math.abs(x - y) <= Math.max(ulps * halfUlp(y), 2 ** -20))) bad.push(`[${i}] ${x} vs ${y}`);
  }
  expect(bad.slice(0, 5), `${bad.length} of ${e.length} halves off by more than ${ulps} ulps`).toEqual([]);
}

const libraryShapes = (plan: OnnxSessionPlan) => plan.steps.map((s) => (s.runs === 'library' ? s.shape : s.runs));

describe('spliced models give what ORT alone gives', () => {
  it("TransformerNet (fast-neural-style): 16 ORT stretches around its 15 InstanceNormalization nodes; ORT's wasm EP's output", async () => {
    const session = await spliced('transformer-net');
    expect([session.inputNames, session.outputNames]).toEqual([['input'], ['output']]);
    const input = new ort.Tensor('float32', randomUniform(2 * 3 * 16 * 16, 11, 0, 1), [2, 3, 16, 16]);
    const { output } = await session.run({ input });
    const reference = await onWasm('transformer-net', { input });
    expectFloat32Close(output, reference.output);
    const plan = session.plan();
    expect(plan.mode).toBe('spliced');
    expect(plan.leftToOrt).toEqual([]);
    expect(plan.steps.map((s) => s.runs)).toEqual(['ort', ...Array(15).fill(['library', 'ort']).flat()]);
    // The shapes each norm ran on: 16², then halved twice, the residual blocks, then doubled twice.
    const sizes = [16, 8, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 8, 16];
    const widths = [4, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 4];
    expect(libraryShapes(plan).filter((s) => s !== 'ort')).toEqual(sizes.map((n, i) => [2, widths[i], n, n]));
    expect(plan.steps[1]).toMatchObject({ runs: 'library', kind: 'InstanceNormalization', activation: 'relu', layout: 'nchw' });
    expect(plan.steps[9]).toMatchObject({ runs: 'library', activation: 'none', residual: '/relu_2/Relu_output_0' });
    // Run again: the same bits (the buffers reused, nothing left over from the first run).
    const again = await session.run({ input });
    expect(Array.from(again.output.data as Float32Array)).toEqual(Array.from(output.data as Float32Array));
  });

  it('a diffusion ResNet block: two decomposed GroupNorm(32) + SiLU, the second adding the block input', async () => {
    const session = await spliced('diffusion-block');
    const input = new ort.Tensor('float32', randomNormal(64 * 8 * 8, 21, 0.3, 2), [1, 64, 8, 8]);
    const { output } = await session.run({ input });
    expectFloat32Close(output, (await onWasm('diffusion-block', { input })).output);
    const plan = session.plan();
    expect(
      plan.steps.map((s) => (s.runs === 'library' ? `${s.kind} ${s.activation} ${s.residual ?? ''}`.trim() : 'ort')),
    ).toEqual(['GroupNorm silu', 'ort', 'GroupNorm silu input']);
    expect(plan.steps[0]).toMatchObject({ groups: 32, dataType: 'float32', shape: [1, 64, 8, 8] });
  });

  it("on the app's own GPUDevice, given to the WebGPU EP: every stretch and the library's calls on it", async () => {
    const adapter = await navigator.gpu.requestAdapter();
    const device = await (adapter as GPUAdapter).requestDevice();
    const made: string[] = [];
    const createBuffer = device.createBuffer.bind(device);
    device.createBuffer = (descriptor: GPUBufferDescriptor) => {
      made.push(descriptor.label ?? '');
      return createBuffer(descriptor);
    };
    const session = await spliced('diffusion-block', { executionProviders: [{ name: 'webgpu', device }] });
    const input = new ort.Tensor('float32', randomNormal(64 * 5 * 6, 23, 0.3, 2), [1, 64, 5, 6]);
    const { output } = await session.run({ input });
    expectFloat32Close(output, (await onWasm('diffusion-block', { input })).output);
    expect(made.filter((label) => label.startsWith('InstanceNorm')).length).toBeGreaterThan(0);
    expect(made.filter((label) => !label.startsWith('InstanceNorm')).length).toBeGreaterThan(0); // ORT's
  });

  it('InstanceNorm1d + LeakyReLU(0.2) of a rank-3 tensor, between two conv1d', async () => {
    const session = await spliced('instance-norm-1d');
    const input = new ort.Tensor('float32', randomNormal(3 * 4 * 20, 31), [3, 4, 20]);
    const { output } = await session.run({ input });
    expectFloat32Close(output, (await onWasm('instance-norm-1d', { input })).output);
    expect(session.plan().steps[1]).toMatchObject({
      activation: 'leakyRelu',
      activationAlpha: Math.fround(0.2),
      shape: [3, 8, 20],
    });
  });

  it('external data: the constants read from sessionOptions.externalData (fetched once), every stretch given the same bytes', async () => {
    const externalData = [{ path: './external-data.bin', data: '/test/fixtures/onnx/external-data.bin' }];
    const session = await spliced('external-data', { ...WEBGPU, externalData });
    expect(session.plan().steps.map((s) => s.runs)).toEqual(['ort', 'library', 'ort']);
    const input = new ort.Tensor('float32', randomNormal(2 * 4 * 12, 32), [2, 4, 12]);
    const { output } = await session.run({ input });
    expectFloat32Close(output, (await onWasm('external-data', { input }, { externalData })).output);
  });

  it('com.microsoft.GroupNorm (no kernel in ORT-web 1.30 at all): the float64 reference, then ORT runs the Relu after it', async () => {
    const session = await spliced('contrib-group-norm');
    const x = randomNormal(2 * 5 * 3 * 8, 41, -1, 3);
    const { output } = await session.run({ input: new ort.Tensor('float32', x, [2, 5, 3, 8]) });
    const normalized = referenceInstanceNorm(x, [2, 5, 3, 8], {
      layout: 'nhwc',
      groups: 4,
      activation: 'silu',
      scale: initializer('contrib-group-norm', 'gamma'),
      bias: initializer('contrib-group-norm', 'beta'),
    });
    expectClose(
      output.data as Float32Array,
      normalized.map((v) => Math.max(v, 0)),
      1e-5,
      1e-4,
    );
    expect(session.plan().steps.map((s) => s.runs)).toEqual(['library', 'ort']);
  });

  it('a model that is one InstanceNormalization + Relu: no ORT stretch, the library alone on ORT’s device', async () => {
    const session = await spliced('instance-norm-relu');
    const input = new ort.Tensor('float32', randomNormal(2 * 4 * 9 * 7, 51, 2, 3), [2, 4, 9, 7]);
    const { output } = await session.run({ input });
    expectFloat32Close(output, (await onWasm('instance-norm-relu', { input })).output);
    expect(session.plan().steps.map((s) => s.runs)).toEqual(['library']);
  });

  it('float16: the same model in halves, the library reading and writing ORT’s float16 tensors (ORT’s wasm EP within 1 half ulp)', async () => {
    const session = await spliced('instance-norm-relu-fp16');
    const input = new ort.Tensor('float16', toFloat16Bits(randomNormal(2 * 4 * 9 * 7, 52, 2, 3)), [2, 4, 9, 7]);
    const { output } = await session.run({ input });
    expectHalvesClose(output, (await onWasm('instance-norm-relu-fp16', { input })).output, 1);
    expect(session.plan().steps[0]).toMatchObject({ dataType: 'float16' });
  });

  it('float16 on the GPU: halves handed from ORT to the library and back in GPU buffers (two per word on both sides)', async () => {
    // Reshape runs in ORT's WebGPU EP without shader-f16 (a copy, no kernel), so this runs on any adapter.
    const session = await spliced('float16-handoff');
    expect(session.plan().steps.map((s) => s.runs)).toEqual(['ort', 'library', 'ort']);
    for (const n of [2, 3]) {
      const input = new ort.Tensor('float16', toFloat16Bits(randomNormal(n * 48, 53 + n, 1, 2)), [n, 48]);
      const { output } = await session.run({ input });
      expectHalvesClose(output, (await onWasm('float16-handoff', { input })).output, 1);
    }
  });

  it.skipIf(!features.has('shader-f16'))(
    unlessMissing(
      'float16: the diffusion block in halves, ORT’s wasm EP within 2 half ulps',
      'shader-f16',
      !features.has('shader-f16'),
    ),
    async () => {
      // ORT's WebGPU EP compiles float16 kernels only with shader-f16 (ORT alone cannot run this model without it either).
      const session = await spliced('diffusion-block-fp16');
      const input = new ort.Tensor('float16', toFloat16Bits(randomNormal(64 * 8 * 8, 22, 0.3, 2)), [1, 64, 8, 8]);
      const { output } = await session.run({ input });
      expectHalvesClose(output, (await onWasm('diffusion-block-fp16', { input })).output, 2);
    },
  );
});

describe('an input whose mean lies far from zero', () => {
  // ORT-web 1.30's WebGPU InstanceNormalization takes the variance as E[x²] − E[x]² in float32: here
  // (SwiftShader) it gives values off by about 5 where they lie in [0, 3]; NaN where the difference
  // comes out negative (as measured on other adapters).
  it('InstanceNormalization of a [2, 4, 64, 64] input of mean 1e4: ORT alone far off (or NaN), the library the float64 reference', async () => {
    const dims = [2, 4, 64, 64];
    const x = randomNormal(2 * 4 * 64 * 64, 61, 1e4, 1);
    const input = new ort.Tensor('float32', x, dims);
    const alone = await ort.InferenceSession.create(await fixture('instance-norm-relu'), WEBGPU);
    const theirs = (await alone.run({ input })).output.data as Float32Array;
    await alone.release();
    const expected = referenceInstanceNorm(x, dims, {
      scale: initializer('instance-norm-relu', 'norm.weight'),
      bias: initializer('instance-norm-relu', 'norm.bias'),
      activation: 'relu',
    });
    const theirError = theirs.reduce(
      (worst, v, i) => (Number.isNaN(v) ? Infinity : Math.max(worst, Math.abs(v - expected[i]))),
      0,
    );
    expect(theirError).toBeGreaterThan(1);
    const { output } = await (await spliced('instance-norm-relu')).run({ input });
    expectClose(output.data as Float32Array, expected, 1e-4, 1e-4);
  });
});

describe('outputs left on the GPU (preferredOutputLocation: gpu-buffer)', () => {
  it.each(['diffusion-block', 'transformer-net'])(
    '%s: the output is a gpu-buffer tensor of the right dims; getData() gives the CPU run’s values; dispose() frees it',
    async (name) => {
      const dims = name === 'diffusion-block' ? [1, 64, 4, 4] : [1, 3, 8, 8];
      const input = new ort.Tensor(
        'float32',
        randomUniform(
          dims.reduce((a, b) => a * b),
          71,
          -1,
          1,
        ),
        dims,
      );
      const onCpu = (await (await spliced(name)).run({ input })).output;
      const onGpu = (await (await spliced(name, { ...WEBGPU, preferredOutputLocation: 'gpu-buffer' })).run({ input })).output;
      expect([onGpu.location, onGpu.type, onGpu.dims]).toEqual(['gpu-buffer', 'float32', dims]);
      const buffer = onGpu.gpuBuffer as GPUBuffer;
      expect(buffer.size).toBeGreaterThanOrEqual(4 * onCpu.data.length);
      expect(Array.from((await onGpu.getData()) as Float32Array)).toEqual(Array.from(onCpu.data as Float32Array));
      onGpu.dispose();
    },
  );
});

describe('one plain ORT session where nothing can be taken over, and plan() says why', () => {
  it.each([
    ['no-normalization', WEBGPU, /no InstanceNormalization or GroupNorm node/],
    ['transformer-net', { executionProviders: ['wasm'] }, /first execution provider is 'wasm'/],
    ['transformer-net', {}, /no execution provider is given/],
    ['rank-6', WEBGPU, /no normalization node of the model can be taken over/],
    ['scale-from-input', WEBGPU, /no normalization node of the model can be taken over/],
  ])('%s with %j', async (name, options, reason) => {
    const session = await spliced(name, options);
    const plan = session.plan();
    expect(plan.mode).toBe('ort');
    expect(plan.reason).toMatch(reason);
    const feeds: Record<string, ort.Tensor> = {};
    const dims: Record<string, number[]> = {
      'no-normalization': [1, 3, 8, 8],
      'transformer-net': [1, 3, 8, 8],
      'rank-6': [1, 2, 2, 3, 2, 3],
      'scale-from-input': [1, 4, 6, 6],
    };
    feeds.input = new ort.Tensor(
      'float32',
      randomNormal(
        dims[name].reduce((a, b) => a * b),
        81,
      ),
      dims[name],
    );
    if (name === 'scale-from-input') feeds.scale = new ort.Tensor('float32', new Float32Array([1, 2, 3, 4]), [4]);
    const { output } = await session.run(feeds);
    expectFloat32Close(output, (await onWasm(name, feeds)).output);
  });

  it('the nodes left to ORT, each with its reason', async () => {
    expect((await spliced('rank-6')).plan().leftToOrt).toEqual([
      {
        node: "InstanceNormalization 'norm'",
        kind: 'InstanceNormalization',
        reason: 'its input has rank 6: the library takes rank 3 to 5 (N, C and 1 to 3 spatial dimensions)',
      },
    ]);
    expect((await spliced('scale-from-input')).plan().leftToOrt[0].reason).toBe(
      "'scale' is not a constant (an initializer or a Constant node)",
    );
    expect((await spliced('instance-norm-1d', WEBGPU, { leaveToOrt: ['InstanceNormalization'] })).plan()).toMatchObject({
      mode: 'ort',
      leftToOrt: [{ kind: 'InstanceNormalization', reason: 'left to ORT by the leaveToOrt option' }],
    });
  });
});

describe('partly taken over', () => {
  it('leaveToOrt: Relu: the norm alone in the library, ORT runs the Relu', async () => {
    const session = await spliced('instance-norm-relu', WEBGPU, { leaveToOrt: ['Relu'] });
    const input = new ort.Tensor('float32', randomNormal(2 * 4 * 5 * 5, 91), [2, 4, 5, 5]);
    expectFloat32Close((await session.run({ input })).output, (await onWasm('instance-norm-relu', { input })).output);
    expect(session.plan().steps.map((s) => (s.runs === 'library' ? s.activation : s.runs))).toEqual(['none', 'ort']);
  });

  it('a GroupNorm chain with a wrong constant: its InstanceNormalization alone, and the reason the chain is no GroupNorm', async () => {
    const session = await spliced('group-norm-near-miss');
    const input = new ort.Tensor('float32', randomNormal(4 * 3 * 3, 92, 1, 2), [1, 4, 3, 3]);
    expectFloat32Close((await session.run({ input })).output, (await onWasm('group-norm-near-miss', { input })).output);
    expect(session.plan().leftToOrt).toEqual([
      { node: "InstanceNormalization 'norm'", kind: 'GroupNorm', reason: "'group_scale' is [2, 2], not all 1" },
    ]);
  });

  it('a residual that turns out to broadcast at run time: ORT runs the Add (and the Relu after it); one that does not is fused', async () => {
    const session = await spliced('residual-input');
    const input = new ort.Tensor('float32', randomNormal(4 * 5 * 5, 93), [1, 4, 5, 5]);
    for (const residualDims of [
      [1, 4, 5, 5],
      [1, 4, 1, 1],
      [1, 4, 5, 5],
    ]) {
      const residual = new ort.Tensor(
        'float32',
        randomNormal(
          residualDims.reduce((a, b) => a * b),
          94,
          0,
          2,
        ),
        residualDims,
      );
      const { output } = await session.run({ input, residual });
      expectFloat32Close(output, (await onWasm('residual-input', { input, residual })).output);
      const step = session.plan().steps[1];
      expect(step).toMatchObject({ runs: 'library', residualPosition: 'before-activation' });
      expect(step.runs === 'library' && step.residualRanInOrt === true).toBe(residualDims[3] === 1);
    }
  });
});

describe('bad input', () => {
  it.each([
    ['random bytes', async () => randomUniform(64, 3, 0, 1).map((v) => v * 255), /not an ONNX model this library reads/],
    ['a truncated TransformerNet', async () => (await fixture('transformer-net')).slice(0, 50_000), /runs past the end/],
  ])('%s: an InstanceNormError with code invalid-model, naming what is wrong', async (_name, bytes, message) => {
    const data = await bytes();
    const model = data instanceof Float32Array ? Uint8Array.from(data) : data;
    const error = await createSession(ort, model, WEBGPU).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InstanceNormError);
    expect((error as InstanceNormError).code).toBe('invalid-model');
    expect((error as Error).message).toMatch(message);
  });

  it('a model given by URL is fetched and runs', async () => {
    const session = await createSession(ort, '/test/fixtures/onnx/instance-norm-relu.onnx', WEBGPU);
    sessions.push(session);
    expect(session.plan().mode).toBe('spliced');
  });

  it('feeds: a missing one gets ORT’s message; a mis-shaped one ORT reads first, ORT’s error', async () => {
    const session = await spliced('instance-norm-1d');
    await expect(session.run({})).rejects.toThrow("input 'input' is missing in 'feeds'.");
    const rank2 = new ort.Tensor('float32', new Float32Array(4 * 8), [4, 8]);
    await expect(session.run({ input: rank2 })).rejects.toThrow('Invalid rank for input: input Got: 2 Expected: 3');
    // The session runs again after a failed run (ORT's session of the failed stretch is made anew).
    const input = new ort.Tensor('float32', randomNormal(4 * 8, 95), [1, 4, 8]);
    expectFloat32Close((await session.run({ input })).output, (await onWasm('instance-norm-1d', { input })).output);
  });

  it('feeds the library reads first: the model’s declared dims and type are checked, as ORT would', async () => {
    const session = await spliced('diffusion-block');
    const wrongChannels = new ort.Tensor('float32', new Float32Array(32 * 16), [1, 32, 4, 4]);
    const error = await session.run({ input: wrongChannels }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InstanceNormError);
    expect((error as Error).message).toMatch(/input 'input' has dims \[1, 32, 4, 4\], where the model declares \[N, 64, H, W\]/);
    const halvesFed = new ort.Tensor('float16', new Uint16Array(64 * 16), [1, 64, 4, 4]);
    await expect(session.run({ input: halvesFed })).rejects.toThrow(/is float16, where the model's constants are float32/);
  });

  it('a model ORT cannot load: ORT’s error, and the sessions made before it released', async () => {
    const made: ort.InferenceSession[] = [];
    const released: ort.InferenceSession[] = [];
    const counting = {
      ...ort,
      InferenceSession: {
        create: async (...args: Parameters<typeof ort.InferenceSession.create>) => {
          const session = await ort.InferenceSession.create(...args);
          made.push(session);
          const release = session.release.bind(session);
          session.release = () => {
            released.push(session);
            return release();
          };
          return session;
        },
      },
    } as unknown as typeof ort;
    await expect(createSession(counting, await fixture('unknown-op'), WEBGPU)).rejects.toThrow(/NoSuchOp|com\.example/);
    expect(made.length).toBeGreaterThan(0);
    expect(released).toEqual(made);
  });

  it('options: unknown keys and kinds are refused by name; run() after release() throws', async () => {
    const bytes = await fixture('instance-norm-relu');
    await expect(createSession(ort, bytes, WEBGPU, { leaveToORT: [] } as never)).rejects.toThrow(/unknown key 'leaveToORT'/);
    await expect(createSession(ort, bytes, WEBGPU, { leaveToOrt: ['BatchNorm'] } as never)).rejects.toThrow(
      /leaveToOrt has 'BatchNorm'; the kinds are/,
    );
    await expect(createSession({} as never, bytes, WEBGPU)).rejects.toThrow(/ONNX Runtime Web's module/);
    const session = await createSession(ort, bytes, WEBGPU);
    await session.release();
    const input = new ort.Tensor('float32', new Float32Array(16), [1, 1, 4, 4]);
    await expect(session.run({ input })).rejects.toMatchObject({ code: 'destroyed' });
  });

  it('sessions created at once are created one after the other (ORT refuses concurrent WebGPU creation)', async () => {
    const [a, b] = await Promise.all([spliced('instance-norm-1d'), spliced('residual-input')]);
    expect([a.plan().mode, b.plan().mode]).toEqual(['spliced', 'spliced']);
  });
});

describe('lifetimes', () => {
  it('1,000 runs (outputs on the CPU and on the GPU) leave the live buffers as they were after the first; release() frees the library’s', async () => {
    const cpu = await createSession(ort, await fixture('group-norm-near-miss'), WEBGPU);
    const gpu = await createSession(ort, await fixture('group-norm-near-miss'), {
      ...WEBGPU,
      preferredOutputLocation: 'gpu-buffer',
    });
    const device = (ort.env.webgpu as unknown as { device: GPUDevice }).device;
    const watch = watchBuffers(device); // ORT's and the library's
    const input = new ort.Tensor('float32', randomNormal(4 * 3 * 3, 101, 1, 2), [1, 4, 3, 3]);
    const expected = (await onWasm('group-norm-near-miss', { input })).output;
    const readings: number[][] = [];
    try {
      for (let run = 1; run <= 1000; run++) {
        const session = run % 2 ? cpu : gpu;
        const { output } = await session.run({ input });
        if (run % 250 === 1 || run % 250 === 2) {
          const values = output.location === 'gpu-buffer' ? await output.getData() : output.data;
          expectFloat32Close(new ort.Tensor('float32', values as Float32Array, output.dims), expected);
        }
        output.dispose();
        if (run === 10 || run === 1000) {
          await device.queue.onSubmittedWorkDone();
          readings.push([watch.live.size, [...watch.live].filter((b) => libraryBuffer(b.label)).length]);
        }
      }
      expect(readings[1]).toEqual(readings[0]);
      await cpu.release();
      await gpu.release();
      expect([...watch.live].filter((b) => libraryBuffer(b.label)).length).toBe(0);
    } finally {
      watch.stop();
    }
  });
});
