// `npm run bench:native [-- --only TEXT]`: the benchmark on a native WebGPU (Dawn through the
// `webgpu` package, installed on demand: `npm install --no-save webgpu`), for a machine with a
// real GPU and no browser. Prints a table per shape; writes bench-results.native.json.
import { writeFileSync } from 'node:fs';
import { createServer } from 'vite';
import { installNativeWebGpu } from './native-webgpu.mjs';

const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex > 0 ? process.argv[onlyIndex + 1] : undefined;
await installNativeWebGpu();
// No dependency scan: the browser bench page's imports (ONNX Runtime Web) are not wanted here.
const server = await createServer({
  configFile: false,
  logLevel: 'error',
  server: { middlewareMode: true },
  optimizeDeps: { noDiscovery: true },
});
try {
  const { runNativeBenchmark } = await server.ssrLoadModule('/bench/native-bench.ts');
  const report = await runNativeBenchmark(only);
  printReport(report);
  const file = process.env.BENCH_NATIVE_OUT ?? 'bench-results.native.json';
  writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), ...report }, null, 2)}\n`);
  console.log(`\nwritten to ${file}`);
} finally {
  await server.close();
}

function printReport(report) {
  const fixed = (v, digits = 3) => v.toFixed(digits);
  console.log(`adapter: ${report.adapter}\nfeatures: ${report.features.join(', ')}`);
  console.log('ms per call: GPU time of K calls in one submit / K, median after warm-up. GB/s: bytes read + written.\n');
  const strategies = Object.keys(report.rows[0]?.byStrategy ?? {});
  const header = ['shape', 'layout', 'strategy', 'ours ms', 'GB/s', 'copy ms', 'x copy', 'backward x copy', ...strategies];
  const rows = report.rows.map((r) => [
    r.shape,
    r.layout,
    r.strategy,
    fixed(r.oursMs),
    fixed((2 * 4 * r.elements) / (r.oursMs * 1e6), 0),
    fixed(r.copyMs),
    fixed(r.oursMs / r.copyMs, 2),
    fixed(r.backwardMs / r.copyMs, 2),
    ...strategies.map((s) => fixed(r.byStrategy[s] / r.copyMs, 2)),
  ]);
  printTable(header, rows);
  console.log('(strategy columns: x copy)');
  if (!report.groupRows.length) return;
  console.log(
    '\nGroupNorm + SiLU (affine), NCHW, Stable Diffusion at 512²: float32 and float16 storage, each against the copy of as many bytes:',
  );
  const groupStrategies = Object.keys(report.groupRows[0].byStrategy);
  const groupHeader = [
    'shape',
    'model',
    'strategy',
    'f32 ms',
    'copy ms',
    'x copy',
    'f16 ms',
    'f16 copy ms',
    'x copy',
    'f16/f32',
    ...groupStrategies,
  ];
  const groupRows = report.groupRows.map((r) => [
    r.shape,
    r.model,
    r.strategy,
    fixed(r.oursMs),
    fixed(r.copyMs),
    fixed(r.oursMs / r.copyMs, 2),
    fixed(r.halfMs),
    fixed(r.halfCopyMs),
    fixed(r.halfMs / r.halfCopyMs, 2),
    fixed(r.halfMs / r.oursMs, 2),
    ...groupStrategies.map((s) => fixed(r.byStrategy[s] / r.copyMs, 2)),
  ]);
  printTable(groupHeader, groupRows);
  console.log('(strategy columns: float32, x copy)');
}

/** A table: the first three columns left-aligned, the figures right-aligned. */
function printTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(header));
  for (const r of rows) console.log(line(r));
}
