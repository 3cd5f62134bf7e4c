/**
 * The page side of "Compare on your device": runs the sides of compare.ts over the ticked shapes,
 * draws the bar chart and the table as results come in, then the accuracy probe.
 */
import type { InstanceNorm } from '../src';
import { caseData, makeSides, PEER_VERSIONS, PROBE_CASES, type Prepared, probeError, type Side } from './compare';
import { type CaseKind, type CompareCase, caseLabel, caseShortLabel } from './compare-cases';

export interface ComparisonSettings {
  /** Untimed calls per side and shape before the timed ones. */
  readonly warmup: number;
  /** Timed calls per side and shape, in alternation between the sides; the median is shown. */
  readonly repetitions: number;
}

export interface ComparisonPage {
  readonly norm: InstanceNorm;
  readonly settings: ComparisonSettings;
  /** The ticked shapes, as they will run. */
  readonly selectedCases: () => CompareCase[];
  /** Runs `task` once no other timing (the benchmark) is running, and keeps others out meanwhile. */
  readonly exclusive: <T>(task: () => Promise<T>) => Promise<T>;
  /** Called as an action starts; what it returns is called once the action succeeded. */
  readonly onStart: () => () => void;
  readonly onError: (error: unknown) => void;
}

type Outcome = number | { failed: string };

/** The probe's two inputs: ordinary activations (mean 0, std 1), and a mean 10⁴ standard deviations from zero. */
const PROBE_INPUTS = [
  { id: 'ordinary', label: 'mean 0, std 1', offset: 0, spread: 1 },
  { id: 'far', label: 'mean 10⁴ σ from 0', offset: 100, spread: 0.01 },
] as const;
const probeKey = (kind: CaseKind, input: string) => `${kind}:${input}`;

interface SideResults {
  readonly side: Side;
  readonly ms: Map<string, Outcome>;
  /** Keyed by probeKey(kind, input). */
  readonly probe: Map<string, Outcome>;
}

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export function setUpComparison(page: ComparisonPage): void {
  const sides = makeSides(page.norm);
  element('compare-what').textContent = page.norm.device
    ? `Here: ${sides.map((s) => s.label).join(', ')}, each on a GPUDevice of its own. Inputs and outputs stay on the GPU; each call is awaited until the GPU has finished it.`
    : `WebGPU is unavailable here, so this compares CPU implementations: the library's CPU fallback and ONNX Runtime Web's wasm execution provider (ONNX Runtime Web ${PEER_VERSIONS.ort}); TensorFlow.js ${PEER_VERSIONS.tfjs} is loaded but its WebGPU backend cannot run.`;
  const button = element<HTMLButtonElement>('compare-run');
  const status = element('compare-status');
  button.disabled = false;
  status.textContent = 'Ready: tick the shapes and run.';
  button.addEventListener('click', () => {
    button.disabled = true;
    const succeeded = page.onStart();
    page
      .exclusive(() => runComparison(page, sides))
      .then(succeeded, page.onError)
      .finally(() => {
        button.disabled = false;
      });
  });
}

async function runComparison(page: ComparisonPage, sides: Side[]): Promise<void> {
  const cases = page.selectedCases();
  const status = element('compare-status');
  const progress = element<HTMLProgressElement>('compare-progress');
  if (cases.length === 0) {
    status.textContent = 'Tick at least one shape.';
    return;
  }
  const root = document.documentElement;
  root.dataset.compare = 'running';
  const runnable = sides.filter((s) => !s.unavailable);
  const kinds = [...new Set(cases.map((c) => c.kind))];
  const { warmup, repetitions } = page.settings;
  progress.max = cases.length * runnable.length * (warmup + repetitions) + kinds.length * PROBE_INPUTS.length * runnable.length;
  progress.value = 0;
  progress.hidden = false;
  const step = () => {
    progress.value += 1;
  };
  const results: SideResults[] = sides.map((side) => ({ side, ms: new Map(), probe: new Map() }));
  const redraw = () => {
    drawBars(element('compare-chart'), cases, results);
    fillTable(cases, kinds, results);
  };
  for (const r of results) {
    if (r.side.unavailable) {
      for (const c of cases) r.ms.set(c.id, { failed: r.side.unavailable });
      for (const k of kinds) for (const input of PROBE_INPUTS) r.probe.set(probeKey(k, input.id), { failed: r.side.unavailable });
    }
  }
  redraw();
  const failure = (error: unknown) => ({ failed: error instanceof Error ? error.message : String(error) });

  for (const [index, c] of cases.entries()) {
    const where = `${caseLabel(c)} (${index + 1} of ${cases.length})`;
    const data = caseData(c, 0, 1);
    const prepared: { r: SideResults; p: Prepared; times: number[] }[] = [];
    for (const r of results.filter((x) => !x.side.unavailable)) {
      status.textContent = `${where}: setting up ${r.side.label}…`;
      await paint();
      try {
        const p = await r.side.prepare(c, data);
        prepared.push({ r, p, times: [] });
      } catch (error) {
        r.ms.set(c.id, failure(error));
        for (let i = 0; i < warmup + repetitions; i++) step();
      }
    }
    const live = () => prepared.filter((x) => !x.r.ms.has(c.id));
    const attempt = async (x: (typeof prepared)[number], timed: boolean) => {
      try {
        const started = performance.now();
        await x.p.call();
        if (timed) x.times.push(performance.now() - started);
      } catch (error) {
        x.r.ms.set(c.id, failure(error));
      }
      step();
    };
    status.textContent = `${where}: warming up…`;
    for (const x of live()) for (let i = 0; i < warmup; i++) await attempt(x, false);
    for (let rep = 0; rep < repetitions; rep++) {
      status.textContent = `${where}: call ${rep + 1} of ${repetitions} on each side…`;
      await paint();
      for (const x of live()) await attempt(x, true);
    }
    // A timing counts only if the side's result, read after its timed calls, is right (mean 0, std 1 input).
    status.textContent = `${where}: checking each side's result…`;
    await paint();
    for (const x of prepared) {
      if (!x.r.ms.has(c.id)) {
        const error = await x.p.read().then(
          (y) => probeError(c, data, y),
          () => Number.NaN,
        );
        x.r.ms.set(c.id, error < 1e-3 ? median(x.times) : { failed: `wrong result (largest error ${formatError(error)})` });
      }
      await x.p.release().catch(() => {});
    }
    redraw();
  }

  for (const kind of kinds) {
    const probe = PROBE_CASES[kind];
    for (const input of PROBE_INPUTS) {
      const data = caseData(probe, input.offset, input.spread);
      for (const r of results.filter((x) => !x.side.unavailable)) {
        const key = probeKey(kind, input.id);
        status.textContent = `Accuracy probe, ${caseLabel(probe)}, ${input.label}: ${r.side.label}…`;
        await paint();
        if (r.side.isReference) {
          r.probe.set(key, { failed: 'is the reference itself' });
        } else {
          try {
            const p = await r.side.prepare(probe, data);
            try {
              r.probe.set(key, probeError(probe, data, await p.read()));
            } finally {
              await p.release().catch(() => {});
            }
          } catch (error) {
            r.probe.set(key, failure(error));
          }
        }
        step();
        redraw();
      }
    }
  }
  progress.hidden = true;
  status.textContent = `Done: ${cases.length} shape${cases.length > 1 ? 's' : ''}, median of ${repetitions} calls per side after ${warmup} untimed.`;
  root.dataset.compare = 'done';
}

const paint = () => new Promise((resolve) => setTimeout(resolve));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const formatMs = (ms: number) => (ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toPrecision(2));

/** Shown as it is: NaN stays "NaN". */
const formatError = (e: number) => (Number.isNaN(e) ? 'NaN' : e === 0 ? '0' : e.toExponential(1));

function fillTable(cases: CompareCase[], kinds: CaseKind[], results: SideResults[]): void {
  const table = element<HTMLTableElement>('compare-table');
  const head = document.createElement('tr');
  const th = (text: string) => Object.assign(document.createElement('th'), { textContent: text });
  head.append(
    th('Side'),
    ...cases.map((c) => th(`${caseShortLabel(c)}: ms per call`)),
    ...kinds.flatMap((k) => PROBE_INPUTS.map((input) => th(`${caseShortLabel(PROBE_CASES[k])} error, ${input.label}`))),
  );
  table.tHead?.replaceChildren(head);
  const cell = (outcome: Outcome | undefined, format: (v: number) => string, kind: 'ms' | 'error') => {
    const td = document.createElement('td');
    if (outcome === undefined) td.textContent = '…';
    else if (typeof outcome === 'number') {
      td.textContent = format(outcome);
      if (kind === 'error') td.className = Number.isNaN(outcome) || outcome > 1e-3 ? 'bad' : 'good';
    } else {
      td.textContent = /^(not run|is the reference)/.test(outcome.failed) ? outcome.failed : `failed: ${outcome.failed}`;
      td.className = 'failed';
    }
    return td;
  };
  table.tBodies[0].replaceChildren(
    ...results.map((r) => {
      const row = document.createElement('tr');
      row.dataset.side = r.side.id;
      const name = document.createElement('td');
      const swatch = Object.assign(document.createElement('span'), { className: 'swatch' });
      swatch.style.background = r.side.color;
      name.append(swatch, r.side.label);
      row.append(
        name,
        ...cases.map((c) => cell(r.ms.get(c.id), formatMs, 'ms')),
        ...kinds.flatMap((k) => PROBE_INPUTS.map((input) => cell(r.probe.get(probeKey(k, input.id)), formatError, 'error'))),
      );
      return row;
    }),
  );
}

/** Grouped bars, one group per shape, one bar per side, ms per call written above each. */
function drawBars(canvas: HTMLCanvasElement, cases: CompareCase[], results: SideResults[]): void {
  const context = canvas.getContext('2d');
  if (!context) return;
  const { width, height } = canvas;
  const margin = { left: 72, right: 16, top: 28, bottom: 40 };
  context.clearRect(0, 0, width, height);
  context.font = '12px system-ui, sans-serif';
  const values = results.flatMap((r) => [...r.ms.values()].filter((v): v is number => typeof v === 'number'));
  const top = niceCeiling(Math.max(0.01, ...values) * 1.15);
  const plotHeight = height - margin.top - margin.bottom;
  const y = (ms: number) => height - margin.bottom - (ms / top) * plotHeight;
  context.strokeStyle = '#ddd';
  context.fillStyle = '#555';
  context.textAlign = 'right';
  for (let i = 0; i <= 4; i++) {
    const ms = (top * i) / 4;
    context.beginPath();
    context.moveTo(margin.left, y(ms));
    context.lineTo(width - margin.right, y(ms));
    context.stroke();
    context.fillText(`${Number(ms.toPrecision(3))} ms`, margin.left - 6, y(ms) + 4);
  }
  const groupWidth = (width - margin.left - margin.right) / cases.length;
  const barWidth = Math.min(48, (groupWidth * 0.8) / results.length);
  let bars = 0;
  cases.forEach((c, g) => {
    const left = margin.left + g * groupWidth + (groupWidth - barWidth * results.length) / 2;
    context.textAlign = 'center';
    context.fillStyle = '#333';
    context.fillText(caseShortLabel(c), margin.left + (g + 0.5) * groupWidth, height - margin.bottom + 16);
    results.forEach((r, i) => {
      const outcome = r.ms.get(c.id);
      const cx = left + (i + 0.5) * barWidth;
      if (typeof outcome === 'number') {
        context.fillStyle = r.side.color;
        context.fillRect(left + i * barWidth + 2, y(outcome), barWidth - 4, y(0) - y(outcome));
        context.fillStyle = '#222';
        context.fillText(formatMs(outcome), cx, y(outcome) - 4);
        bars++;
      } else if (outcome) {
        context.fillStyle = '#999';
        context.fillText('—', cx, y(0) - 4);
      }
    });
  });
  context.textAlign = 'left';
  let x = margin.left + 8;
  for (const r of results) {
    context.fillStyle = r.side.color;
    context.fillRect(x, 6, 10, 10);
    context.fillStyle = '#222';
    const label = r.side.short;
    context.fillText(label, x + 14, 15);
    x += context.measureText(label).width + 30;
  }
  context.fillStyle = '#555';
  context.fillText('ms per call (lower is better)', margin.left, height - 6);
  canvas.dataset.bars = String(bars);
}

function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * power >= value) return m * power;
  return 10 * power;
}
