// `npm run check:package`: packs the library the way a fresh clone, `npm publish` or an install from
// a git URL would, and uses it the way a new user would.
//
// 1. Copies the checkout's files (those git tracks, plus untracked ones it does not ignore) into a
//    temporary folder with no dist/, links the repository's node_modules into it, and runs
//    `npm pack` there, so that the package's `prepare` script has to build dist/ (a dist/ left in
//    the repository by an earlier `npm run build` plays no part).
// 2. Checks the tarball: exactly package.json, README.md, LICENSE, src/ and shaders/ (the targets of
//    the source maps), the one-module bundle dist/webgpu-instancenorm.js and its map, and a .d.ts and
//    .d.ts.map per source file, dist/tfjs.js with its map (webgpu-instancenorm/tfjs) and
//    dist/onnxruntime.js with its map (webgpu-instancenorm/onnxruntime); no run-time
//    dependencies, TF.js's packages and onnxruntime-web only as optional peer dependencies,
//    "sideEffects" only for dist/tfjs.js, exports ".", "./tfjs" and "./onnxruntime" with "types"
//    and "import"; dist/tfjs.js importing only TF.js and the library by its name,
//    dist/onnxruntime.js only the library by its name, the library's bundle neither.
// 3. Installs the tarball (`npm install --offline <tgz>`) into an empty Vite + TypeScript app
//    (scripts/package-app/app-files.mjs) and checks the installed package: the WGSL inlined, no
//    imports left in the bundle (it works from a plain page with an import map), every `sources`
//    entry of every .map resolving to a file inside the package.
// 4. Typechecks the app strictly (skipLibCheck off, types: ['@webgpu/types']), builds it with
//    `vite build`, serves it from http://localhost and runs it in headless Chromium: the backend
//    must be 'webgpu' and run(), encode() (read back through a MAP_READ buffer) and instanceNormCpu
//    must give what is worked out here by hand, within 1e-5. Then a plain page with no bundler, an
//    import map pointing the package's name at dist/webgpu-instancenorm.js (the README's way).
// 5. Installs it into a fresh TF.js app (scripts/package-app/app-files.mjs, tfjsAppFiles) with this
//    checkout's TF.js packages linked in: webgpu-instancenorm/tfjs must typecheck strictly (no
//    skipLibCheck) against TF.js's declarations, build with Vite, and on TF.js's WebGPU backend
//    give the values worked out here by hand through the op, groupNorm, a Keras layer and a gradient.
//    Both entries must also typecheck under `module: node16`, as a Node ESM project sees them.
// 6. Installs it into a fresh ONNX Runtime Web app (scripts/package-app/app-files.mjs, ortAppFiles)
//    with this checkout's onnxruntime-web linked in: webgpu-instancenorm/onnxruntime must typecheck
//    strictly (no skipLibCheck) against ORT's declarations, with ORT's module passed to
//    createSession as it is, and under `module: node16`; build with Vite; and in Chromium run a
//    fixture of test/fixtures/onnx/ (Conv1d → InstanceNormalization + LeakyRelu → Conv1d) spliced
//    on ORT's WebGPU EP, giving ORT alone's output on its wasm EP within 1e-4, the same values from
//    an output left on the GPU, the plan expected, leaveToOrt honoured, a plain ORT session on the
//    wasm EP, and an InstanceNormError 'invalid-model' for bytes that are no model.
// 7. Imports the installed package in Node and runs the CPU path.
//
// The apps' vite, typescript, @webgpu/types, TF.js packages and onnxruntime-web are links to this
// checkout's node_modules (no network). CHECK_PACKAGE_KEEP=1 keeps the temporary folder and prints
// where it is.
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  appFiles,
  INPUT,
  ORT_DIMS,
  ORT_INPUT,
  ORT_MODEL,
  ortAppFiles,
  plainPage,
  SHAPE,
  tfjsAppFiles,
} from './package-app/app-files.mjs';
import { runInChromium } from './package-app/browser.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const NAME = 'webgpu-instancenorm';
const BUNDLE = `dist/${NAME}.js`;
const TFJS_BUNDLE = 'dist/tfjs.js';
const ORT_BUNDLE = 'dist/onnxruntime.js';
// What webgpu-instancenorm/tfjs may import: TF.js (optional peer dependencies) and the library by its name.
const TFJS_IMPORTS = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', NAME];
const TFJS_PACKAGES = [
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-layers',
  '@tensorflow/tfjs-backend-webgpu',
  '@tensorflow/tfjs-backend-cpu',
];
const TOLERANCE = 1e-5;

class CheckFailure extends Error {}
const fail = (message) => {
  throw new CheckFailure(message);
};
const started = performance.now();
const say = (message) => console.log(`check:package: ${message} (${((performance.now() - started) / 1000).toFixed(1)} s)`);

/** Runs a command; on failure, fails with its output. Returns its stdout. */
function run(command, args, cwd, what = `${command} ${args.join(' ')}`) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) fail(`${what} could not start: ${result.error.message}`);
  if (result.status !== 0) {
    const tail = (text) => (text.length > 12_000 ? `...${text.slice(-12_000)}` : text);
    fail(`${what} failed (exit ${result.status}) in ${cwd}:\n${tail(result.stdout)}\n${tail(result.stderr)}`);
  }
  return result.stdout;
}

/** Every file under `folder`, as paths relative to it with forward slashes. */
function walk(folder, prefix = '') {
  return readdirSync(join(folder, prefix), { withFileTypes: true }).flatMap((entry) => {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    return entry.isDirectory() ? walk(folder, path) : [path];
  });
}

/** The checkout as a fresh clone of it would have it (plus files not committed yet): no dist/, no node_modules/. */
function cleanCopy(into) {
  const listed = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], root, 'git ls-files');
  const paths = [...new Set(listed.split('\0').filter(Boolean))];
  let copied = 0;
  for (const path of paths) {
    if (path === 'node_modules' || path.startsWith('node_modules/')) continue; // a link git does not ignore as node_modules/
    const from = join(root, path);
    let stat;
    try {
      stat = lstatSync(from);
    } catch {
      continue; // deleted in the working tree, not yet in the index
    }
    if (stat.isDirectory()) continue; // a submodule: not part of the package
    const to = join(into, path);
    mkdirSync(dirname(to), { recursive: true });
    if (stat.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
    else copyFileSync(from, to);
    copied++;
  }
  return copied;
}

/** The import and export-from lines of a module. */
function bundleImportsOf(text) {
  return [...text.matchAll(/^\s*(import|export)\s[^;]*?from\s*['"][^'"]+['"]/gm)].map((m) => m[0]).join('\n');
}

function near(actual, expected) {
  return (
    Array.isArray(actual) &&
    actual.length === expected.length &&
    actual.every((value, i) => typeof value === 'number' && Math.abs(value - expected[i]) <= TOLERANCE)
  );
}

const work = mkdtempSync(join(tmpdir(), 'instancenorm-package-'));
try {
  // 1. Pack from a clean copy, so that the package's own scripts must build dist/.
  const checkout = join(work, 'checkout');
  mkdirSync(checkout);
  const copied = cleanCopy(checkout);
  for (const absent of ['dist', 'node_modules']) {
    if (existsSync(join(checkout, absent))) fail(`the clean copy has a ${absent}/ before packing (is it committed?)`);
  }
  if (!existsSync(join(root, 'node_modules'))) fail('node_modules is missing: run `npm ci` first');
  symlinkSync(join(root, 'node_modules'), join(checkout, 'node_modules'), 'dir');
  say(`copied ${copied} files of the checkout, without dist/`);

  const packed = join(work, 'packed');
  mkdirSync(packed);
  run('npm', ['pack', '--pack-destination', packed], checkout, 'npm pack (in the clean copy)');
  const tarballs = readdirSync(packed).filter((f) => f.endsWith('.tgz'));
  if (tarballs.length !== 1) fail(`npm pack made ${tarballs.length} tarballs: ${tarballs.join(', ')}`);
  const tarball = join(packed, tarballs[0]);
  say(`npm pack built and packed ${tarballs[0]}, ${(statSync(tarball).size / 1024).toFixed(1)} KiB`);

  // 2. What the tarball holds.
  const files = run('tar', ['-tzf', tarball], work)
    .split('\n')
    .filter((line) => line && !line.endsWith('/'))
    .map((line) => line.replace(/^package\//, ''))
    .sort();
  const sources = walk(join(checkout, 'src')).map((f) => `src/${f}`);
  const shaders = walk(join(checkout, 'shaders')).map((f) => `shaders/${f}`);
  const declarations = sources
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .flatMap((f) => {
      const base = `dist/${f.slice('src/'.length, -'.ts'.length)}`;
      return [`${base}.d.ts`, `${base}.d.ts.map`];
    });
  const expected = new Set([
    'package.json',
    'README.md',
    'LICENSE',
    BUNDLE,
    `${BUNDLE}.map`,
    TFJS_BUNDLE,
    `${TFJS_BUNDLE}.map`,
    ORT_BUNDLE,
    `${ORT_BUNDLE}.map`,
    'dist/index.d.ts',
    ...declarations,
    ...sources,
    ...shaders,
  ]);
  const missing = [...expected].filter((f) => !files.includes(f));
  const unexpected = files.filter((f) => !expected.has(f));
  if (missing.length) fail(`the tarball lacks ${missing.join(', ')}`);
  if (unexpected.length) fail(`the tarball holds files it should not: ${unexpected.join(', ')}`);
  say(
    `the tarball holds the bundle and its map, ${declarations.length / 2} .d.ts with maps, ${sources.length} sources, ${shaders.length} shaders`,
  );

  // 3. Install it into an empty app, as a user would, and look at what got installed.
  const app = join(work, 'app');
  mkdirSync(app);
  for (const [path, text] of Object.entries(appFiles)) writeFileSync(join(app, path), text);
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], app, 'npm install <tarball> (in the app)');
  // `npm install --save-dev vite typescript @webgpu/types`, offline: this checkout's copies.
  for (const dependency of ['vite', 'typescript', '@webgpu/types']) {
    const link = join(app, 'node_modules', dependency);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(root, 'node_modules', dependency), link, 'dir');
  }
  const installed = join(app, 'node_modules', NAME);
  if (lstatSync(installed).isSymbolicLink()) fail(`${installed} is a link, not an installed copy`);
  const installedFiles = walk(installed).sort();
  if (installedFiles.join('\n') !== files.join('\n')) fail('the installed package differs from the tarball');
  say('npm install --offline <tarball> put it into an empty Vite + TypeScript app');

  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
  if (manifest.name !== NAME) fail(`the package is named ${manifest.name}`);
  for (const field of ['dependencies', 'optionalDependencies']) {
    if (manifest[field] && Object.keys(manifest[field]).length) fail(`the library must have no run-time ${field}`);
  }
  // Peer dependencies: TF.js's packages and ONNX Runtime Web only, each optional (the main entry imports none of them).
  for (const [peer, range] of Object.entries(manifest.peerDependencies ?? {})) {
    if (!peer.startsWith('@tensorflow/') && peer !== 'onnxruntime-web')
      fail(`the peer dependency ${peer} is not a TF.js package or onnxruntime-web`);
    if (manifest.peerDependenciesMeta?.[peer]?.optional !== true) fail(`the peer dependency ${peer} (${range}) is not optional`);
  }
  // Only the tfjs entry has side effects (it registers kernels, gradients and layers on import).
  if (JSON.stringify(manifest.sideEffects) !== JSON.stringify([`./${TFJS_BUNDLE}`])) {
    fail(`package.json needs "sideEffects": ["./${TFJS_BUNDLE}"], got ${JSON.stringify(manifest.sideEffects)}`);
  }
  const entry = manifest.exports?.['.'];
  const tfjsEntry = manifest.exports?.['./tfjs'];
  const ortEntry = manifest.exports?.['./onnxruntime'];
  if (!entry?.types || !entry?.import) fail('package.json exports "." needs "types" and "import"');
  if (!tfjsEntry?.types || !tfjsEntry?.import) fail('package.json exports "./tfjs" needs "types" and "import"');
  if (!ortEntry?.types || !ortEntry?.import) fail('package.json exports "./onnxruntime" needs "types" and "import"');
  for (const target of [
    entry.types,
    entry.import,
    tfjsEntry.types,
    tfjsEntry.import,
    ortEntry.types,
    ortEntry.import,
    manifest.types,
    manifest.main,
    manifest.module,
  ]) {
    if (target && !existsSync(join(installed, target))) fail(`package.json names ${target}, which the package lacks`);
  }
  if (entry.import !== `./${BUNDLE}`) fail(`exports "." imports ${entry.import}, expected ./${BUNDLE}`);
  if (tfjsEntry.import !== `./${TFJS_BUNDLE}`) fail(`exports "./tfjs" imports ${tfjsEntry.import}, expected ./${TFJS_BUNDLE}`);
  const tfjsBundle = readFileSync(join(installed, TFJS_BUNDLE), 'utf8');
  const tfjsImports = [...tfjsBundle.matchAll(/^\s*import\s[^;]*?from\s*['"]([^'"]+)['"]/gm)].map((m) => m[1]);
  const strayImports = tfjsImports.filter((i) => !TFJS_IMPORTS.includes(i));
  if (strayImports.length || /\bimport\s*\(|\brequire\s*\(/.test(tfjsBundle)) {
    fail(`${TFJS_BUNDLE} imports ${strayImports.join(', ') || 'dynamically'}; it may import only ${TFJS_IMPORTS.join(', ')}`);
  }
  if (/tfjs|tensorflow/i.test(bundleImportsOf(readFileSync(join(installed, BUNDLE), 'utf8')))) fail(`${BUNDLE} imports TF.js`);
  // webgpu-instancenorm/onnxruntime is handed the app's ORT module: it imports the library alone.
  if (ortEntry.import !== `./${ORT_BUNDLE}`) fail(`exports "./onnxruntime" imports ${ortEntry.import}, expected ./${ORT_BUNDLE}`);
  const ortBundle = readFileSync(join(installed, ORT_BUNDLE), 'utf8');
  const ortImports = [...ortBundle.matchAll(/^\s*import\s[^;]*?from\s*['"]([^'"]+)['"]/gm)].map((m) => m[1]);
  if (ortImports.some((i) => i !== NAME) || /\bimport\s*\(|\brequire\s*\(/.test(ortBundle)) {
    fail(`${ORT_BUNDLE} imports ${ortImports.filter((i) => i !== NAME).join(', ') || 'dynamically'}; it may import only ${NAME}`);
  }

  const bundle = readFileSync(join(installed, BUNDLE), 'utf8');
  if (!bundle.includes('workgroupBarrier') || !bundle.includes('@compute') || /['"][^'"\s]*\.wgsl(\?raw)?['"]/.test(bundle)) {
    fail(`the WGSL is not inlined in ${BUNDLE}`);
  }
  const imports = [
    [/^\s*import\s*[\w{*'"]/m, 'an import statement'],
    [/^\s*export\s[^;]*?\bfrom\s*['"]/m, 'an export ... from'],
    [/\bimport\s*\(/, 'a dynamic import()'],
    [/\brequire\s*\(/, 'a require()'],
  ];
  for (const [pattern, what] of imports) {
    const match = bundle.match(pattern);
    if (match) fail(`${BUNDLE} has ${what} (${match[0].trim()}): it must be one self-contained module`);
  }

  let mapped = 0;
  for (const map of installedFiles.filter((f) => f.endsWith('.map'))) {
    const { sourceRoot = '', sources: mapSources = [] } = JSON.parse(readFileSync(join(installed, map), 'utf8'));
    if (!mapSources.length) fail(`${map} names no sources`);
    for (const source of mapSources) {
      const target = resolve(installed, dirname(map), sourceRoot, source);
      if (!target.startsWith(installed + sep) || !existsSync(target)) {
        fail(`${map} points at ${source}, which is not in the installed package (${relative(installed, target)})`);
      }
      mapped++;
    }
  }
  say(`the bundle is one module with the WGSL inlined; all ${mapped} source map entries resolve inside the package`);

  // 4. The app: strict typecheck, vite build, and a run in Chromium on WebGPU.
  run('node', [join(app, 'node_modules/typescript/bin/tsc'), '-p', join(app, 'tsconfig.json')], app, 'tsc (the app)');
  say('the app typechecks strictly against the package and @webgpu/types (skipLibCheck: false)');
  run('node', [join(app, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], app, 'vite build (the app)');
  if (!existsSync(join(app, 'dist/index.html'))) fail('vite build made no dist/index.html');
  say('vite build built the app');

  const page = await runInChromium(join(app, 'dist'));
  const detail = `\n${JSON.stringify(page.result ?? page.error, null, 2)}${page.logs.length ? `\n${page.logs.join('\n')}` : ''}`;
  if (page.error !== undefined) fail(`the app failed in Chromium: ${page.error}${detail}`);
  const report = page.result;
  // By hand: [1, 2, 3, 4] has mean 2.5 and biased variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25.
  const mean = 2.5;
  const variance = 1.25;
  if (SHAPE.join() !== '1,1,4' || INPUT.join() !== '1,2,3,4') fail('the app computes another input than worked out here');
  const exact = INPUT.map((x) => (x - mean) / Math.sqrt(variance));
  const withDefaultEpsilon = INPUT.map((x) => (x - mean) / Math.sqrt(variance + 1e-5));
  const nhwc = [1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]; // scale 0: each channel's bias
  if (report?.backend !== 'webgpu') fail(`the app ran on the ${report?.backend} backend, not WebGPU${detail}`);
  if (!near(report.run, withDefaultEpsilon)) fail(`run() gave ${report.run}, expected ${withDefaultEpsilon}${detail}`);
  if (!near(report.encode, exact)) fail(`encode() read back ${report.encode}, expected ${exact}${detail}`);
  if (!near(report.cpu, exact)) fail(`instanceNormCpu gave ${report.cpu}, expected ${exact}${detail}`);
  if (!near(report.nhwc, nhwc)) fail(`the nhwc run gave ${report.nhwc}, expected ${nhwc}${detail}`);
  if (report.instanceNormError !== true) fail(`a bad shape did not throw an InstanceNormError${detail}`);
  if (!report.tuned || !(report.planWindows >= 1)) fail(`tune() or plan() gave nothing${detail}`);
  say(
    `the built app ran in headless Chromium on WebGPU (${report.adapter || 'adapter unnamed'}): run(), encode() read back, instanceNormCpu and an nhwc run match by hand; tune() chose ${report.tuned}`,
  );

  writeFileSync(join(app, 'plain.html'), plainPage);
  const plain = await runInChromium(app, '/plain.html');
  const plainDetail = `\n${JSON.stringify(plain.result ?? plain.error)}${plain.logs.length ? `\n${plain.logs.join('\n')}` : ''}`;
  if (plain.result?.backend !== 'webgpu' || !near(plain.result.run, exact)) {
    fail(`a plain page importing dist/ through an import map did not compute on WebGPU${plainDetail}`);
  }
  say('a plain page with no bundler, an import map pointing at the bundle, computes it too');

  // 5. A fresh TF.js app: webgpu-instancenorm/tfjs typechecks strictly against TF.js's declarations,
  // builds, and computes on TF.js's WebGPU backend.
  const tfjsApp = join(work, 'tfjs-app');
  mkdirSync(tfjsApp);
  for (const [path, text] of Object.entries(tfjsAppFiles)) writeFileSync(join(tfjsApp, path), text);
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], tfjsApp, 'npm install <tarball> (in the TF.js app)');
  // `npm install @tensorflow/tfjs-core @tensorflow/tfjs-layers ...`, offline: this checkout's copies.
  for (const dependency of ['vite', 'typescript', '@webgpu/types', ...TFJS_PACKAGES]) {
    const link = join(tfjsApp, 'node_modules', dependency);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(root, 'node_modules', dependency), link, 'dir');
  }
  // TF.js's own declarations have errors under strict with skipLibCheck off (tfjs-core's hash_util
  // names Long, tfjs-layers' keras_format types): those are TF.js's and are counted; any error in
  // the app or in this package's declarations fails.
  const tsc = spawnSync('node', [join(tfjsApp, 'node_modules/typescript/bin/tsc'), '-p', join(tfjsApp, 'tsconfig.json')], {
    cwd: tfjsApp,
    encoding: 'utf8',
  });
  const diagnostics = tsc.stdout.split('\n').filter((line) => /^\S.*\(\d+,\d+\): error TS/.test(line));
  const ours = diagnostics.filter((line) => !line.includes('/@tensorflow/'));
  if (tsc.error || ours.length || (tsc.status !== 0 && !diagnostics.length)) {
    fail(`tsc (the TF.js app) failed in ${tfjsApp}:\n${ours.join('\n') || tsc.stdout || tsc.stderr || tsc.error}`);
  }
  say(
    `a fresh TF.js app typechecks webgpu-instancenorm/tfjs strictly (skipLibCheck: false): no error in the app or the package's declarations (${diagnostics.length} in TF.js's own)`,
  );
  // The same app as a Node ESM project sees the package (module node16): the declarations' relative
  // imports must resolve there too, and the types must be real (node16.ts expects an error of them).
  const node16 = spawnSync(
    'node',
    [join(tfjsApp, 'node_modules/typescript/bin/tsc'), '-p', join(tfjsApp, 'tsconfig.node16.json')],
    { cwd: tfjsApp, encoding: 'utf8' },
  );
  const node16Diagnostics = node16.stdout.split('\n').filter((line) => /^\S.*\(\d+,\d+\): error TS/.test(line));
  const node16Ours = node16Diagnostics.filter((line) => !line.includes('/@tensorflow/'));
  if (node16.error || node16Ours.length || (node16.status !== 0 && !node16Diagnostics.length)) {
    fail(`tsc (module node16) failed in ${tfjsApp}:\n${node16Ours.join('\n') || node16.stdout || node16.stderr || node16.error}`);
  }
  say(
    `both entries typecheck under module and moduleResolution node16 (skipLibCheck: false), their types real (${node16Diagnostics.length} errors in TF.js's own)`,
  );
  run(
    'node',
    [join(tfjsApp, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'],
    tfjsApp,
    'vite build (the TF.js app)',
  );
  const tfjsPage = await runInChromium(join(tfjsApp, 'dist'));
  const tfjsDetail = `\n${JSON.stringify(tfjsPage.result ?? tfjsPage.error, null, 2)}${tfjsPage.logs.length ? `\n${tfjsPage.logs.join('\n')}` : ''}`;
  if (tfjsPage.error !== undefined) fail(`the TF.js app failed in Chromium: ${tfjsPage.error}${tfjsDetail}`);
  const tf = tfjsPage.result;
  if (tf?.backend !== 'webgpu') fail(`the TF.js app ran on TF.js's ${tf?.backend} backend, not webgpu${tfjsDetail}`);
  for (const key of ['op', 'group', 'layer']) {
    if (!near(tf[key], exact)) fail(`the TF.js app's ${key} gave ${tf[key]}, expected ${exact}${tfjsDetail}`);
  }
  if (!near(tf.gradient, [0, 0, 0, 0]))
    fail(`the TF.js app's gradient of the sum gave ${tf.gradient}, expected zeros${tfjsDetail}`);
  if (tf.instanceNormError !== true)
    fail(`groupNorm with 3 groups of 1 channel did not throw an InstanceNormError naming groups${tfjsDetail}`);
  say(
    "the built TF.js app ran on TF.js's WebGPU backend: instanceNorm, groupNorm, the InstanceNormalization layer and a gradient match by hand",
  );

  // 6. A fresh ONNX Runtime Web app: webgpu-instancenorm/onnxruntime typechecks strictly against
  // ORT's declarations, builds, and runs a fixture model spliced on ORT's WebGPU EP.
  const ortApp = join(work, 'ort-app');
  mkdirSync(join(ortApp, 'public'), { recursive: true });
  for (const [path, text] of Object.entries(ortAppFiles)) writeFileSync(join(ortApp, path), text);
  copyFileSync(join(checkout, 'test/fixtures/onnx', ORT_MODEL), join(ortApp, 'public', ORT_MODEL));
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], ortApp, 'npm install <tarball> (in the ORT app)');
  // `npm install onnxruntime-web`, offline: this checkout's copy (its own dependencies resolve beside it).
  for (const dependency of ['vite', 'typescript', '@webgpu/types', 'onnxruntime-web']) {
    const link = join(ortApp, 'node_modules', dependency);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(root, 'node_modules', dependency), link, 'dir');
  }
  for (const config of ['tsconfig.json', 'tsconfig.node16.json']) {
    const tscOrt = spawnSync('node', [join(ortApp, 'node_modules/typescript/bin/tsc'), '-p', join(ortApp, config)], {
      cwd: ortApp,
      encoding: 'utf8',
    });
    if (tscOrt.error || tscOrt.status !== 0) {
      fail(`tsc -p ${config} (the ORT app) failed in ${ortApp}:\n${tscOrt.stdout || tscOrt.stderr || tscOrt.error}`);
    }
  }
  say(
    'a fresh ONNX Runtime Web app typechecks webgpu-instancenorm/onnxruntime strictly against ORT 1.30 (skipLibCheck: false), also under module node16',
  );
  run('node', [join(ortApp, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], ortApp, 'vite build (the ORT app)');
  const ortPage = await runInChromium(join(ortApp, 'dist'));
  const ortDetail = `\n${JSON.stringify(ortPage.result ?? ortPage.error, null, 2)}${ortPage.logs.length ? `\n${ortPage.logs.join('\n')}` : ''}`;
  if (ortPage.error !== undefined) fail(`the ORT app failed in Chromium: ${ortPage.error}${ortDetail}`);
  const o = ortPage.result;
  if (o?.mode !== 'spliced' || o.steps?.join() !== 'ort,library,ort') {
    fail(`the ORT app's plan is ${o?.mode} [${o?.steps}], expected spliced [ort, library, ort]${ortDetail}`);
  }
  if (o.activation !== 'leakyRelu' || o.shape?.join() !== `${ORT_DIMS[0]},8,${ORT_DIMS[2]}`) {
    fail(`the ORT app's library step fused ${o.activation} on [${o.shape}], expected leakyRelu on [1, 8, 6]${ortDetail}`);
  }
  if (o.dims?.join() !== `${ORT_DIMS[0]},4,${ORT_DIMS[2]}` || o.alone?.length !== ORT_INPUT.length) {
    fail(`the ORT app's output has dims [${o.dims}]${ortDetail}`);
  }
  // Within 1e-4 of ORT alone's (its wasm EP) output, relative to the output's scale and each value.
  const ortScale = Math.max(...o.alone.map(Math.abs));
  const off = o.spliced.findIndex((v, i) => !(Math.abs(v - o.alone[i]) <= 1e-4 * (ortScale + Math.abs(o.alone[i]))));
  if (ortScale === 0 || off !== -1) {
    fail(`the spliced session gave ${o.spliced[off]} at ${off} where ORT alone gives ${o.alone[off]}${ortDetail}`);
  }
  if (o.gpuLocation !== 'gpu-buffer' || o.fromGpu.join() !== o.spliced.join()) {
    fail(`the output left on the GPU (${o.gpuLocation}) read back other values than the CPU output${ortDetail}`);
  }
  if (o.leftActivation !== 'none') fail(`leaveToOrt: ['LeakyRelu'] left the step's activation ${o.leftActivation}${ortDetail}`);
  if (o.plainMode !== 'ort' || !/first execution provider is 'wasm'/.test(o.plainReason)) {
    fail(`on the wasm EP the session was ${o.plainMode} (${o.plainReason}), expected a plain ORT session${ortDetail}`);
  }
  if (o.invalidModel !== true) fail(`bytes that are no model did not give an InstanceNormError 'invalid-model'${ortDetail}`);
  say(
    `the built ORT app ran ${ORT_MODEL} through webgpu-instancenorm/onnxruntime on ORT's WebGPU EP: ORT alone's output (wasm EP) within 1e-4, the plan, an output left on the GPU, leaveToOrt, the wasm fallback and a bad model as expected`,
  );

  // 7. Node, the CPU path.
  writeFileSync(
    join(app, 'smoke.mjs'),
    `import { instanceNormCpu, InstanceNorm } from '${NAME}';
const expected = ${JSON.stringify(exact)};
const y = instanceNormCpu(new Float32Array(${JSON.stringify(INPUT)}), ${JSON.stringify(SHAPE)}, { epsilon: 0 });
const norm = await InstanceNorm.create();
const z = await norm.run(new Float32Array(${JSON.stringify(INPUT)}), ${JSON.stringify(SHAPE)}, { epsilon: 0 });
if (norm.backend !== 'cpu') throw new Error('backend ' + norm.backend);
for (const r of [y, z]) if (r.some((v, i) => Math.abs(v - expected[i]) > ${TOLERANCE})) throw new Error('wrong result ' + r);
`,
  );
  run('node', ['smoke.mjs'], app, 'node smoke.mjs (the installed package in Node)');
  say('the installed package runs in Node (CPU backend)');
  say('passed');
} catch (error) {
  if (!(error instanceof CheckFailure)) throw error;
  console.error(`check:package: ${error.message}`);
  process.exitCode = 1;
} finally {
  if (process.env.CHECK_PACKAGE_KEEP) console.log(`check:package: kept ${realpathSync(work)}`);
  else rmSync(work, { recursive: true, force: true });
}
