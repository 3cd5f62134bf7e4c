// `npm run bench [-- --quick]`: serves bench/ with Vite, runs it in headless Chromium, prints a
// table per shape and writes bench-results.json. A benchmark, not a test: nothing fails on time.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright';
import { createServer } from 'vite';
import { CHROMIUM_ARGS, chromiumPath } from './chromium-path.mjs';

const quick = process.argv.includes('--quick');
const strategies = process.argv.includes('--strategies');
const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex > 0 ? process.argv[onlyIndex + 1] : undefined;
const root = fileURLToPath(new URL('..', import.meta.url));
const server = await createServer({
  configFile: false,
  root,
  logLevel: 'error',
  // No file watching and no HMR: an edit to a source file meanwhile must not reload the page mid-run.
  server: { port: 0, host: 'localhost', hmr: false, watch: null },
  // ORT finds its .wasm files next to its module: leave it where node_modules serves it.
  // TF.js's packages pre-bundled before the page loads: found only at run time, the page would be
  // reloaded mid-benchmark to bundle them.
  optimizeDeps: {
    exclude: ['onnxruntime-web'],
    include: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-layers'],
  },
});
await server.listen();
const { port } = server.httpServer.address();
// --expose-gc: the page collects the previous shape's garbage before each CPU timing.
const browser = await chromium.launch({ executablePath: chromiumPath(), args: [...CHROMIUM_ARGS, '--js-flags=--expose-gc'] });
try {
  const page = await browser.newPage();
  page.on('console', (message) => {
    if (!message.text().startsWith('bench row')) console.log(`[page] ${message.text()}`);
  });
  page.on('pageerror', (error) => console.error(`[page error] ${error.message}`));
  await page.goto(`http://localhost:${port}/bench/index.html`);
  await page.waitForFunction(() => typeof window.runBenchmark === 'function', null, { timeout: 60_000 });
  const started = Date.now();
  const report = await page.evaluate((config) => window.runBenchmark(config), { quick, strategies, only });
  printReport(report);
  const file = quick ? 'bench-results.quick.json' : 'bench-results.json';
  writeFileSync(
    new URL(`../${file}`, import.meta.url),
    `${JSON.stringify({ date: new Date().toISOString(), quick, ...report }, null, 2)}\n`,
  );
  console.log(
    `\n${report.rows.length + report.groupRows.length + report.networkRows.length + report.onnxModelRows.length} shapes in ${((Date.now() - started) / 1000).toFixed(0)} s; written to ${file}`,
  );
} finally {
  await browser.close();
  await server.close();
}

function printReport(report) {
  const fixed = (v, digits = 2) => (v === null || v === undefined ? '—' : v.toFixed(digits));
  console.log(`adapter: ${report.adapter}; ONNX Runtime Web ${report.ortVersion}`);
  console.log('ms per call: median after warm-up, GPU work awaited; the sides of a shape timed in alternation, call for call.');
  console.log('GB/s: bytes read + written per second.');
  console.log('(ORT runs nhwc cases on the same tensor as nchw: ONNX InstanceNormalization is channels-first.)\n');
  const header = [
    'shape',
    'layout',
    'strategy',
    'ours ms',
    'GB/s',
    'copy ms',
    'x copy',
    'nchw ms',
    'x nchw',
    'ORT ms',
    'vs ORT',
    'CPU ms',
    'ORT wasm ms',
    'CPU vs wasm',
  ];
  const rows = report.rows.map((r) => [
    r.shape,
    r.layout,
    r.strategy,
    fixed(r.oursMs),
    fixed((2 * 4 * r.elements) / (r.oursMs * 1e6), 1),
    fixed(r.copyMs),
    fixed(r.oursMs / r.copyMs),
    fixed(r.nchwMs),
    r.nchwMs === null || r.nchwMs === undefined ? '—' : fixed(r.oursMs / r.nchwMs),
    fixed(r.ortMs),
    r.ortMs === null ? '—' : `${fixed(r.ortMs / r.oursMs, 1)}x`,
    fixed(r.cpuMs, 1),
    fixed(r.ortWasmMs, 1),
    r.ortWasmMs === null || r.cpuMs === null ? '—' : `${fixed(r.ortWasmMs / r.cpuMs, 1)}x`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  console.log(`\nencode(): ${report.encodeMicroseconds.toFixed(1)} µs of CPU per call ([1, 64, 16, 16], recording only)`);
  console.log('\nTraining: forward saving its statistics, and the backward using them (input, scale and bias gradients):');
  for (const r of report.rows) {
    console.log(
      `${r.shape.padEnd(widths[0])}  ${r.layout.padEnd(widths[1])}  forward ${fixed(r.forwardSavingStatsMs)} ms  ` +
        `backward ${fixed(r.backwardMs)} ms  ${fixed(r.backwardMs / r.copyMs)}x copy`,
    );
  }
  console.log(
    '\nFused epilogue (SiLU + residual add in the normalize pass) against two calls (normalize, then a separate pass):',
  );
  for (const r of report.rows) {
    const gain = r.separateEpilogueMs / r.fusedEpilogueMs;
    console.log(
      `${r.shape.padEnd(widths[0])}  ${r.layout.padEnd(widths[1])}  fused ${fixed(r.fusedEpilogueMs)} ms  ` +
        `two calls ${fixed(r.separateEpilogueMs)} ms  ${fixed(gain)}x`,
    );
  }
  if (report.groupRows.length) {
    console.log(
      '\nGroupNorm + SiLU (G = 32, affine), NCHW, Stable Diffusion at 512²: float32 and float16 storage against the copy of as' +
        " many bytes, float32 on the same tensor channels-last (nhwc, TF.js's layout) against nchw and the copy," +
        " ORT-web's WebGPU EP on the decomposed graph PyTorch exports, TF.js's WebGPU composition (channels-last);" +
        " the CPU fallback (float32) against ORT-web's wasm EP (one thread) on that graph:",
    );
    const cells = report.groupRows.map((r) => [
      r.shape,
      r.model,
      r.strategy,
      fixed(r.oursMs),
      fixed(r.copyMs),
      fixed(r.oursMs / r.copyMs),
      fixed(r.halfMs),
      fixed(r.halfCopyMs),
      fixed(r.halfMs / r.halfCopyMs),
      fixed(r.halfMs / r.oursMs),
      fixed(r.nhwcMs),
      fixed(r.nhwcMs / r.oursMs),
      fixed(r.nhwcMs / r.copyMs),
      fixed(r.ortMs),
      r.ortMs === null ? '—' : `${fixed(r.ortMs / r.oursMs, 1)}x`,
      fixed(r.tfjsMs),
      r.tfjsMs === null ? '—' : `${fixed(r.tfjsMs / r.oursMs, 1)}x`,
      fixed(r.cpuMs, 1),
      fixed(r.ortWasmMs, 1),
      r.ortWasmMs === null ? '—' : `${fixed(r.ortWasmMs / r.cpuMs, 1)}x`,
    ]);
    const head = [
      'shape',
      'model',
      'strategy',
      'f32 ms',
      'copy ms',
      'x copy',
      'f16 ms',
      'f16 copy',
      'x copy',
      'f16/f32',
      'nhwc ms',
      'x nchw',
      'x copy',
      'ORT ms',
      'vs ORT',
      'TF.js ms',
      'vs TF.js',
      'CPU ms',
      'ORT wasm ms',
      'CPU vs wasm',
    ];
    const w = head.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
    const row = (c) => c.map((v, i) => (i < 3 ? v.padEnd(w[i]) : v.padStart(w[i]))).join('  ');
    console.log(row(head));
    for (const r of cells) console.log(row(r));
  }
  if (report.tfjs.rows.length) {
    console.log(
      `\nTF.js ${'on its WebGPU backend'} (${report.tfjs.adapter}): the op of webgpu-instancenorm/tfjs against tf.moments + tf.batchNorm` +
        ' (GroupNorm: on the tensor reshaped to [N, H·W, G, C/G]), ms per call, GPU work awaited:',
    );
    const width = Math.max(...report.tfjs.rows.map((r) => r.shape.length));
    for (const r of report.tfjs.rows) {
      console.log(
        `${r.shape.padEnd(width)}  ${r.op.padEnd(17)}  op ${fixed(r.opMs)} ms  composition ${fixed(r.compositionMs)} ms  ` +
          `${fixed(r.compositionMs / r.opMs, 1)}x  (outputs differ by ${r.maxDifference.toExponential(1)})`,
      );
    }
  }
  if (report.networkRows.length) printNetworkRows(report.networkRows, report.tfjs.adapter);
  if (report.onnxModelRows.length) printOnnxModelRows(report.onnxModelRows, report.adapter);
  if (report.rows.some((r) => r.byStrategy)) {
    console.log('\nms per call of each strategy (--strategies):');
    for (const r of report.rows) {
      const cells = Object.entries(r.byStrategy).map(([name, ms]) => `${name} ${fixed(ms)}`);
      console.log(`${r.shape.padEnd(widths[0])}  ${r.layout.padEnd(widths[1])}  ${cells.join('  ')}`);
    }
  }
}

/** TransformNet's three variants per input size (bench/network-bench.ts). */
function printNetworkRows(rows, adapter) {
  const fixed = (v, digits = 1) => v.toFixed(digits);
  console.log(
    `\nA whole network on TF.js's WebGPU backend (${adapter}): TransformNet, the fast-style-transfer network of ml5's` +
      ' StyleTransfer, channels-last, seeded weights; its 16 instance norms (ε 1e-3) by our op (ReLU and residual add' +
      ' fused), composed of TF.js ops as ml5 writes them, or removed. Kernels: TF.js kernels a frame (tf.profile);' +
      ' dispatches: compute dispatches a frame (counted). ms/frame: median, the variants alternated frame by frame, GPU' +
      " work awaited; '- no-norm': the frame less no-norm's. Layers alone: the 16 norm layers (each with its ReLU or add;" +
      " no-norm: its ReLUs and adds) on the tensors a frame hands them, alternated, and their share of the variant's frame:",
  );
  const head = ['network', 'variant', 'TF.js kernels', 'dispatches', 'ms/frame', '- no-norm', 'layers alone ms', 'share'];
  const cells = rows.flatMap((r) =>
    [
      ['ours', r.ours, r.oursLayersMs],
      ['composed', r.composed, r.composedLayersMs],
      ['no norm', r.noNorm, r.noNormLayersMs],
    ].map(([name, v, alone]) => [
      r.network,
      name,
      String(v.tfjsKernels),
      String(v.dispatches),
      fixed(v.frameMs),
      v === r.noNorm ? '—' : fixed(v.frameMs - r.noNorm.frameMs),
      fixed(alone),
      `${fixed((100 * alone) / v.frameMs)}%`,
    ]),
  );
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => c.map((v, i) => (i < 2 ? v.padEnd(w[i]) : v.padStart(w[i]))).join('  ');
  console.log(line(head));
  for (const c of cells) console.log(line(c));
  for (const r of rows) {
    console.log(
      `${r.network} (input ${r.input}, ${r.normLayers} instance norms, ${r.frames} timed frames a variant): ours` +
        ` ${fixed(r.composed.frameMs / r.ours.frameMs, 2)}x as fast as composed a frame,` +
        ` ${fixed(r.composedLayersMs / r.oursLayersMs)}x on the norm layers alone; outputs of the two differ by` +
        ` ${r.maxDifference.toExponential(1)} (ours in ${fixed(r.outputRange[0])}..${fixed(r.outputRange[1])}${r.finite ? '' : '; NOT FINITE'})`,
    );
  }
}

/** Whole ONNX models through webgpu-instancenorm/onnxruntime (bench/onnx-model-bench.ts): four sides a model, then what the gap is made of. */
function printOnnxModelRows(rows, adapter) {
  const fixed = (v, digits = 1) => v.toFixed(digits);
  console.log(
    `\nWhole ONNX models on ORT-web's WebGPU EP (${adapter}), seeded, built in the page: ORT alone; spliced by` +
      " webgpu-instancenorm/onnxruntime (createSession); the ceiling: the spliced session's own ORT stretches with each" +
      ' library step free (its input handed on as its output); no norm: each taken-over chain replaced by one Identity,' +
      ' as one ORT session. ms/frame: run() to the outputs done on the GPU, median, the four sides alternated frame by' +
      " frame, and the frames' quartiles; run() ms: until the call resolved (its commands submitted, the GPU still at" +
      ' work), median; dispatches and submits counted over one frame:',
  );
  const head = [
    'model',
    'side',
    'stretches',
    'library steps',
    'dispatches',
    'submits',
    'run() ms',
    'ms/frame',
    'quartiles',
    'x ceiling',
    'ORT alone / side',
  ];
  const cells = rows.flatMap((r) =>
    [
      ['ORT alone', r.ortAlone],
      ['spliced', r.spliced],
      ['ceiling', r.ceiling],
      ['no norm', r.noNorm],
    ].map(([name, v]) => [
      r.label,
      name,
      String(v.stretches),
      String(v.librarySteps),
      String(v.dispatches),
      String(v.submits),
      fixed(v.issueMs),
      fixed(v.frameMs),
      `${fixed(v.quartilesMs[0], 0)}-${fixed(v.quartilesMs[1], 0)}`,
      fixed(v.frameMs / r.ceiling.frameMs, 2),
      `${fixed(r.ortAlone.frameMs / v.frameMs, 2)}x`,
    ]),
  );
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => c.map((v, i) => (i < 2 ? v.padEnd(w[i]) : v.padStart(w[i]))).join('  ');
  console.log(line(head));
  for (const c of cells) console.log(line(c));
  const ratio = ([low, median, high]) => `${fixed(median, 2)} (${fixed(low, 2)}-${fixed(high, 2)})`;
  for (const r of rows) {
    const cut = r.cutAlone;
    console.log(
      `${r.label} (input ${r.input}, ${r.frames} timed frames a side): spliced ${fixed(r.spliced.frameMs / r.ceiling.frameMs, 2)}x` +
        ` its ceiling, ${fixed(r.ortAlone.frameMs / r.spliced.frameMs, 2)}x as fast as ORT alone.\n` +
        `  Paired, frame by frame within a round (median, quartiles): spliced / ceiling ${ratio(r.pairedRatios.splicedOverCeiling)};` +
        ` ORT alone / spliced ${ratio(r.pairedRatios.ortAloneOverSpliced)}; ORT alone / ceiling` +
        ` ${ratio(r.pairedRatios.ortAloneOverCeiling)}; ceiling / no norm ${ratio(r.pairedRatios.ceilingOverNoNorm)}.\n` +
        `  ORT alone − no norm (ORT's norms and epilogues): ${fixed(r.ortAlone.frameMs - r.noNorm.frameMs)} ms;` +
        ` ceiling − no norm (the ${r.ceiling.stretches - 1} cuts): ${fixed(r.ceiling.frameMs - r.noNorm.frameMs)} ms;` +
        ` spliced − ceiling: ${fixed(r.spliced.frameMs - r.ceiling.frameMs)} ms, the library's ${r.spliced.librarySteps} calls alone` +
        ` ${fixed(r.libraryAloneMs)} ms, ORT's taken-over chains alone (one session) ${fixed(r.ortNormsAlone.ms)} ms` +
        ` (${r.ortNormsAlone.dispatches} dispatches).\n` +
        `  One cut alone, at '${cut.at}' ${cut.dims}: the stretches on either side as two sessions ${fixed(cut.twoSessionsMs)} ms` +
        ` (${cut.twoSessionsDispatches} dispatches), as one ${fixed(cut.oneSessionMs)} ms (${cut.oneSessionDispatches}):` +
        ` ${fixed(cut.twoSessionsMs - cut.oneSessionMs)} ms a cut.\n` +
        `  Outputs: spliced against ORT alone ${r.maxRelativeDifference.toExponential(1)} of the output's scale, ceiling against` +
        ` no norm ${r.ceilingVsNoNorm.toExponential(1)}${r.finite ? '' : '; NOT FINITE'}; the ceiling's sub-models are the` +
        ` spliced session's: ${r.ceilingMatchesSpliced ? 'yes' : 'NO'}.`,
    );
  }
}
