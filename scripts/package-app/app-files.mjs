// The files of the empty Vite + TypeScript app that `npm run check:package` installs the packed
// library into: what a new user writes after the README's Install section (the package, and
// @webgpu/types with `"types": ["@webgpu/types"]`), strict, with no skipLibCheck. Kept as strings
// here rather than as a main.ts on disk: the repository's own typecheck covers scripts/, where an
// import of 'webgpu-instancenorm' resolves to nothing before the build.
//
// The page reports what it computed as JSON in document.body.dataset.result (or the error in
// dataset.error); check-package.mjs compares it with values it works out by hand.

export const INPUT = [1, 2, 3, 4];
export const SHAPE = [1, 1, 4];

export const appFiles = {
  'package.json': `${JSON.stringify(
    {
      name: 'instancenorm-consumer',
      private: true,
      version: '0.0.0',
      type: 'module',
      scripts: { typecheck: 'tsc -p tsconfig.json', build: 'vite build' },
    },
    null,
    2,
  )}\n`,

  'tsconfig.json': `${JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2022',
        module: 'ESNext',
        moduleResolution: 'bundler',
        lib: ['ES2022', 'DOM', 'DOM.Iterable'],
        types: ['@webgpu/types'],
        strict: true,
        skipLibCheck: false,
        noEmit: true,
        isolatedModules: true,
        noUnusedLocals: true,
      },
      include: ['main.ts'],
    },
    null,
    2,
  )}\n`,

  'index.html': `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>pending</title>
  </head>
  <body>
    <script type="module" src="/main.ts"></script>
  </body>
</html>
`,

  'main.ts': `import {
  InstanceNorm,
  InstanceNormError,
  type InstanceNormOptions,
  instanceNormCpu,
  type TuneResult,
} from 'webgpu-instancenorm';

/** What the page found, read by check-package.mjs. */
interface Report {
  backend: 'webgpu' | 'cpu';
  adapter: string;
  /** norm.run(x, [1, 1, 4]): the default epsilon, 1e-5. */
  run: number[];
  /** run()'s result, written to a buffer by writeBuffer and normalized again by encode() with epsilon 0. */
  encode: number[] | null;
  /** instanceNormCpu(x, [1, 1, 4], { epsilon: 0 }). */
  cpu: number[];
  /** A bad shape given to instanceNormCpu threw an InstanceNormError. */
  instanceNormError: boolean;
  /** The nhwc run with per-channel scale and bias (all zero scale: all outputs equal the bias). */
  nhwc: number[];
  tuned: string | null;
  planWindows: number | null;
}

async function main(): Promise<Report> {
  const x = new Float32Array(${JSON.stringify(INPUT)});
  const norm: InstanceNorm = await InstanceNorm.create({ fallback: 'cpu', strategy: 'auto' });
  const cpu: Float32Array = instanceNormCpu(x, ${JSON.stringify(SHAPE)}, { epsilon: 0 });
  let instanceNormError = false;
  try {
    instanceNormCpu(x, [2, 3]);
  } catch (error) {
    instanceNormError = error instanceof InstanceNormError;
  }
  const options: InstanceNormOptions = {
    layout: 'nhwc',
    epsilon: 1e-5,
    scale: new Float32Array(3),
    bias: new Float32Array([1, 2, 3]),
  };
  const nhwc: Float32Array = await norm.run(Float32Array.from({ length: 12 }, (_, i) => i), [1, 2, 2, 3], options);
  const report: Report = {
    backend: norm.backend,
    adapter: '',
    run: Array.from(await norm.run(x, ${JSON.stringify(SHAPE)})),
    encode: null,
    cpu: Array.from(cpu),
    instanceNormError,
    nhwc: Array.from(nhwc),
    tuned: null,
    planWindows: null,
  };

  if (norm.backend === 'webgpu' && norm.device) {
    const device: GPUDevice = norm.device;
    report.adapter = [device.adapterInfo.vendor, device.adapterInfo.architecture, device.adapterInfo.description]
      .filter(Boolean)
      .join(' ');
    const bytes = x.byteLength;
    const buffer: GPUBuffer = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    const output: GPUBuffer = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const readback: GPUBuffer = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    // run()'s result is a Float32Array<ArrayBuffer>, which writeBuffer takes as it is.
    device.queue.writeBuffer(buffer, 0, await norm.run(x, [1, 1, 4]));
    const encoder = device.createCommandEncoder();
    norm.encode(encoder, buffer, output, [1, 1, 4], { epsilon: 0 });
    encoder.copyBufferToBuffer(output, 0, readback, 0, bytes);
    device.queue.submit([encoder.finish()]);
    await norm.checkErrors();
    await readback.mapAsync(GPUMapMode.READ);
    report.encode = Array.from(new Float32Array(readback.getMappedRange().slice(0)));
    readback.unmap();

    // A GPUBuffer as scale, the tuner and the planner.
    const scale: GPUBuffer = device.createBuffer({ size: 12, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(scale, 0, new Float32Array([1, 1, 1]));
    const wideInput: GPUBuffer = device.createBuffer({ size: 48, usage: GPUBufferUsage.STORAGE });
    const wideOutput: GPUBuffer = device.createBuffer({ size: 48, usage: GPUBufferUsage.STORAGE });
    const scaled = device.createCommandEncoder();
    norm.encode(scaled, wideInput, wideOutput, [1, 3, 4], { scale });
    device.queue.submit([scaled.finish()]);
    await norm.checkErrors();
    const tuned: TuneResult = await norm.tune([1, 3, 4], { repetitions: 2 });
    report.tuned = \`\${tuned.strategy} (\${tuned.timing})\`;
    report.planWindows = norm.plan([1, 3, 4]).windows.length;
    for (const b of [buffer, output, readback, scale, wideInput, wideOutput]) b.destroy();
  }
  norm.destroy();
  return report;
}

main().then(
  (report) => {
    document.body.dataset.result = JSON.stringify(report);
    document.title = \`done: \${report.backend}\`;
  },
  (error: unknown) => {
    document.body.dataset.error = error instanceof Error ? \`\${error.name}: \${error.message}\\n\${error.stack}\` : String(error);
    document.title = 'error';
  },
);
`,
};

// A plain page with no bundler, as the README's Install section shows it: an import map pointing
// the package's name at its one self-contained module. Served from the app's folder (not built).
export const plainPage = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>pending</title>
    <script type="importmap">
      { "imports": { "webgpu-instancenorm": "./node_modules/webgpu-instancenorm/dist/webgpu-instancenorm.js" } }
    </script>
  </head>
  <body>
    <script type="module">
      import { InstanceNorm } from 'webgpu-instancenorm';
      try {
        const norm = await InstanceNorm.create();
        const y = await norm.run(new Float32Array(${JSON.stringify(INPUT)}), ${JSON.stringify(SHAPE)}, { epsilon: 0 });
        document.body.dataset.result = JSON.stringify({ backend: norm.backend, run: Array.from(y) });
        norm.destroy();
      } catch (error) {
        document.body.dataset.error = String(error);
      }
    </script>
  </body>
</html>
`;

// A Node ESM project's compiler options (module and moduleResolution node16, as nodenext
// projects have) for node16.ts, the apps' check that the package's types resolve there.
const NODE16_TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      target: 'ES2022',
      module: 'node16',
      moduleResolution: 'node16',
      lib: ['ES2022', 'DOM'],
      types: ['@webgpu/types'],
      strict: true,
      skipLibCheck: false,
      noEmit: true,
    },
    include: ['node16.ts'],
  },
  null,
  2,
)}\n`;

// How the TF.js and ONNX Runtime apps' main.ts ends: main()'s report, or its error, on the page.
const REPORT_ON_PAGE = `main().then(
  (report) => {
    document.body.dataset.result = JSON.stringify(report);
  },
  (error: unknown) => {
    document.body.dataset.error = error instanceof Error ? \`\${error.name}: \${error.message}\\n\${error.stack}\` : String(error);
  },
);
`;

// A fresh TensorFlow.js app (TF.js core, its WebGPU and CPU backends, layers) using
// webgpu-instancenorm/tfjs as the README's "With TensorFlow.js" section shows: strict, with no
// skipLibCheck, so that the entry point's declarations are checked against TF.js's own. The page
// reports as the other app does; on WebGPU with epsilon 0, [1, 2, 3, 4] normalizes to
// (x - 2.5) / sqrt(1.25), through the op, groupNorm (G = 1 over 4 channels), a Keras layer, and
// the gradient of the sum (zero).
export const tfjsAppFiles = {
  'package.json': `${JSON.stringify({ name: 'instancenorm-tfjs-consumer', private: true, version: '0.0.0', type: 'module' }, null, 2)}\n`,
  'tsconfig.json': appFiles['tsconfig.json'],
  'index.html': appFiles['index.html'],
  'main.ts': `import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgpu';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  groupNorm,
  InstanceNormalization,
  InstanceNormError,
  type InstanceNormOpOptions,
  instanceNorm,
  instanceNormReady,
} from 'webgpu-instancenorm/tfjs';

interface Report {
  backend: string;
  op: number[];
  group: number[];
  layer: number[];
  gradient: number[];
  instanceNormError: boolean;
}

async function main(): Promise<Report> {
  await tf.setBackend('webgpu');
  await instanceNormReady();
  const options: InstanceNormOpOptions = { epsilon: 0, dataFormat: 'channelsLast' };
  const x: tf.Tensor = tf.tensor([1, 2, 3, 4], [1, 4, 1]);
  const op = instanceNorm(x, options);
  const group = groupNorm(tf.reshape(x, [1, 1, 4]), 1, { epsilon: 0 });
  const model = tfl.sequential({ layers: [new InstanceNormalization({ inputShape: [4, 1], epsilon: 0 })] });
  const layer = model.predict(x) as tf.Tensor;
  const gradient = tf.grad((t: tf.Tensor) => tf.sum(instanceNorm(t, options)))(x);
  let instanceNormError = false;
  try {
    groupNorm(x, 3);
  } catch (error) {
    instanceNormError = error instanceof InstanceNormError && error.argument === 'groups';
  }
  const read = async (t: tf.Tensor) => Array.from(await t.data());
  return {
    backend: tf.getBackend(),
    op: await read(op),
    group: await read(group),
    layer: await read(layer),
    gradient: await read(gradient),
    instanceNormError,
  };
}

${REPORT_ON_PAGE}`,

  // A Node ESM project's view of both entries (module and moduleResolution node16, as nodenext
  // projects have): every relative import in the package's declarations must name its file, or
  // the types fail to resolve, and silently become any under skipLibCheck.
  'tsconfig.node16.json': NODE16_TSCONFIG,
  'node16.ts': `import { InstanceNorm, type InstanceNormOptions, instanceNormCpu } from 'webgpu-instancenorm';
import { groupNorm, type InstanceNormOpOptions } from 'webgpu-instancenorm/tfjs';

export const options: InstanceNormOptions = { epsilon: 1e-5, layout: 'nchw' };
export const opOptions: InstanceNormOpOptions = { epsilon: 1e-5, dataFormat: 'channelsLast' };
export const normalized: Float32Array = instanceNormCpu(new Float32Array(4), [1, 1, 4]);
export const op: typeof groupNorm = groupNorm;
// Unused, and so an error, where the package's types resolve to any.
// @ts-expect-error create() gives a Promise<InstanceNorm>, not a number
export const wrong: number = InstanceNorm.create();
`,
};

// A fresh ONNX Runtime Web app using webgpu-instancenorm/onnxruntime as the README's "With ONNX
// Runtime Web" section shows: `import * as ort from 'onnxruntime-web/webgpu'` and createSession in
// place of ort.InferenceSession.create, strict with no skipLibCheck, so that the entry point's
// declarations are checked against ORT's own (its module passed to createSession as it is). The
// page runs ORT_MODEL (a fixture of test/fixtures/onnx/, copied to the app's public/: Conv1d →
// InstanceNormalization + LeakyRelu(0.2) → Conv1d) on ORT_INPUT, spliced on ORT's WebGPU EP,
// with its output on the CPU and left on the GPU, and by ORT alone on its wasm EP; then the
// fallback to a plain session (the wasm EP) and a file that is not a model. It reports as the
// other apps do; check-package.mjs compares the outputs.
export const ORT_MODEL = 'instance-norm-1d.onnx';
export const ORT_DIMS = [1, 4, 6];
export const ORT_INPUT = Array.from({ length: 24 }, (_, i) => Math.round((3 * Math.sin(i) + i / 4) * 64) / 64);

export const ortAppFiles = {
  'package.json': `${JSON.stringify({ name: 'instancenorm-ort-consumer', private: true, version: '0.0.0', type: 'module' }, null, 2)}\n`,
  'tsconfig.json': `${JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2022',
        module: 'ESNext',
        moduleResolution: 'bundler',
        lib: ['ES2022', 'DOM', 'DOM.Iterable'],
        types: ['@webgpu/types', 'vite/client'],
        strict: true,
        skipLibCheck: false,
        noEmit: true,
        isolatedModules: true,
        noUnusedLocals: true,
      },
      include: ['main.ts'],
    },
    null,
    2,
  )}\n`,
  'index.html': appFiles['index.html'],
  'main.ts': `import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import * as ort from 'onnxruntime-web/webgpu';
import {
  createSession,
  InstanceNormError,
  type OnnxSessionPlan,
  type SplicedSession,
  type SplicedSessionOptions,
} from 'webgpu-instancenorm/onnxruntime';

interface Report {
  /** plan().mode and the steps' runners, on the WebGPU EP. */
  mode: OnnxSessionPlan['mode'];
  steps: string[];
  /** The library step's fused activation and the dims it ran on. */
  activation: string | null;
  shape: number[] | null;
  /** The spliced session's output (on the CPU), and ORT alone's on its wasm EP. */
  dims: number[];
  spliced: number[];
  alone: number[];
  /** The output left on the GPU: its location, and its values read back. */
  gpuLocation: string;
  fromGpu: number[];
  /** leaveToOrt: ['LeakyRelu']: the library step's activation then. */
  leftActivation: string | null;
  /** The wasm EP: a plain ORT session, and the plan's reason. */
  plainMode: string;
  plainReason: string;
  /** Bytes that are no model: an InstanceNormError with code 'invalid-model'. */
  invalidModel: boolean;
}

async function main(): Promise<Report> {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = { wasm: ortWasm };
  const model = new Uint8Array(await (await fetch('/${ORT_MODEL}')).arrayBuffer());
  const input = new ort.Tensor('float32', new Float32Array(${JSON.stringify(ORT_INPUT)}), ${JSON.stringify(ORT_DIMS)});
  const options = { executionProviders: ['webgpu'] };

  // was: await ort.InferenceSession.create(model, options)
  const session: SplicedSession<ort.Tensor> = await createSession(ort, model, options);
  const { output } = await session.run({ input });
  const plan: OnnxSessionPlan = session.plan();
  const library = plan.steps.find((step) => step.runs === 'library');
  await session.release();

  const onGpu = await createSession(ort, model, { ...options, preferredOutputLocation: 'gpu-buffer' });
  const left = (await onGpu.run({ input })).output;
  const gpuLocation = left.location;
  const fromGpu = Array.from((await left.getData()) as Float32Array);
  left.dispose();
  await onGpu.release();

  const leave: SplicedSessionOptions = { leaveToOrt: ['LeakyRelu'] };
  const partly = await createSession(ort, model, options, leave);
  const partlyStep = partly.plan().steps.find((step) => step.runs === 'library');
  await partly.release();

  const alone = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
  const expected = (await alone.run({ input })).output;
  await alone.release();

  const plain = await createSession(ort, model, { executionProviders: ['wasm'] });
  const plainPlan = plain.plan();
  await plain.run({ input });
  await plain.release();

  let invalidModel = false;
  try {
    await createSession(ort, new Uint8Array([1, 2, 3, 4]), options);
  } catch (error) {
    invalidModel = error instanceof InstanceNormError && error.code === 'invalid-model';
  }

  return {
    mode: plan.mode,
    steps: plan.steps.map((step) => step.runs),
    activation: library?.runs === 'library' ? library.activation : null,
    shape: library?.runs === 'library' && library.shape ? [...library.shape] : null,
    dims: [...output.dims],
    spliced: Array.from(output.data as Float32Array),
    alone: Array.from(expected.data as Float32Array),
    gpuLocation,
    fromGpu,
    leftActivation: partlyStep?.runs === 'library' ? partlyStep.activation : null,
    plainMode: plainPlan.mode,
    plainReason: plainPlan.reason ?? '',
    invalidModel,
  };
}

${REPORT_ON_PAGE}`,

  // The same entry as a Node ESM project sees it (module node16), the types real.
  'tsconfig.node16.json': NODE16_TSCONFIG,
  'node16.ts': `import * as ort from 'onnxruntime-web/webgpu';
import {
  createSession,
  type OnnxSessionPlan,
  type OnnxTakeoverKind,
  type SplicedSessionOptions,
  TAKEOVER_KINDS,
} from 'webgpu-instancenorm/onnxruntime';

export const options: SplicedSessionOptions = { leaveToOrt: ['Relu'] };
export const kinds: readonly OnnxTakeoverKind[] = TAKEOVER_KINDS;
export async function planOf(model: Uint8Array): Promise<OnnxSessionPlan> {
  const session = await createSession(ort, model, { executionProviders: ['webgpu'] }, options);
  const { output } = await session.run({ input: new ort.Tensor('float32', new Float32Array(4), [1, 1, 4]) });
  output.dispose();
  return session.plan();
}
// Unused, and so an error, where the package's types resolve to any.
// @ts-expect-error createSession() gives a Promise, not a number
export const wrong: number = createSession(ort, new Uint8Array(0));
`,
};
