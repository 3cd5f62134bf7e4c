import { adainCpu, InstanceNorm, instanceNormCpu } from '../src';
import { type BenchmarkPoint, type BenchmarkSettings, DEFAULT_BENCHMARK, drawChart, runBenchmark } from './benchmark-chart';
import { COLOR_SPACES, type ColorSpace } from './color-spaces';
import { COMPARE_CASES, caseLabel, scaledCase } from './compare-cases';
import { drawHeatMap, drawLegend, drawRgb, tensorFromFile, tensorFromSource } from './image-io';
import { describeFailure, type FailureSource } from './messages';
import { IMAGE_SIZE, SAMPLE_IMAGES } from './sample-images';
import { IMAGE_SHAPE, type Transfer, transferCode, transferStyle } from './style-transfer';

// The page: five sections driven by one InstanceNorm. On <html>, `data-state` tells automated
// checks when the first result is drawn ('ready') or that the last action failed ('error', until
// a later one succeeds); `data-progress` names the loading step; `data-bench` and `data-compare`
// are 'running' or 'done'; `data-onnx` is 'ready' (ONNX Runtime loaded), 'model' (a model read),
// 'running', 'done' or 'failed'. `?quick` in the address makes the benchmark, the comparison and
// the ONNX section's timing short (the end-to-end tests).

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const root = document.documentElement;
const PLANE = IMAGE_SIZE * IMAGE_SIZE;
const QUICK = new URLSearchParams(location.search).has('quick');
const BENCHMARK: BenchmarkSettings = QUICK ? { sides: [16, 32, 64, 128], minBatchMs: 20, batches: 3 } : DEFAULT_BENCHMARK;
const COMPARISON = QUICK ? { warmup: 1, repetitions: 3 } : { warmup: 3, repetitions: 15 };
const LEGEND = { before: [0, 1], after: [-2.5, 2.5] } as const;

// The sample images shown first.
const FIRST_SAMPLE = { content: 0, style: 2 };
type Role = 'content' | 'style';

const state = {
  content: SAMPLE_IMAGES[FIRST_SAMPLE.content].pixels(),
  style: SAMPLE_IMAGES[FIRST_SAMPLE.style].pixels(),
  space: 'lab' as ColorSpace,
  strength: 1,
  epsilon: 1e-5,
  /** The last uploaded file of each panel, for its entry in the drop-down. */
  files: {} as Partial<Record<Role, Float32Array>>,
};

let norm: InstanceNorm | undefined;
let webcam: { stop: () => void } | undefined;

function setProgress(step: string, text: string): void {
  root.dataset.progress = step;
  element('load-step').textContent = text;
}

async function main(): Promise<void> {
  // Everything that needs no device first: the page is complete but for the results.
  setUpTransferControls();
  setUpInsideControls();
  setUpComparisonSection();
  setUpOnnxSection();
  drawRgb(element('content'), state.content);
  drawRgb(element('style'), state.style);
  drawLegend(element('legend-before'), ...LEGEND.before);
  drawLegend(element('legend-after'), ...LEGEND.after);
  element('transfer-code').textContent = transferCode(state);
  drawChart(element('chart'), [], BENCHMARK.sides, { gpu: '', cpu: '' });
  setProgress('device', 'Requesting a WebGPU device…');

  const instance = await InstanceNorm.create();
  norm = instance;
  const gpu = instance.backend === 'webgpu';
  element('banner').hidden = gpu;
  const adapter = instance.device?.adapterInfo;
  const where = adapter
    ? `WebGPU on ${[adapter.vendor, adapter.architecture, adapter.description].filter(Boolean).join(' / ')}`
    : 'the CPU fallback (no WebGPU in this browser)';
  element('bench-adapter').textContent = `Here: ${where}.`;
  element('bench-swiftshader').hidden = !/swiftshader/i.test(where);
  element('footer').textContent = gpu
    ? 'Every result shown is also computed by the library’s float64 CPU reference once it is drawn; the largest difference is printed under it.'
    : 'Without WebGPU every result shown is computed by the library’s CPU fallback, which is its float64 reference itself: there is no second computation to compare it with.';
  setProgress('first-result', gpu ? 'Compiling the kernels and computing the first result…' : 'Computing the first result…');

  await transfer();
  await inside();
  element('adapter').textContent = `Running on ${where}.`;
  root.dataset.progress = 'done';
  if (root.dataset.state !== 'error') root.dataset.state = 'ready';
  setUpBenchmark(instance);
}

// ---- Errors: shown until a later action succeeds ----

// Failures so far: an action clears the error box only if none came after it started (a
// benchmark that began before a bad file must not clear that file's message).
let failures = 0;

function fail(error: unknown, source: FailureSource = { kind: 'page' }): void {
  failures++;
  const box = element('error');
  box.hidden = false;
  box.textContent = describeFailure(error, source);
  root.dataset.state = 'error';
}

/** An action started when `failures` was `since` succeeded: clears the error shown, unless a later one failed. */
function succeeded(since: number): void {
  if (failures > since) return;
  const box = element('error');
  box.hidden = true;
  box.textContent = '';
  if (root.dataset.state === 'error') root.dataset.state = 'ready';
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
  return () => {
    const since = failures;
    return run().then(
      () => succeeded(since),
      (error) => {
        fail(error);
      },
    );
  };
}

/** The GPU timings (benchmark, comparison) one at a time, so they do not time each other. */
let timing: Promise<unknown> = Promise.resolve();
function exclusive<T>(task: () => Promise<T>): Promise<T> {
  const run = timing.then(task, task);
  timing = run.catch(() => {});
  return run;
}

// ---- 1. Style transfer ----

const transfer = serialized(async () => {
  drawRgb(element('content'), state.content);
  drawRgb(element('style'), state.style);
  element('transfer-epsilon').textContent = state.epsilon.toExponential(1);
  element('transfer-code').textContent = transferCode(state);
  if (!norm) return; // drawn once the device is ready
  const started = performance.now();
  const result = await transferStyle(norm, state.content, state.style, state);
  element('transfer-time').textContent = `(${(performance.now() - started).toFixed(1)} ms)`;
  drawRgb(element('result'), result.rgb);
  const epsilon = state.epsilon;
  check('transfer-check', epsilon, () => maxDifference(result.stylized, cpuTransfer(result, epsilon)));
});

function cpuTransfer(t: Transfer, epsilon: number): Float32Array {
  return adainCpu(t.content, IMAGE_SHAPE, t.style, IMAGE_SHAPE, { epsilon });
}

function setUpTransferControls(): void {
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
    select.addEventListener('change', () => {
      if (role === 'content' && select.value !== 'webcam') stopWebcam();
      if (select.value === 'file') use(state.files[role] as Float32Array);
      else if (/^\d+$/.test(select.value)) use(SAMPLE_IMAGES[Number(select.value)].pixels());
    });
    const useFile = (file: File) => {
      tensorFromFile(file).then(
        (tensor) => {
          if (role === 'content') stopWebcam();
          state.files[role] = tensor;
          showInSelect(role, 'file', `Your file: ${file.name}`);
          use(tensor);
        },
        (error) => fail(error, { kind: 'file', name: file.name }),
      );
    };
    const input = element<HTMLInputElement>(`${role}-file`);
    input.addEventListener('change', () => {
      if (input.files?.[0]) useFile(input.files[0]);
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
      if (dropped) useFile(dropped);
    });
  }
  element('webcam').addEventListener('click', () => {
    if (webcam) {
      stopWebcam();
      const select = element<HTMLSelectElement>('content-sample');
      select.value = String(FIRST_SAMPLE.content);
      select.dispatchEvent(new Event('change'));
    } else {
      startWebcam().catch((error) => fail(error, { kind: 'webcam' }));
    }
  });
}

/** Selects (adding it if needed) the drop-down entry `value` of a panel, named `label`. */
function showInSelect(role: Role, value: string, label: string): void {
  const select = element<HTMLSelectElement>(`${role}-sample`);
  let option = [...select.options].find((o) => o.value === value);
  if (!option) {
    option = new Option(label, value);
    select.append(option);
  }
  option.textContent = label;
  select.value = value;
}

/** Streams the webcam into the content panel, one transfer per animation frame while keeping up. */
async function startWebcam(): Promise<void> {
  if (!navigator.mediaDevices?.getUserMedia) throw new DOMException('no mediaDevices', 'NotSupportedError');
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
  const video = document.createElement('video');
  video.srcObject = stream;
  video.muted = true;
  await video.play();
  let active = true;
  webcam = {
    stop: () => {
      active = false;
      for (const track of stream.getTracks()) track.stop();
    },
  };
  element('webcam').textContent = 'Stop webcam';
  showInSelect('content', 'webcam', 'Webcam (live)');
  const frame = async () => {
    if (!active) return;
    state.content = tensorFromSource(video, video.videoWidth, video.videoHeight);
    await transfer();
    requestAnimationFrame(() => void frame());
  };
  await frame();
}

function stopWebcam(): void {
  webcam?.stop();
  webcam = undefined;
  element('webcam').textContent = 'Webcam';
  element<HTMLSelectElement>('content-sample').querySelector('option[value="webcam"]')?.remove();
}

// ---- 2. A look inside ----

const inside = serialized(async () => {
  if (!norm) return;
  const epsilon = state.epsilon;
  const content = state.content;
  // The true statistics (ε = 0: invStd = 1 / √var), and the normalization at the slider's ε.
  const [before, after] = await Promise.all([
    norm.stats(content, IMAGE_SHAPE, { epsilon: 0 }),
    norm.run(content, IMAGE_SHAPE, { epsilon }),
  ]);
  const names = ['red', 'green', 'blue'];
  const row = (id: string, tensor: Float32Array, [low, high]: readonly number[], caption: (c: number) => string[]) => {
    element(id).replaceChildren(
      ...names.map((name, c) => {
        const figure = document.createElement('figure');
        const canvas = document.createElement('canvas');
        canvas.width = IMAGE_SIZE;
        canvas.height = IMAGE_SIZE;
        canvas.id = `${id}-${name}`;
        drawHeatMap(canvas, tensor.subarray(c * PLANE, (c + 1) * PLANE), low, high);
        const text = document.createElement('figcaption');
        text.append(...[name, ...caption(c)].map((line) => Object.assign(document.createElement('span'), { textContent: line })));
        figure.append(canvas, text);
        return figure;
      }),
    );
  };
  const std = (c: number) => 1 / before.invStd[c];
  row('before', content, LEGEND.before, (c) => [
    `mean ${before.mean[c].toFixed(3)}, std √var ${std(c).toFixed(3)}`,
    `√(var + ε) ${Math.sqrt(std(c) ** 2 + epsilon).toFixed(3)}`,
  ]);
  row('after', after, LEGEND.after, (c) => {
    const m = moments(after.subarray(c * PLANE, (c + 1) * PLANE));
    const expected = std(c) / Math.sqrt(std(c) ** 2 + epsilon);
    return [`mean ${m.mean.toFixed(3)}, std ${m.std.toFixed(3)}`, `expected √(var / (var + ε)) ${expected.toFixed(3)}`];
  });
  check('inside-check', epsilon, () => maxDifference(after, instanceNormCpu(content, IMAGE_SHAPE, { epsilon })));
});

function setUpInsideControls(): void {
  const epsilon = element<HTMLInputElement>('epsilon');
  const show = () => {
    state.epsilon = 10 ** Number(epsilon.value);
    element('epsilon-value').textContent = state.epsilon.toExponential(1);
    element('transfer-epsilon').textContent = state.epsilon.toExponential(1);
  };
  show();
  // ε is a setting of both sections: section 1's result and its check change with it too.
  epsilon.addEventListener('input', () => {
    show();
    void transfer();
    void inside();
  });
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

/**
 * Under a result: on the GPU, its largest difference from the CPU reference, computed after the
 * page has painted; on the CPU backend the result is the reference's own, and the line says so.
 */
function check(id: string, epsilon: number, difference: () => number): void {
  const line = element(id);
  if (norm?.backend !== 'webgpu') {
    line.textContent = `Computed by the CPU fallback, the library’s float64 reference itself (ε = ${epsilon.toExponential(1)}).`;
    return;
  }
  line.textContent = `checking against the CPU reference (ε = ${epsilon.toExponential(1)})…`;
  setTimeout(() => {
    line.textContent = `max |shown − CPU reference| = ${difference().toExponential(2)} (ε = ${epsilon.toExponential(1)})`;
  }, 0);
}

// ---- 3. Benchmark ----

function setUpBenchmark(instance: InstanceNorm): void {
  const gpu = instance.device !== undefined;
  element('bench-what').textContent = gpu
    ? `Milliseconds per call of one normalization of [1, 16, side, side]: the library’s WebGPU path (encode() on GPU buffers) against its CPU fallback (instanceNormCpu() on a Float32Array). Both are timed over batches of calls, one submit per batch on the GPU, median of ${BENCHMARK.batches} batches.`
    : `Milliseconds per call of one normalization of [1, 16, side, side] on the library’s CPU fallback (instanceNormCpu() on a Float32Array), timed over batches of calls, median of ${BENCHMARK.batches} batches. There is no GPU line: this browser has no WebGPU.`;
  const labels = { gpu: gpu ? 'GPU path (WebGPU)' : '', cpu: 'CPU fallback' };
  const rerun = element<HTMLButtonElement>('rerun');
  const status = element('bench-status');
  const chart = element<HTMLCanvasElement>('chart');
  const bench = () =>
    exclusive(async () => {
      const since = failures;
      rerun.disabled = true;
      root.dataset.bench = 'running';
      const points: BenchmarkPoint[] = [];
      drawChart(chart, points, BENCHMARK.sides, labels);
      status.textContent = `warming up, then measuring ${BENCHMARK.sides[0]}²…`;
      try {
        await runBenchmark(instance, BENCHMARK, (point, done) => {
          points.push(point);
          drawChart(chart, points, BENCHMARK.sides, labels);
          chart.dataset.results = JSON.stringify(points);
          const next = BENCHMARK.sides[done];
          status.textContent = next ? `measuring ${next}² (${done + 1} of ${BENCHMARK.sides.length})…` : '';
        });
        const last = points[points.length - 1];
        status.textContent = `at ${last.side}²: ${last.gpuMs === null ? '' : `GPU ${last.gpuMs.toFixed(2)} ms, `}CPU ${last.cpuMs.toFixed(2)} ms per call`;
        succeeded(since);
      } finally {
        root.dataset.bench = 'done';
        rerun.disabled = false;
      }
    });
  rerun.addEventListener('click', () => void bench().catch((error) => fail(error)));
  void bench().catch((error) => fail(error));
}

// ---- 4. Compare on your device ----

function setUpComparisonSection(): void {
  const cases = COMPARE_CASES.map((c) => scaledCase(c, QUICK));
  const fieldset = element('compare-cases');
  for (const c of cases) {
    const label = document.createElement('label');
    const box = Object.assign(document.createElement('input'), { type: 'checkbox', value: c.id, checked: c.checked });
    label.append(box, ` ${caseLabel(c)}`);
    fieldset.append(label);
  }
  // The peers load only now, in a chunk of their own.
  loadWhenOpened('compare', 'Could not load the comparison.', async () => {
    element('compare-status').textContent = 'Loading ONNX Runtime Web and TensorFlow.js…';
    const [{ setUpComparison }] = await Promise.all([import('./compare-section'), untilReady()]);
    setUpComparison({
      norm: norm as InstanceNorm,
      settings: COMPARISON,
      selectedCases: () => cases.filter((c) => fieldset.querySelector<HTMLInputElement>(`input[value="${c.id}"]`)?.checked),
      exclusive,
      ...sectionCallbacks(),
    });
  });
}

// ---- 5. Run an ONNX model ----

function setUpOnnxSection(): void {
  // ONNX Runtime Web loads only now, in a chunk of its own (shared with the comparison).
  loadWhenOpened('onnx', 'Could not load ONNX Runtime Web.', async () => {
    const [{ setUpOnnxSection: setUp }] = await Promise.all([import('./onnx-section'), untilReady()]);
    setUp({ gpu: norm?.device !== undefined, quick: QUICK, exclusive, ...sectionCallbacks() });
  });
}

/**
 * Runs `load` the first time the section `<details id>` opens; where it fails, says `failure` in
 * the section's status line (`<id>-status`) and lets the next opening try again.
 */
function loadWhenOpened(id: string, failure: string, load: () => Promise<void>): void {
  const details = element<HTMLDetailsElement>(id);
  let loading: Promise<void> | undefined;
  details.addEventListener('toggle', () => {
    if (!details.open || loading) return;
    loading = load().catch((error) => {
      loading = undefined;
      element(`${id}-status`).textContent = failure;
      fail(error);
    });
  });
}

/** What a lazily loaded section reports back: a run's start (and its success), and its errors. */
function sectionCallbacks() {
  return {
    onStart: () => {
      const since = failures;
      return () => succeeded(since);
    },
    onError: (error: unknown) => fail(error),
  };
}

function untilReady(): Promise<void> {
  return new Promise((resolve) => {
    const poll = () => (norm && root.dataset.progress === 'done' ? resolve() : setTimeout(poll, 50));
    poll();
  });
}

main().catch((error) => fail(error));
