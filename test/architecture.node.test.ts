import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The layout of src/ and the direction of its imports: api → validation → the backends (gpu,
// cpu) → core; the reference reads validation and core; the TF.js and ONNX Runtime adapters only
// the package's own entry; nothing imports the API back. A new import that runs backwards fails here.

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');

const MAY_IMPORT: Record<string, readonly string[]> = {
  core: ['core'],
  gpu: ['gpu', 'core'],
  cpu: ['cpu', 'core'],
  validation: ['validation', 'gpu', 'cpu', 'core'],
  reference: ['reference', 'validation', 'core'],
  api: ['api', 'validation', 'gpu', 'cpu', 'core'],
  tfjs: ['tfjs', 'index'],
  onnxruntime: ['onnxruntime', 'index'],
  index: ['api', 'core', 'gpu', 'cpu', 'validation'],
};

function files(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

/** The part of src/ a file belongs to: its folder, or 'index' for the entry. */
function partOf(path: string): string {
  const rel = relative(src, path);
  return rel === 'index.ts' ? 'index' : rel.split(/[\\/]/)[0];
}

const sources = files(src).filter((path) => path.endsWith('.ts'));

/** The relative imports of a file (at `path`, holding `text`) into a part it may not import. */
function backwardImports(path: string, text: string): string[] {
  const from = partOf(path);
  const backwards: string[] = [];
  for (const [, specifier] of text.matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
    const target = normalize(join(dirname(path), specifier));
    if (!target.startsWith(src)) continue; // shaders/, wasm/
    const to = partOf(target.replace(/\.js$/, '.ts'));
    if (!MAY_IMPORT[from].includes(to)) backwards.push(`${specifier} (${from} → ${to})`);
  }
  return backwards;
}

describe('src/ is grouped by part, with imports running one way', () => {
  it('every file but the entry lives in the folder of a part', () => {
    const loose = sources.filter((path) => partOf(path) !== 'index' && relative(src, path) === partOf(path));
    expect(loose).toEqual([]);
    for (const path of sources) expect(Object.keys(MAY_IMPORT), relative(root, path)).toContain(partOf(path));
  });

  it.each(sources.map((path) => [relative(root, path), path] as const))(
    '%s imports only from the parts below it',
    (_name, path) => {
      expect(backwardImports(path, readFileSync(path, 'utf8'))).toEqual([]);
    },
  );

  it('the check catches an import that runs backwards, type-only ones included', () => {
    const core = join(src, 'core', 'errors.ts');
    expect(backwardImports(core, "import type { InstanceNorm } from '../api/instance-norm.js';")).toEqual([
      '../api/instance-norm.js (core → api)',
    ]);
    expect(backwardImports(join(src, 'gpu', 'planner.ts'), "import { x } from '../cpu/cpu-backend.js';")).toHaveLength(1);
    expect(backwardImports(join(src, 'api', 'instance-norm.ts'), "import { x } from '../gpu/planner.js';")).toEqual([]);
  });

  // The .d.ts files tsc emits keep these specifiers: under `moduleResolution: node16` or
  // `nodenext` an extensionless one does not resolve, and with skipLibCheck the package's types
  // silently become `any` (check:package typechecks an app that way).
  it.each(sources.map((path) => [relative(root, path), path] as const))(
    '%s names the file of every relative import (.js for a TypeScript module)',
    (_name, path) => {
      const bare = [...readFileSync(path, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)]
        .map(([, specifier]) => specifier)
        .filter((specifier) => !/\.(js|wgsl\?raw)$/.test(specifier));
      expect(bare).toEqual([]);
    },
  );
});

describe('shaders/ is grouped by role', () => {
  const ROLES = ['kernels', 'elements', 'math', 'reductions'];
  it('every WGSL file is in the folder of its role', () => {
    const shaders = join(root, 'shaders');
    expect(readdirSync(shaders).sort()).toEqual([...ROLES].sort());
    const kernelSources = readFileSync(join(src, 'gpu', 'shader-sources.ts'), 'utf8');
    for (const role of ROLES) {
      for (const file of readdirSync(join(shaders, role))) {
        expect(kernelSources, `${role}/${file} is composed by shader-sources.ts`).toContain(`shaders/${role}/${file}?raw`);
      }
    }
  });
});
