/**
 * "Run an ONNX model": the visitor's ONNX model (or the repository's seeded test model) run on
 * an image through ONNX Runtime Web alone and through webgpu-instancenorm/onnxruntime's
 * createSession, with the same session options; both outputs drawn, their difference, the time
 * of a run, and session.plan(). Loaded by a dynamic import() when the section is opened: it
 * carries ONNX Runtime Web.
 */
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import * as ort from 'onnxruntime-web/webgpu';
import { createSession, type SplicedSession } from '../src/onnxruntime';
import testModelUrl from '../test/fixtures/onnx/transformer-net.onnx?url';
import { drawImageTensor, tensorFromFile, tensorFromSource } from './image-io';
import { describeFailure } from './messages';
import { renderPlan } from './onnx-plan';
import { IMAGE_SIZE, SAMPLE_IMAGES } from './sample-images';

export interface OnnxPage {
  /** Whether this page has WebGPU (the library's own instance runs on it). */
  readonly gpu: boolean;
  /** `?quick`: one timed run per side. */
  readonly quick: boolean;
  /** Runs `task` once no other timing (the benchmark, the comparison) is running. */
  readonly exclusive: <T>(task: () => Promise<T>) => Promise<T>;
  /** Called as an action starts; what it returns is called once the action succeeded. */
  readonly onStart: () => () => void;
  readonly onError: (error: unknown) => void;
}

/** The sizes offered where a model leaves H and W free. */
const SIZES = [16, 32, 64, 128, 224, 256];
const DEFAULT_SIZE = 224;
const TEST_MODEL = { name: 'transformer-net.onnx (the seeded test model)', input: 'input' };

/**
 * The session options of both sides: ORT's WebGPU EP, and its wasm EP where WebGPU is missing
 * (there createSession runs the model as one plain ORT session, and its plan says why).
 */
const SESSION_OPTIONS = { executionProviders: ['webgpu', 'wasm'] };

interface Model {
  readonly name: string;
  readonly bytes: Uint8Array;
}

interface Sessions {
  readonly model: Model;
  readonly alone: ort.InferenceSession;
  readonly spliced: SplicedSession<ort.Tensor>;
  /** ORT on its wasm EP, made when the reference is first asked for. */
  reference?: ort.InferenceSession;
}

type ImageChoice = { readonly kind: 'sample'; readonly index: number } | { readonly kind: 'file'; readonly file: File };

/** What the model takes: one float32 image [N, 3, H, W], N = 1, H and W fixed by the model or chosen. */
interface InputSpec {
  readonly name: string;
  readonly dims: readonly [number, number, number, number];
  /** Whether H and W come from the size control (the model leaves them free). */
  readonly free: boolean;
}

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const root = document.documentElement;
const paint = () => new Promise((resolve) => setTimeout(resolve));

export function setUpOnnxSection(page: OnnxPage): void {
  ort.env.wasm.numThreads = 1; // threads need a cross-origin-isolated page, which a static host seldom gives
  ort.env.wasm.wasmPaths = { wasm: ortWasmUrl };

  let model: Model | undefined;
  let sessions: Sessions | undefined;
  let image: ImageChoice = { kind: 'sample', index: 0 };
  /** The input of the current model, once a run has read it. */
  let modelInput: InputSpec | undefined;

  const status = element('onnx-status');
  const run = element<HTMLButtonElement>('onnx-run');
  const imageSelect = element<HTMLSelectElement>('onnx-image');
  const sizeSelect = element<HTMLSelectElement>('onnx-size');
  const reference = element<HTMLInputElement>('onnx-reference');
  element('onnx-reference-label').hidden = !page.gpu;
  element('onnx-what').textContent = page.gpu
    ? `Here: ONNX Runtime Web ${ort.env.versions.web ?? '?'} on its WebGPU EP, alone and with this library's kernels on the same GPUDevice. A run's time is from run() until its outputs are on the CPU. ORT alone runs first: the kernels its WebGPU EP compiles stay on the device, and the spliced session's stretches reuse them, so its first run is the one that compiles; compare the later runs.`
    : `WebGPU is unavailable here: both sides run on ONNX Runtime Web ${ort.env.versions.web ?? '?'}'s wasm EP (CPU), and createSession runs the model as one plain ONNX Runtime session, its plan saying why. A run's time is from run() until its outputs are ready.`;
  imageSelect.append(...SAMPLE_IMAGES.map((sample, i) => new Option(sample.name, String(i), false, i === 0)));
  sizeSelect.append(
    ...SIZES.map(
      (side) => new Option(`${side} × ${side}${side === 224 ? ' (the zoo’s)' : ''}`, String(side), false, side === DEFAULT_SIZE),
    ),
  );

  /** Runs an action of this section: one at a time with the page's other timings, its failure shown by the page. */
  const action = (task: () => Promise<void>) => {
    const succeeded = page.onStart();
    run.disabled = true;
    return page
      .exclusive(task)
      .then(succeeded, (error) => {
        root.dataset.onnx = 'failed';
        status.textContent = 'Failed: see the message at the top of the page.';
        page.onError(error);
      })
      .finally(() => {
        run.disabled = model === undefined;
      });
  };

  const useModel = (name: string, bytes: () => Promise<Uint8Array>) =>
    action(async () => {
      status.textContent = `Reading ${name}…`;
      const next = { name, bytes: await bytes() };
      await release();
      model = next;
      modelInput = undefined;
      element('onnx-model-name').textContent = `${name}, ${formatBytes(next.bytes.byteLength)}`;
      element('onnx-plan').replaceChildren();
      status.textContent = 'Ready: run both.';
      root.dataset.onnx = 'model';
    });

  const release = async () => {
    const old = sessions;
    sessions = undefined;
    if (!old) return;
    await Promise.allSettled([old.alone.release(), old.spliced.release(), old.reference?.release()]);
  };

  const modelFile = element<HTMLInputElement>('onnx-model-file');
  const pickModel = (file: File) => void useModel(file.name, async () => new Uint8Array(await file.arrayBuffer()));
  modelFile.addEventListener('change', () => {
    if (modelFile.files?.[0]) pickModel(modelFile.files[0]);
  });
  const testModel = element<HTMLButtonElement>('onnx-test-model');
  testModel.addEventListener('click', () => {
    // Random weights: its output is no picture of a style, so it is shown stretched, from inputs in 0-1.
    element<HTMLSelectElement>('onnx-range').value = '1';
    element<HTMLSelectElement>('onnx-display').value = 'stretch';
    void useModel(TEST_MODEL.name, async () => {
      const response = await fetch(testModelUrl);
      if (!response.ok) throw new Error(`the test model could not be read from this page's files (${response.status})`);
      return new Uint8Array(await response.arrayBuffer());
    });
  });

  const pickImage = (file: File) => {
    image = { kind: 'file', file };
    let option = [...imageSelect.options].find((o) => o.value === 'file');
    if (!option) {
      option = new Option('', 'file');
      imageSelect.append(option);
    }
    option.textContent = `Your file: ${file.name}`;
    imageSelect.value = 'file';
    redrawInput();
  };
  let lastFile: File | undefined;
  imageSelect.addEventListener('change', () => {
    if (imageSelect.value === 'file' && lastFile) image = { kind: 'file', file: lastFile };
    else image = { kind: 'sample', index: Number(imageSelect.value) };
    redrawInput();
  });
  const imageFile = element<HTMLInputElement>('onnx-image-file');
  imageFile.addEventListener('change', () => {
    const file = imageFile.files?.[0];
    if (file) {
      lastFile = file;
      pickImage(file);
    }
  });
  for (const id of ['onnx-range', 'onnx-size']) element(id).addEventListener('change', () => redrawInput());

  // A file dropped anywhere on the section: an .onnx file is the model, anything else the image.
  const section = element('onnx');
  section.addEventListener('dragover', (event) => {
    event.preventDefault();
    section.classList.add('dragging');
  });
  section.addEventListener('dragleave', () => section.classList.remove('dragging'));
  section.addEventListener('drop', (event) => {
    event.preventDefault();
    section.classList.remove('dragging');
    const file = event.dataTransfer?.files[0];
    if (!file) return;
    if (/\.onnx$/i.test(file.name) || !file.type.startsWith('image/')) pickModel(file);
    else {
      lastFile = file;
      pickImage(file);
    }
  });

  /** The image at `width` × `height`, values in [0, 1]. */
  const imagePixels = async (width: number, height: number): Promise<Float32Array> => {
    if (image.kind === 'file') return tensorFromFile(image.file, width, height);
    const canvas = document.createElement('canvas');
    drawImageTensor(canvas, SAMPLE_IMAGES[image.index].pixels(), IMAGE_SIZE, IMAGE_SIZE, 0, 1);
    return tensorFromSource(canvas, IMAGE_SIZE, IMAGE_SIZE, width, height);
  };

  const range = () => Number(element<HTMLSelectElement>('onnx-range').value);

  /**
   * The image as the model gets it, drawn, and its values (0-1 or 0-255): at the model's size,
   * or the chosen one where the model leaves H and W free or is not read yet.
   */
  const showInput = async (): Promise<Float32Array> => {
    const side = Number(sizeSelect.value);
    const [height, width] = modelInput && !modelInput.free ? modelInput.dims.slice(2) : [side, side];
    let pixels: Float32Array;
    try {
      pixels = await imagePixels(width, height);
    } catch (error) {
      if (image.kind !== 'file') throw error;
      throw new Error(describeFailure(error, { kind: 'file', name: image.file.name }), { cause: error });
    }
    drawImageTensor(element('onnx-input'), pixels, width, height, 0, 1);
    const scale = range();
    return scale === 1 ? pixels : pixels.map((v) => v * scale);
  };
  const redrawInput = () => {
    const since = page.onStart();
    showInput().then(since, (error) => page.onError(error));
  };

  /** The sessions of the current model, made once per model (ORT alone first, then createSession). */
  const sessionsFor = async (current: Model): Promise<Sessions> => {
    if (sessions?.model === current) return sessions;
    await release();
    status.textContent = 'Creating ONNX Runtime’s session…';
    await paint();
    const alone = await ort.InferenceSession.create(current.bytes, SESSION_OPTIONS).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`“${current.name}” could not be loaded by ONNX Runtime Web: ${message}`, { cause: error });
    });
    status.textContent = 'Creating the spliced session (createSession)…';
    await paint();
    try {
      const spliced = await createSession(ort, current.bytes, SESSION_OPTIONS);
      sessions = { model: current, alone, spliced };
      return sessions;
    } catch (error) {
      await alone.release();
      throw error;
    }
  };

  run.addEventListener('click', () => {
    if (!model) return;
    const current = model;
    void action(async () => {
      root.dataset.onnx = 'running';
      const s = await sessionsFor(current);
      const spec = inputSpec(s.alone, Number(sizeSelect.value));
      modelInput = spec;
      const values = await showInput();
      const input = new ort.Tensor('float32', values, [...spec.dims]);
      const feeds = { [spec.name]: input };
      const outputName = s.alone.outputNames[0];
      element('onnx-code').textContent = callsCode(current, spec, range(), outputName);

      const repetitions = page.quick ? 1 : 3;
      const sides = [
        {
          id: 'ort',
          label: 'ONNX Runtime alone',
          session: s.alone as { run(f: typeof feeds): Promise<Record<string, ort.Tensor>> },
        },
        { id: 'library', label: 'with this library', session: s.spliced },
      ].map((side) => ({ ...side, first: 0, times: [] as number[], output: undefined as ort.Tensor | undefined }));
      const timedRun = async (side: (typeof sides)[number]) => {
        const started = performance.now();
        const outputs = await side.session.run(feeds);
        const ms = performance.now() - started;
        side.output = outputs[outputName];
        return ms;
      };
      for (const side of sides) {
        status.textContent = `First run, ${side.label} (it compiles its kernels)…`;
        await paint();
        side.first = await timedRun(side);
      }
      for (let rep = 0; rep < repetitions; rep++) {
        for (const side of sides) {
          status.textContent = `Run ${rep + 1} of ${repetitions}, ${side.label}…`;
          await paint();
          side.times.push(await timedRun(side));
        }
      }
      for (const side of sides) {
        element(`onnx-${side.id}-time`).textContent =
          `first run ${formatMs(side.first)}, then ${formatMs(median(side.times))} a run` +
          (repetitions > 1 ? ` (median of ${repetitions})` : '');
      }

      const [theirs, ours] = sides.map((side) => side.output as ort.Tensor);
      let referenceLine = '';
      const check = element('onnx-check');
      delete check.dataset.referenceOrt;
      delete check.dataset.referenceLibrary;
      if (page.gpu && reference.checked) {
        status.textContent = 'Running the model on ORT’s wasm EP (CPU), the reference…';
        await paint();
        s.reference ??= await ort.InferenceSession.create(current.bytes, { executionProviders: ['wasm'] });
        const cpu = (await s.reference.run(feeds))[outputName];
        const [ortError, libraryError] = [theirs, ours].map((t) => maxAbsDifference(t, cpu));
        check.dataset.referenceOrt = String(ortError);
        check.dataset.referenceLibrary = String(libraryError);
        referenceLine = ` Against ORT's wasm EP (CPU): ONNX Runtime alone ${formatError(ortError)}, with this library ${formatError(libraryError)}.`;
      }
      showOutputs(theirs, ours, referenceLine);
      renderPlan(element('onnx-plan'), s.spliced.plan());
      const size = spec.free ? 'the size chosen above' : 'the model’s own size';
      status.textContent = `Done: input [${spec.dims.join(', ')}] (${size}), ${repetitions} timed run${repetitions > 1 ? 's' : ''} a side after a first.`;
      root.dataset.onnx = 'done';
    });
  });

  const showOutputs = (theirs: ort.Tensor, ours: ort.Tensor, referenceLine: string) => {
    const check = element('onnx-check');
    const a = theirs.data as Float32Array;
    const b = ours.data as Float32Array;
    if (theirs.dims.join() !== ours.dims.join()) {
      throw new Error(
        `the outputs differ in dims: [${theirs.dims.join(', ')}] alone, [${ours.dims.join(', ')}] with the library`,
      );
    }
    const difference = maxAbsDifference(theirs, ours);
    const scale = a.reduce((m, v) => (Number.isFinite(v) ? Math.max(m, Math.abs(v)) : m), 0);
    check.dataset.maxAbs = String(difference);
    check.dataset.scale = String(scale);
    check.textContent =
      `max |with this library − ONNX Runtime alone| = ${formatError(difference)} over ${a.length} values ` +
      `[${theirs.dims.join(', ')}]; the largest |value| of ORT's output is ${Number(scale.toPrecision(4))}.${referenceLine}`;

    const [n, c, h, w] = theirs.dims;
    const canvases = ['onnx-ort', 'onnx-library', 'onnx-difference'].map((id) => element<HTMLCanvasElement>(id));
    if (theirs.dims.length !== 4 || n !== 1 || c !== 3) {
      for (const canvas of canvases) canvas.getContext('2d')?.clearRect(0, 0, canvas.width, canvas.height);
      element('onnx-difference-scale').textContent = `(the output [${theirs.dims.join(', ')}] is not one RGB image: not drawn)`;
      return;
    }
    const [low, high] = element<HTMLSelectElement>('onnx-display').value === 'stretch' ? finiteRange(a) : [0, range()];
    drawImageTensor(canvases[0], a, w, h, low, high);
    drawImageTensor(canvases[1], b, w, h, low, high);
    const plane = h * w;
    const perPixel = new Float32Array(3 * plane);
    for (let i = 0; i < plane; i++) {
      let worst = 0;
      for (let k = 0; k < 3; k++) {
        const d = Math.abs(a[k * plane + i] - b[k * plane + i]);
        worst = Number.isNaN(d) || Number.isNaN(worst) ? Number.NaN : Math.max(worst, d);
      }
      perPixel[i] = perPixel[plane + i] = perPixel[2 * plane + i] = worst;
    }
    const top = Number.isFinite(difference) && difference > 0 ? difference : 1;
    drawImageTensor(canvases[2], perPixel, w, h, 0, top);
    element('onnx-difference-scale').textContent =
      difference === 0 ? '(identical: black)' : `(black 0, white ${formatError(difference)}; magenta NaN)`;
  };

  element<HTMLInputElement>('onnx-model-file').disabled = false;
  testModel.disabled = false;
  status.textContent = 'Ready: drop a model (or use the test model), then run both.';
  root.dataset.onnx = 'ready';
  redrawInput();
}

/** The model's one image input, read from ORT's metadata. */
function inputSpec(session: ort.InferenceSession, side: number): InputSpec {
  if (session.inputNames.length !== 1) {
    throw new Error(
      `this section feeds one image, and the model has ${session.inputNames.length} inputs (${session.inputNames.join(', ')})`,
    );
  }
  const metadata = session.inputMetadata[0];
  const name = session.inputNames[0];
  if (!metadata.isTensor) throw new Error(`the model's input '${name}' is not a tensor: this section feeds float32 images`);
  if (metadata.type !== 'float32') {
    throw new Error(`the model's input '${name}' is ${metadata.type}: this section feeds float32 images`);
  }
  const shape = metadata.shape;
  const fixed = (d: number | string | undefined) => (typeof d === 'number' && d > 0 ? d : undefined);
  if (shape.length !== 4 || (fixed(shape[1]) ?? 3) !== 3 || (fixed(shape[0]) ?? 1) !== 1) {
    throw new Error(`the model's input '${name}' is [${shape.join(', ')}]: this section feeds one RGB image, [1, 3, H, W]`);
  }
  const [height, width] = [fixed(shape[2]), fixed(shape[3])];
  return { name, dims: [1, 3, height ?? side, width ?? side], free: height === undefined || width === undefined };
}

/** The calls the page made, as code. */
function callsCode(model: Model, spec: InputSpec, range: number, output: string): string {
  const name = model.name.startsWith('transformer-net.onnx') ? 'transformer-net.onnx' : model.name;
  return (
    `import * as ort from 'onnxruntime-web/webgpu';\n` +
    `import { createSession } from 'webgpu-instancenorm/onnxruntime';\n\n` +
    `const options = { executionProviders: ['webgpu', 'wasm'] };   // wasm where WebGPU is missing\n` +
    `const model = new Uint8Array(await file.arrayBuffer());       // ${name}\n` +
    `const alone = await ort.InferenceSession.create(model, options);   // ONNX Runtime alone\n` +
    `const session = await createSession(ort, model, options);          // the one line that changes\n\n` +
    `// pixels: Float32Array, NCHW RGB, values 0-${range}\n` +
    `const ${safeName(spec.name)} = new ort.Tensor('float32', pixels, [${spec.dims.join(', ')}]);\n` +
    `const expected = (await alone.run({ ${feedKey(spec.name)} }))${property(output)};\n` +
    `const actual = (await session.run({ ${feedKey(spec.name)} }))${property(output)};\n` +
    `console.log(session.plan());   // what ran where, and why\n`
  );
}

const safeName = (name: string) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : 'input');
const feedKey = (name: string) => (safeName(name) === name ? name : `${JSON.stringify(name)}: input`);
const property = (name: string) => (/^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`);

/** Largest |a − b| over the two tensors' values; NaN where either holds a NaN the other does not match. */
function maxAbsDifference(a: ort.Tensor, b: ort.Tensor): number {
  const x = a.data as Float32Array;
  const y = b.data as Float32Array;
  if (x.length !== y.length) return Number.NaN;
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(x[i]) && Number.isNaN(y[i])) continue;
    const d = Math.abs(x[i] - y[i]);
    if (Number.isNaN(d)) return Number.NaN;
    worst = Math.max(worst, d);
  }
  return worst;
}

function finiteRange(values: Float32Array): [number, number] {
  let low = Infinity;
  let high = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    low = Math.min(low, v);
    high = Math.max(high, v);
  }
  return low <= high ? [low, high] : [0, 1];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const formatMs = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms >= 10 ? ms.toFixed(0) : ms.toFixed(1)} ms`);
const formatError = (e: number) => (Number.isNaN(e) ? 'NaN' : e === 0 ? '0' : e.toExponential(1));
const formatBytes = (n: number) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MB` : `${(n / 1024).toFixed(0)} KB`);
