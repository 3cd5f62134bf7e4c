// `node scripts/bench-summary.mjs [bench-results.json]`: the one-screen summary that opens
// BENCHMARKS.md, per shape family, from a full `npm run bench` run: the range over the family's
// rows of each ratio (ours to the copy kernel, peers' time to ours), and the adapter. Prints
// Markdown; BENCHMARKS.md holds what it printed for the run recorded in bench-results.json.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? new URL('../bench-results.json', import.meta.url);
const report = JSON.parse(readFileSync(file, 'utf8'));

/** "a-b" over the finite values, at `digits` decimals, with `suffix`; "—" where there are none. */
function range(values, digits = 2, suffix = 'x') {
  const finite = values.filter((v) => typeof v === 'number' && Number.isFinite(v));
  if (finite.length === 0) return '—';
  const low = Math.min(...finite).toFixed(digits);
  const high = Math.max(...finite).toFixed(digits);
  return low === high ? `${low}${suffix}` : `${low}-${high}${suffix}`;
}

const ratio = (a, b) => (a === null || a === undefined || b === null || b === undefined ? null : a / b);
const rows = report.rows ?? [];
const nchw = rows.filter((r) => r.layout === 'nchw');
const nhwc = rows.filter((r) => r.layout === 'nhwc');
const groups = report.groupRows ?? [];
const tfjs = report.tfjs?.rows ?? [];
const networks = report.networkRows ?? [];
const onnx = report.onnxModelRows ?? [];

const lines = [
  `| family | rows | ours / copy kernel | peers' time / ours | other |`,
  `|---|---|---|---|---|`,
  `| instance norm, nchw | ${nchw.length} | ${range(nchw.map((r) => ratio(r.oursMs, r.copyMs)))} | ORT WebGPU ${range(
    nchw.map((r) => ratio(r.ortMs, r.oursMs)),
    1,
  )} | |`,
  `| instance norm, nhwc | ${nhwc.length} | ${range(nhwc.map((r) => ratio(r.oursMs, r.copyMs)))} | ORT WebGPU ${range(
    nhwc.map((r) => ratio(r.ortMs, r.oursMs)),
    1,
  )} (on the nchw tensor) | ours / same tensor nchw ${range(nhwc.map((r) => ratio(r.oursMs, r.nchwMs)))} |`,
  `| GroupNorm + SiLU (G = 32), nchw | ${groups.length} | ${range(groups.map((r) => ratio(r.oursMs, r.copyMs)))} | ORT WebGPU ${range(
    groups.map((r) => ratio(r.ortMs, r.oursMs)),
    1,
  )}, TF.js ${range(
    groups.map((r) => ratio(r.tfjsMs, r.oursMs)),
    1,
  )} | |`,
  `| GroupNorm + SiLU, nhwc | ${groups.filter((r) => r.nhwcMs).length} | ${range(groups.map((r) => ratio(r.nhwcMs, r.copyMs)))} | | ours / same tensor nchw ${range(groups.map((r) => ratio(r.nhwcMs, r.oursMs)))} |`,
  `| float16 storage (GroupNorm + SiLU) | ${groups.length} | ${range(groups.map((r) => ratio(r.halfMs, r.halfCopyMs)))} (copy of as many bytes) | | f16 / f32 ${range(groups.map((r) => ratio(r.halfMs, r.oursMs)))} |`,
  `| fused epilogue (SiLU + residual) | ${rows.length} | | | two calls / fused ${range(rows.map((r) => ratio(r.separateEpilogueMs, r.fusedEpilogueMs)))} |`,
  `| backward (saved statistics) | ${rows.length} | ${range(rows.map((r) => ratio(r.backwardMs, r.copyMs)))} (floor 3x) | | |`,
  `| CPU fallback | ${rows.length + groups.length} | | ORT wasm, instance norm ${range(
    rows.map((r) => ratio(r.ortWasmMs, r.cpuMs)),
    1,
  )}, GroupNorm + SiLU ${range(
    groups.map((r) => ratio(r.ortWasmMs, r.cpuMs)),
    1,
  )} | |`,
  `| TF.js ops (TF.js's WebGPU backend) | ${tfjs.length} | | tf.moments + tf.batchNorm ${range(
    tfjs.map((r) => ratio(r.compositionMs, r.opMs)),
    1,
  )} | |`,
];
for (const n of networks) {
  lines.push(
    `| ${n.network} (TF.js, ${n.input}) | 1 | | composed as ml5: norm layers ${range([ratio(n.composedLayersMs, n.oursLayersMs)], 1)}, frame ${range([ratio(n.composed.frameMs, n.ours.frameMs)])} | kernels a frame: ours ${n.ours.tfjsKernels}, composed ${n.composed.tfjsKernels}, no norm ${n.noNorm.tfjsKernels} |`,
  );
}
for (const o of onnx) {
  lines.push(
    `| ${o.label} (${o.input}) | 1 | | ORT alone ${range([ratio(o.ortAlone.frameMs, o.spliced.frameMs)])} | spliced / ceiling ${range([ratio(o.spliced.frameMs, o.ceiling.frameMs)])}; ${o.spliced.stretches} stretches, ${o.spliced.librarySteps} library steps |`,
  );
}
console.log(
  `Run of ${report.date}${report.quick ? ' (--quick)' : ''}, adapter ${report.adapter}, ONNX Runtime Web ${report.ortVersion}:\n`,
);
console.log(lines.join('\n'));
