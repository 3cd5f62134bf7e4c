import { InstanceNorm, instanceNormCpu } from '../src';
import { drawChart, runBenchmark } from './benchmark-chart';
import { COLOR_SPACES, type ColorSpace } from './color-spaces';
import { drawHeatMap, drawRgb, tensorFromFile, tensorFromSource } from './image-io';
import { IMAGE_SIZE, SAMPLE_IMAGES } from './sample-images';
import { IMAGE_SHAPE, type Transfer, transferStyle } from './style-transfer';

// The page: three panels driven by one InstanceNorm. `data-state` on <html> tells automated
// checks when the first result is drawn ('ready') or what failed ('error').

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const PLANE = IMAGE_SIZE * IMAGE_SIZE;

// The sample images shown first.
const FIRST_SAMPLE = { content: 0, style: 2 };

const state = {
  content: SAMPLE_IMAGES[FIRST_SAMPLE.content].pixels(),
  style: SAMPLE_IMAGES[FIRST_SAMPLE.style].pixels(),
  space: 'lab' as ColorSpace,
  strength: 1,
  epsilon: 1e-5,
};

async function main(): Promise<void> {
  const norm = await InstanceNorm.create();
  if (norm.backend === 'cpu') element('banner').hidden = false;
  const adapter = norm.device?.adapterInfo;
  const where = adapter
    ? `WebGPU on ${[adapter.vendor, adapter.architecture, adapter.description].filter(Boolean).join(' / ')}`
    : 'the CPU fallback';
  element('adapter').textContent = `Running on ${where}.`;
  element('bench-adapter').textContent = `Here: ${where}.`;

  const transfer = serialized(() => updateTransfer(norm));
  const inside = serialized(() => updateInside(norm));
  setUpTransferControls(transfer, inside);
  setUpInsideControls(inside);

  await transfer();
  await inside();
  document.documentElement.dataset.state = 'ready';

  const rerun = element<HTMLButtonElement>('rerun');
  const bench = async () => {
    rerun.disabled = true;
    element('bench-status').textContent = 'measuring…';
    const points = await runBenchmark(norm, () => {});
    drawChart(element('chart'), points);
    const last = points[points.length - 1];
    element('bench-status').textContent = last.gpuMs
      ? `at 512²: GPU ${last.gpuMs.toFixed(2)} ms, CPU ${last.cpuMs.toFixed(1)} ms per call`
      : `at 512²: CPU ${last.cpuMs.toFixed(1)} ms per call`;
    rerun.disabled = false;
  };
  rerun.addEventListener('click', () => void bench().catch(fail));
  await bench();
}

/** Runs `task` one at a time; a request made while it runs runs once more after it. */
function serialized(task: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let again = false;
  const run = async (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = task().finally(() => {
      running = undefined;
    });
    await running;
    if (again) {
      again = false;
      await run();
    }
  };
  return () => run().catch(fail);
}

async function updateTransfer(norm: InstanceNorm): Promise<void> {
  drawRgb(element('content'), state.content);
  drawRgb(element('style'), state.style);
  const started = performance.now();
  const result = await transferStyle(norm, state.content, state.style, state);
  element('transfer-time').textContent = `(${(performance.now() - started).toFixed(1)} ms)`;
  drawRgb(element('result'), result.rgb);
  checkLater('transfer-check', () => maxDifference(result.normalized, cpuTransfer(result)));
}

function cpuTransfer(t: Transfer): Float32Array {
  return instanceNormCpu(t.content, IMAGE_SHAPE, { epsilon: state.epsilon, scale: t.scale, bias: t.bias });
}

async function updateInside(norm: InstanceNorm): Promise<void> {
  const options = { epsilon: state.epsilon };
  const [before, after] = await Promise.all([
    norm.stats(state.content, IMAGE_SHAPE, options),
    norm.run(state.content, IMAGE_SHAPE, options),
  ]);
  const names = ['red', 'green', 'blue'];
  const row = (id: string, tensor: Float32Array, low: number, high: number, caption: (c: number) => string) => {
    const container = element(id);
    container.replaceChildren(
      ...names.map((name, c) => {
        const figure = document.createElement('figure');
        const canvas = document.createElement('canvas');
        canvas.width = IMAGE_SIZE;
        canvas.height = IMAGE_SIZE;
        drawHeatMap(canvas, tensor.subarray(c * PLANE, (c + 1) * PLANE), low, high);
        const text = document.createElement('figcaption');
        text.textContent = `${name}: ${caption(c)}`;
        figure.append(canvas, text);
        return figure;
      }),
    );
  };
  // Before: the library's statistics (std = 1 / invStd, which includes epsilon).
  row('before', state.content, 0, 1, (c) => `mean ${before.mean[c].toFixed(3)}, std ${(1 / before.invStd[c]).toFixed(3)}`);
  row('after', after, -2.5, 2.5, (c) => {
    const { mean, std } = moments(after.subarray(c * PLANE, (c + 1) * PLANE));
    return `mean ${mean.toFixed(3)}, std ${std.toFixed(3)}`;
  });
  checkLater('inside-check', () => maxDifference(after, instanceNormCpu(state.content, IMAGE_SHAPE, options)));
}

function moments(values: Float32Array): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance) };
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** Computes the CPU reference after the page has painted, and prints how far the shown result is from it. */
function checkLater(id: string, difference: () => number): void {
  setTimeout(() => {
    element(id).textContent = `max |shown − CPU reference| = ${difference().toExponential(2)}`;
  }, 0);
}

function setUpTransferControls(transfer: () => Promise<void>, inside: () => Promise<void>): void {
  const space = element<HTMLSelectElement>('space');
  space.append(...Object.entries(COLOR_SPACES).map(([value, label]) => new Option(label, value, false, value === state.space)));
  space.addEventListener('change', () => {
    state.space = space.value as ColorSpace;
    void transfer();
  });
  const strength = element<HTMLInputElement>('strength');
  strength.addEventListener('input', () => {
    state.strength = Number(strength.value);
    element('strength-value').textContent = state.strength.toFixed(2);
    void transfer();
  });
  for (const role of ['content', 'style'] as const) {
    const select = element<HTMLSelectElement>(`${role}-sample`);
    select.append(...SAMPLE_IMAGES.map((image, i) => new Option(image.name, String(i), false, i === FIRST_SAMPLE[role])));
    const use = (tensor: Float32Array) => {
      state[role] = tensor;
      void transfer();
      if (role === 'content') void inside();
    };
    select.addEventListener('change', () => use(SAMPLE_IMAGES[Number(select.value)].pixels()));
    const file = element<HTMLInputElement>(`${role}-file`);
    file.addEventListener('change', () => {
      if (file.files?.[0]) void tensorFromFile(file.files[0]).then(use, fail);
    });
    const drop = element(`${role}-drop`);
    drop.addEventListener('dragover', (event) => {
      event.preventDefault();
      drop.classList.add('dragging');
    });
    drop.addEventListener('dragleave', () => drop.classList.remove('dragging'));
    drop.addEventListener('drop', (event) => {
      event.preventDefault();
      drop.classList.remove('dragging');
      const dropped = event.dataTransfer?.files[0];
      if (dropped) void tensorFromFile(dropped).then(use, fail);
    });
  }
  element('webcam').addEventListener('click', () => void startWebcam(transfer).catch(fail));
}

/** Streams the webcam into the content panel, one transfer per animation frame while keeping up. */
async function startWebcam(transfer: () => Promise<void>): Promise<void> {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
  const video = document.createElement('video');
  video.srcObject = stream;
  video.muted = true;
  await video.play();
  const frame = async () => {
    state.content = tensorFromSource(video, video.videoWidth, video.videoHeight);
    await transfer();
    requestAnimationFrame(() => void frame());
  };
  await frame();
}

function setUpInsideControls(inside: () => Promise<void>): void {
  const epsilon = element<HTMLInputElement>('epsilon');
  const show = () => {
    state.epsilon = 10 ** Number(epsilon.value);
    element('epsilon-value').textContent = state.epsilon.toExponential(1);
  };
  show();
  epsilon.addEventListener('input', () => {
    show();
    void inside();
  });
}

function fail(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  const box = element('error');
  box.hidden = false;
  box.textContent = `Error: ${message}`;
  document.documentElement.dataset.state = 'error';
}

main().catch(fail);
