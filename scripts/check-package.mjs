// `npm run check:package` (after `npm run build`): packs the library as npm would publish it,
// checks what the tarball holds, installs it into a fresh app that imports it by name, and
// typechecks that app strictly against @webgpu/types. Also imports it in Node (the CPU path).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'instancenorm-package-'));
const run = (command, args, cwd = root) =>
  execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
const fail = (message) => {
  console.error(`check:package: ${message}`);
  process.exit(1);
};

try {
  const [pack] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work]));
  const files = pack.files.map((f) => f.path).sort();
  const unexpected = files.filter((f) => !f.startsWith('dist/') && !['README.md', 'LICENSE', 'package.json'].includes(f));
  if (unexpected.length) fail(`the tarball holds files it should not: ${unexpected.join(', ')}`);
  for (const needed of [
    'dist/webgpu-instancenorm.js',
    'dist/webgpu-instancenorm.js.map',
    'dist/index.d.ts',
    'README.md',
    'LICENSE',
  ]) {
    if (!files.includes(needed)) fail(`the tarball lacks ${needed}`);
  }
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  if (manifest.dependencies && Object.keys(manifest.dependencies).length) fail('the library must have no run-time dependencies');
  if (manifest.sideEffects !== false) fail('package.json needs "sideEffects": false');
  const entry = manifest.exports?.['.'];
  if (!entry?.types || !entry?.import) fail('package.json exports "." needs "types" and "import"');
  const bundle = readFileSync(join(root, 'dist/webgpu-instancenorm.js'), 'utf8');
  if (!bundle.includes('workgroupBarrier') || /from\s*['"][^'"]*\.wgsl/.test(bundle)) fail('the WGSL is not inlined in dist/');
  console.log(`check:package: ${pack.filename}, ${files.length} files, ${(pack.size / 1024).toFixed(1)} KiB packed`);

  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  run('npm', ['install', '--no-audit', '--no-fund', '--offline', join(work, pack.filename)], app);
  // The app's own dev dependency, taken from this checkout rather than the network.
  mkdirSync(join(app, 'node_modules/@webgpu'), { recursive: true });
  symlinkSync(join(root, 'node_modules/@webgpu/types'), join(app, 'node_modules/@webgpu/types'));
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'ESNext',
        moduleResolution: 'bundler',
        lib: ['ES2022', 'DOM'],
        types: ['@webgpu/types'],
        strict: true,
        noEmit: true,
        skipLibCheck: false,
      },
      include: ['main.ts'],
    }),
  );
  writeFileSync(
    join(app, 'main.ts'),
    `import { InstanceNorm, InstanceNormError, instanceNormCpu, type InstanceNormOptions, type TuneResult } from 'webgpu-instancenorm';

const options: InstanceNormOptions = { layout: 'nhwc', epsilon: 1e-5, scale: new Float32Array(3), bias: new Float32Array(3) };
const cpu: Float32Array = instanceNormCpu(new Float32Array(12), [1, 2, 2, 3], options);
const norm: InstanceNorm = await InstanceNorm.create({ fallback: 'cpu', strategy: 'auto' });
const gpu: Float32Array = await norm.run(new Float32Array(12), [1, 2, 2, 3], options);
if (norm.backend === 'webgpu' && norm.device) {
  const device: GPUDevice = norm.device;
  const input: GPUBuffer = device.createBuffer({ size: 48, usage: GPUBufferUsage.STORAGE });
  const output: GPUBuffer = device.createBuffer({ size: 48, usage: GPUBufferUsage.STORAGE });
  const encoder = device.createCommandEncoder();
  norm.encode(encoder, input, output, [1, 3, 4], { scale: input });
  device.queue.submit([encoder.finish()]);
  await norm.checkErrors();
  const tuned: TuneResult = await norm.tune([1, 3, 4]);
  console.log(tuned.strategy, norm.plan([1, 3, 4]).windows.length);
}
try {
  instanceNormCpu(cpu, [2, 3]);
} catch (error) {
  if (error instanceof InstanceNormError) console.log(error.message, gpu.length);
}
norm.destroy();
`,
  );
  run(join(root, 'node_modules/.bin/tsc'), ['-p', join(app, 'tsconfig.json')], app);
  console.log('check:package: a strict TypeScript app importing webgpu-instancenorm compiles');
  writeFileSync(
    join(app, 'smoke.mjs'),
    `import { instanceNormCpu } from 'webgpu-instancenorm';
const y = instanceNormCpu(new Float32Array([1, 2, 3, 4]), [1, 1, 4], { epsilon: 0 });
if (Math.abs(y[3] - 3 / Math.sqrt(5)) > 1e-6) throw new Error('wrong result ' + y);
console.log('check:package: the installed package runs in Node (CPU path)');`,
  );
  process.stdout.write(run('node', ['smoke.mjs'], app));
} finally {
  rmSync(work, { recursive: true, force: true });
}
