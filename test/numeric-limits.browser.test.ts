import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackwardOptions, InstanceNorm, type Layout, RunningStats, type Strategy, toFloat16Bits } from '../src';
import { type DeviceProfile, deviceProfile } from '../src/gpu/device-profile';
import { GpuBackend } from '../src/gpu/gpu-backend';
import type { ElementKind } from '../src/gpu/planner';
import { referenceAdain, referenceBackward, referenceInstanceNorm, referenceStats } from '../src/reference/float64-reference';
import { validateCall } from '../src/validation/validation';
import { expectClose } from './helpers/compare';
import { adapterFeatures } from './helpers/features';
import { expectWithinHalfUlps, halfBuffer, readHalves } from './helpers/float16';
import { readBuffer, storageBuffer } from './helpers/gpu';
import { randomNormal, randomUniform, seededRandom } from './helpers/random';
import { describeCase, elementCount, shapeOf, type TensorCase } from './helpers/shapes';

// What float32 cannot hold, on every strategy, element kind and workgroup merge, against the
// float64 CPU reference, each output poisoned with NaN first:
// - deviations from the mean up to about 1.8e19 (sqrt of float32's max) give a finite, correct
//   output; at 2e19 the variance overflows float32 and the instance is NaN, never a wrong number;
// - where var + epsilon is below float32's smallest normal number 2^-126 (a constant instance with
//   epsilon 0, subnormal or tiny values), 1 / sqrt(var + epsilon) is 0: the output is the bias,
//   stats() gives invStd 0, the backward's input gradient is 0.

let owner: InstanceNorm;
beforeAll(async () => {
  owner = await InstanceNorm.create({ fallback: 'error' });
});
afterAll(() => owner.destroy());

const STRATEGIES: readonly Strategy[] = ['fused-per-thread', 'fused-per-workgroup', 'split'];

// The adapter's own profile (SwiftShader: a CPU adapter's tuning, with subgroups), and a real GPU's
// tuning (workgroups of 256, split chunks merged in the normalizing workgroups) with either merge.
// The subgroup merge only where the device has 'subgroups' (its kernels would not compile
// elsewhere; test/workgroup-reductions.browser.test.ts reports that skip by name).
const hasSubgroups = (await adapterFeatures()).has('subgroups');
const TUNINGS: readonly (readonly [string, Partial<DeviceProfile>])[] = (
  [
    ['this adapter', {}],
    ['a real GPU, subgroups', { isCpuAdapter: false, hasSubgroups: true }],
    ['a real GPU, workgroup tree', { isCpuAdapter: false, hasSubgroups: false }],
    ['a CPU adapter, workgroup tree', { isCpuAdapter: true, hasSubgroups: false }],
  ] as const
).filter(([, tuning]) => hasSubgroups || !('hasSubgroups' in tuning && tuning.hasSubgroups));

function backendFor(tuning: Partial<DeviceProfile>, strategy?: Strategy): GpuBackend {
  const device = owner.device!;
  return new GpuBackend(device, strategy, { ...deviceProfile(device), ...tuning });
}

/** A case, the layout, and the element kinds its forward takes on a CPU adapter and on a GPU. */
interface LayoutCase {
  readonly t: TensorCase;
  readonly layout: Layout;
  readonly kinds: readonly [onCpuAdapter: ElementKind, onGpu: ElementKind];
}

const FLOAT32_CASES: readonly LayoutCase[] = [
  { t: { batch: 2, channels: 3, spatial: [6, 16] }, layout: 'nchw', kinds: ['vec4-pair-position', 'vec4-position'] },
  { t: { batch: 2, channels: 3, spatial: [6, 6] }, layout: 'nchw', kinds: ['vec4-position', 'vec4-position'] },
  { t: { batch: 2, channels: 3, spatial: [5, 7] }, layout: 'nchw', kinds: ['scalar', 'scalar'] },
  { t: { batch: 2, channels: 4, spatial: [6, 6] }, layout: 'nhwc', kinds: ['vec4-channel', 'vec4-channel'] },
  { t: { batch: 2, channels: 3, spatial: [6, 6] }, layout: 'nhwc', kinds: ['rgb-quad', 'rgb-quad'] },
  { t: { batch: 2, channels: 3, spatial: [5, 7] }, layout: 'nhwc', kinds: ['masked-channel', 'masked-channel'] },
];

// Instances of several split chunks (a real GPU's chunks hold 2048 elements), merged by Chan's formula.
const LARGE_CASES: readonly LayoutCase[] = [
  { t: { batch: 1, channels: 4, spatial: [99, 101] }, layout: 'nchw', kinds: ['scalar', 'scalar'] },
  { t: { batch: 1, channels: 4, spatial: [96, 100] }, layout: 'nhwc', kinds: ['vec4-channel', 'vec4-channel'] },
];

function caseName(c: LayoutCase): string {
  return `${describeCase(c.t)} ${c.layout}`;
}

/** Flat index of spatial position p of instance (n, c) in the case's layout. */
function indexAt(c: LayoutCase, instance: number, p: number): number {
  const size = elementCount(c.t) / (c.t.batch * c.t.channels);
  const n = Math.floor(instance / c.t.channels);
  const ch = instance % c.t.channels;
  return c.layout === 'nchw' ? instance * size + p : (n * size + p) * c.t.channels + ch;
}

function spatialSize(t: TensorCase): number {
  return t.spatial.reduce((a, b) => a * b, 1);
}

/** How the values of one instance are drawn. */
type Role =
  | { readonly kind: 'normal'; readonly mean: number; readonly std: number }
  | { readonly kind: 'two-valued'; readonly deviation: number; readonly sorted: boolean }
  | { readonly kind: 'constant'; readonly magnitude: number }
  | { readonly kind: 'subnormal' }
  | { readonly kind: 'tiny' };

/**
 * The values of one instance. two-valued: m ± deviation, as many of each (and one m where the
 * size is odd), so every deviation from the mean is ±deviation (up to float32's rounding of m ± d);
 * shuffled, or sorted (all below the mean first: Welford's worst case, a mean far from the next value).
 */
function roleValues(role: Role, size: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  switch (role.kind) {
    case 'normal':
      return randomNormal(size, seed, role.mean, role.std);
    case 'two-valued': {
      const m = (random() - 0.5) * role.deviation;
      const half = Math.floor(size / 2);
      const signs = Array.from({ length: size }, (_, i): number => (i < half ? -1 : i < 2 * half ? 1 : 0));
      if (!role.sorted) {
        for (let i = size - 1; i > 0; i--) {
          const j = Math.floor(random() * (i + 1));
          [signs[i], signs[j]] = [signs[j], signs[i]];
        }
      }
      return Float32Array.from(signs, (s) => m + s * role.deviation);
    }
    case 'constant':
      return new Float32Array(size).fill((random() - 0.5) * 2 * role.magnitude);
    case 'subnormal':
      return randomNormal(size, seed, 0, 1e-39); // float32 subnormals (below 1.18e-38)
    case 'tiny':
      return randomNormal(size, seed, -2e-30, 1e-30); // normal float32 values; variance 1e-60
  }
}

function buildInput(c: LayoutCase, roles: readonly Role[], seed: number): Float32Array {
  const size = spatialSize(c.t);
  const instances = c.t.batch * c.t.channels;
  const x = new Float32Array(instances * size);
  for (let i = 0; i < instances; i++) {
    const values = roleValues(roles[i % roles.length], size, seed + i);
    for (let p = 0; p < size; p++) x[indexAt(c, i, p)] = values[p];
  }
  return x;
}

function instanceOutput(y: ArrayLike<number>, c: LayoutCase, instance: number): number[] {
  return Array.from({ length: spatialSize(c.t) }, (_, p) => y[indexAt(c, instance, p)]);
}

/** The forward on `backend` into a NaN-poisoned output; asserts no WebGPU error. */
async function forwardOnGpu(
  backend: GpuBackend,
  c: LayoutCase,
  x: Float32Array,
  options: { epsilon: number; scale: Float32Array; bias: Float32Array },
): Promise<Float32Array> {
  const device = owner.device!;
  const call = validateCall(shapeOf(c.t, c.layout), { layout: c.layout, epsilon: options.epsilon });
  const input = storageBuffer(device, x);
  const output = storageBuffer(device, new Float32Array(x.length).fill(Number.NaN));
  device.pushErrorScope('validation');
  const encoder = device.createCommandEncoder();
  backend.encode(encoder, { ...call, input, output, scale: options.scale, bias: options.bias });
  device.queue.submit([encoder.finish()]);
  expect((await device.popErrorScope())?.message).toBeUndefined();
  const y = await readBuffer(device, output, x.length);
  for (const b of [input, output]) b.destroy();
  return y;
}

function affineFor(c: LayoutCase, seed: number) {
  return {
    scale: randomUniform(c.t.channels, seed, -2, 2),
    bias: randomUniform(c.t.channels, seed + 1, -1, 1),
  };
}

// The largest deviations float32 holds: their squares reach 3.2e38 of float32's 3.4e38.
const OVERFLOW_ROLES: readonly Role[] = [
  { kind: 'two-valued', deviation: 1e19, sorted: true },
  { kind: 'two-valued', deviation: 2e19, sorted: false }, // variance 4e38: beyond float32
  { kind: 'two-valued', deviation: 1.8e19, sorted: false },
  { kind: 'normal', mean: 1, std: 2 },
  { kind: 'two-valued', deviation: 7e18, sorted: false },
  { kind: 'two-valued', deviation: 1e19, sorted: false },
];

describe.each(TUNINGS)('deviations near sqrt(float32 max), planned for %s', (tuningName, tuning) => {
  describe.each(STRATEGIES)('strategy %s', (strategy) => {
    it.each([...FLOAT32_CASES, ...LARGE_CASES].map((c) => [caseName(c), c] as const))(
      '±7e18, ±1e19, ±1.8e19 are finite and correct, ±2e19 is NaN: %s',
      async (_name, c) => {
        const backend = backendFor(tuning, strategy);
        const plan = backend.plan(validateCall(shapeOf(c.t, c.layout), { layout: c.layout }).geometry);
        expect(plan.elements).toBe(c.kinds[backend.profile.isCpuAdapter ? 0 : 1]);
        expect(plan.strategy).toBe(strategy);
        const x = buildInput(c, OVERFLOW_ROLES, 400);
        const options = { epsilon: 1e-5, ...affineFor(c, 410) };
        const y = await forwardOnGpu(backend, c, x, options);
        const expected = referenceInstanceNorm(x, shapeOf(c.t, c.layout), { layout: c.layout, ...options });
        const overflows = (i: number) => {
          const role = OVERFLOW_ROLES[i % OVERFLOW_ROLES.length];
          return role.kind === 'two-valued' && role.deviation >= 2e19;
        };
        for (let i = 0; i < c.t.batch * c.t.channels; i++) {
          const values = instanceOutput(y, c, i);
          if (overflows(i)) {
            expect(values.every(Number.isNaN), `${tuningName}: instance ${i} all NaN`).toBe(true);
          } else {
            const reference = Float32Array.from(instanceOutput(expected, c, i));
            expect(reference.every(Number.isFinite), `the CPU reference of instance ${i} finite`).toBe(true);
            expectClose(Float32Array.from(values), reference, 1e-4, 1e-4);
          }
        }
        // The reference itself: NaN where float32 cannot hold the variance, as the GPU.
        for (let i = 0; i < c.t.batch * c.t.channels; i++) {
          if (overflows(i)) expect(instanceOutput(expected, c, i).every(Number.isNaN), `CPU instance ${i} all NaN`).toBe(true);
        }
        backend.destroy();
      },
    );
  });
});

describe('deviations near sqrt(float32 max) in the other reductions', () => {
  it.each(TUNINGS)('stats() of instances of 16 chunks and more, planned for %s', async (_name, tuning) => {
    const device = owner.device!;
    const backend = backendFor(tuning);
    const c: LayoutCase = { t: { batch: 1, channels: 3, spatial: [181, 181] }, layout: 'nchw', kinds: ['scalar', 'scalar'] };
    const geometry = validateCall(shapeOf(c.t, c.layout), { layout: c.layout }).geometry;
    const x = buildInput(c, OVERFLOW_ROLES.slice(0, 3), 420);
    const input = storageBuffer(device, x);
    const target = storageBuffer(device, new Float32Array(6).fill(Number.NaN));
    device.pushErrorScope('validation');
    const encoder = device.createCommandEncoder();
    const plan = backend.encodeStats(encoder, { geometry, epsilon: 1e-5, epsilonPlacement: 'variance', input }, target);
    device.queue.submit([encoder.finish()]);
    expect((await device.popErrorScope())?.message).toBeUndefined();
    if (!backend.profile.isCpuAdapter) {
      expect(plan.windows[0].dispatches.map((d) => d.kernel)).toContain('combine-moments-per-workgroup');
    }
    const stats = await readBuffer(device, target, 6);
    const expected = referenceStats(x, shapeOf(c.t, c.layout), { layout: c.layout, epsilon: 1e-5 });
    expect(Number.isNaN(expected.invStd[1]) && Number.isNaN(stats[4]), 'the ±2e19 instance: invStd NaN').toBe(true);
    expectClose(stats.subarray(3), expected.invStd, 0, 1e-5);
    expectClose(stats.subarray(0, 3), expected.mean, 1e13); // means of order 1e19, float32's ulp there 1e12
    for (const b of [input, target]) b.destroy();
    backend.destroy();
  });

  it.each(['nchw', 'nhwc'] as const)('GroupNorm: channels at -d and +d, merged across the group (%s)', async (layout) => {
    const device = owner.device!;
    const t: TensorCase = { batch: 2, channels: 4, spatial: [5, 6] };
    const c: LayoutCase = { t, layout, kinds: ['scalar', 'scalar'] };
    const shape = shapeOf(t, layout);
    // Group 0 (channels 0, 1): -1e19 and +1e19, variance 1e38; group 1 (channels 2, 3): ±2e19, beyond float32.
    const x = new Float32Array(elementCount(t));
    const levels = [-1e19, 1e19, -2e19, 2e19];
    for (let i = 0; i < 8; i++) {
      for (let p = 0; p < spatialSize(t); p++) x[indexAt(c, i, p)] = levels[i % 4] + (i < 4 ? 0 : 3e17);
    }
    const { scale, bias } = affineFor(c, 430);
    const options = { layout, epsilon: 1e-5, scale, bias, groups: 2 };
    const input = storageBuffer(device, x);
    const output = storageBuffer(device, new Float32Array(x.length).fill(Number.NaN));
    const encoder = device.createCommandEncoder();
    owner.encode(encoder, input, output, shape, options);
    device.queue.submit([encoder.finish()]);
    const y = await readBuffer(device, output, x.length);
    await owner.checkErrors();
    const expected = referenceInstanceNorm(x, shape, options);
    for (let i = 0; i < 8; i++) {
      const ch = i % 4;
      const values = instanceOutput(y, c, i);
      if (ch >= 2) {
        expect(values.every(Number.isNaN), `instance ${i}: NaN`).toBe(true);
        expect(instanceOutput(expected, c, i).every(Number.isNaN), `CPU instance ${i}: NaN`).toBe(true);
      } else {
        // x̂ = -1 in channel 0, +1 in channel 1: y = ∓scale + bias.
        const target = (ch === 0 ? -1 : 1) * scale[ch] + bias[ch];
        expectClose(Float32Array.from(values), new Float32Array(values.length).fill(target), 1e-4, 1e-4);
        expectClose(Float32Array.from(instanceOutput(expected, c, i)), new Float32Array(values.length).fill(target), 1e-5, 1e-5);
      }
    }
    for (const b of [input, output]) b.destroy();
  });
});

// Instances whose var + epsilon (epsilon 0) is below 2^-126, beside ordinary ones.
const DEGENERATE_ROLES: readonly Role[] = [
  { kind: 'normal', mean: 0, std: 1 },
  { kind: 'constant', magnitude: 1e3 },
  { kind: 'subnormal' },
  { kind: 'tiny' },
  { kind: 'constant', magnitude: 1e30 },
  { kind: 'normal', mean: 1e3, std: 0.5 },
];

function isDegenerate(role: Role): boolean {
  return role.kind !== 'normal' && role.kind !== 'two-valued';
}

/** Expects the degenerate instances' outputs exactly their channel's bias, the others close to `expected`. */
function expectBiasWhereDegenerate(
  y: ArrayLike<number>,
  expected: ArrayLike<number>,
  c: LayoutCase,
  roles: readonly Role[],
  bias: ArrayLike<number>,
): void {
  for (let i = 0; i < c.t.batch * c.t.channels; i++) {
    const values = instanceOutput(y, c, i);
    if (isDegenerate(roles[i % roles.length])) {
      const b = bias[i % c.t.channels];
      const wrong = values.filter((v) => v !== b);
      expect(wrong, `instance ${i} (${roles[i % roles.length].kind}): every output the bias ${b}`).toEqual([]);
    } else {
      expectClose(Float32Array.from(values), Float32Array.from(instanceOutput(expected, c, i)), 1e-4, 1e-4);
    }
  }
}

describe.each(TUNINGS)('var + epsilon below 2^-126, planned for %s', (_tuningName, tuning) => {
  describe.each(STRATEGIES)('strategy %s', (strategy) => {
    it.each(FLOAT32_CASES.map((c) => [caseName(c), c] as const))(
      'constant, subnormal and tiny instances with epsilon 0 give the bias: %s',
      async (_name, c) => {
        const backend = backendFor(tuning, strategy);
        const x = buildInput(c, DEGENERATE_ROLES, 500);
        const options = { epsilon: 0, ...affineFor(c, 510) };
        const y = await forwardOnGpu(backend, c, x, options);
        const expected = referenceInstanceNorm(x, shapeOf(c.t, c.layout), { layout: c.layout, ...options });
        // The reference gives the bias there too.
        expectBiasWhereDegenerate(expected, expected, c, DEGENERATE_ROLES, options.bias);
        expectBiasWhereDegenerate(y, expected, c, DEGENERATE_ROLES, options.bias);
        backend.destroy();
      },
    );
  });

  it.each(FLOAT32_CASES.map((c) => [caseName(c), c] as const))(
    'stats(): invStd 0 for those instances, the means those of the CPU: %s',
    async (_name, c) => {
      const device = owner.device!;
      const backend = backendFor(tuning);
      const x = buildInput(c, DEGENERATE_ROLES, 520);
      const geometry = validateCall(shapeOf(c.t, c.layout), { layout: c.layout }).geometry;
      const count = geometry.instanceCount;
      const input = storageBuffer(device, x);
      const target = storageBuffer(device, new Float32Array(2 * count).fill(Number.NaN));
      device.pushErrorScope('validation');
      const encoder = device.createCommandEncoder();
      backend.encodeStats(encoder, { geometry, epsilon: 0, epsilonPlacement: 'variance', input }, target);
      device.queue.submit([encoder.finish()]);
      expect((await device.popErrorScope())?.message).toBeUndefined();
      const stats = await readBuffer(device, target, 2 * count);
      const expected = referenceStats(x, shapeOf(c.t, c.layout), { layout: c.layout, epsilon: 0 });
      for (let i = 0; i < count; i++) {
        const degenerate = isDegenerate(DEGENERATE_ROLES[i % DEGENERATE_ROLES.length]);
        expect(expected.invStd[i] === 0, `CPU invStd ${i}`).toBe(degenerate);
        if (degenerate) expect(stats[count + i], `GPU invStd ${i}`).toBe(0);
      }
      expectClose(stats.subarray(0, count), expected.mean, 1e-4, 1e-6);
      expectClose(stats.subarray(count), expected.invStd, 0, 1e-5);
      for (const b of [input, target]) b.destroy();
      backend.destroy();
    },
  );
});

const HALF_CASES: readonly LayoutCase[] = [
  { t: { batch: 2, channels: 3, spatial: [6, 6] }, layout: 'nchw', kinds: ['half4-position', 'half4-position'] },
  { t: { batch: 2, channels: 3, spatial: [5, 7] }, layout: 'nchw', kinds: ['half-scalar', 'half-scalar'] },
  { t: { batch: 2, channels: 4, spatial: [6, 6] }, layout: 'nhwc', kinds: ['half4-channel', 'half4-channel'] },
  { t: { batch: 2, channels: 3, spatial: [5, 7] }, layout: 'nhwc', kinds: ['half-masked-channel', 'half-masked-channel'] },
];

// Halves hold no float32 subnormal: constants (of half values) beside ordinary instances.
const HALF_ROLES: readonly Role[] = [
  { kind: 'normal', mean: 3, std: 2 },
  { kind: 'constant', magnitude: 1e3 },
  { kind: 'normal', mean: -1, std: 0.5 },
  { kind: 'constant', magnitude: 1 },
];

describe.each(TUNINGS.slice(0, 2))('float16 storage, planned for %s', (_tuningName, tuning) => {
  describe.each(STRATEGIES)('strategy %s', (strategy) => {
    it.each(HALF_CASES.map((c) => [caseName(c), c] as const))(
      'constant instances with epsilon 0 give the bias, rounded to half: %s',
      async (_name, c) => {
        const device = owner.device!;
        const backend = backendFor(tuning, strategy);
        const shape = shapeOf(c.t, c.layout);
        const call = validateCall(shape, { layout: c.layout, epsilon: 0, dataType: 'float16' });
        expect(backend.plan(call.geometry).elements).toBe(c.kinds[0]);
        const x = toFloat16Bits(buildInput(c, HALF_ROLES, 600));
        const { scale, bias } = affineFor(c, 610);
        const input = halfBuffer(device, x);
        const output = halfBuffer(device, new Uint16Array(x.length).fill(0x7e00));
        device.pushErrorScope('validation');
        const encoder = device.createCommandEncoder();
        backend.encode(encoder, { ...call, input, output, scale, bias });
        device.queue.submit([encoder.finish()]);
        expect((await device.popErrorScope())?.message).toBeUndefined();
        const y = await readHalves(device, output, x.length);
        const expected = referenceInstanceNorm(x, shape, { layout: c.layout, epsilon: 0, dataType: 'float16', scale, bias });
        const halfBias = toFloat16Bits(bias);
        expectBiasWhereDegenerate(expected, expected, c, HALF_ROLES, halfBias);
        for (let i = 0; i < c.t.batch * c.t.channels; i++) {
          if (!isDegenerate(HALF_ROLES[i % HALF_ROLES.length])) continue;
          const b = halfBias[i % c.t.channels];
          expect(
            instanceOutput(y, c, i).filter((v) => v !== b),
            `instance ${i}: the bias's half bits ${b}`,
          ).toEqual([]);
        }
        expectWithinHalfUlps(y, expected, 2);
        for (const b of [input, output]) b.destroy();
        backend.destroy();
      },
    );
  });
});

type BackwardVariant = 'recomputed statistics' | 'saved statistics' | 'per-instance scale';

describe.each(STRATEGIES)('the backward, strategy %s', (strategy) => {
  describe.each(FLOAT32_CASES.map((c) => [caseName(c), c] as const))('%s', (_name, c) => {
    it.each<BackwardVariant>(['recomputed statistics', 'saved statistics', 'per-instance scale'])(
      'dx = 0 and dScale = 0 where var + epsilon is below 2^-126 (%s)',
      async (variant) => {
        const device = owner.device!;
        const norm = await InstanceNorm.create({ device, strategy });
        const shape = shapeOf(c.t, c.layout);
        const count = elementCount(c.t);
        const instances = c.t.batch * c.t.channels;
        const x = buildInput(c, DEGENERATE_ROLES, 700);
        const dy = randomNormal(count, 701, 0.5, 2);
        const affineLength = variant === 'per-instance scale' ? instances : c.t.channels;
        const scale = randomUniform(affineLength, 702, -2, 2);
        const bias = randomUniform(affineLength, 703, -1, 1);
        const options: BackwardOptions = { layout: c.layout, epsilon: 0, scale, bias };
        const input = storageBuffer(device, x);
        const gradOutput = storageBuffer(device, dy);
        const gradInput = storageBuffer(device, new Float32Array(count).fill(Number.NaN));
        const gradAffine = storageBuffer(device, new Float32Array(2 * affineLength).fill(Number.NaN));
        const output = storageBuffer(device, new Float32Array(count).fill(Number.NaN));
        const savedStats = storageBuffer(device, new Float32Array(2 * instances).fill(Number.NaN));
        const encoder = device.createCommandEncoder();
        const saved = variant === 'saved statistics';
        if (saved) norm.encode(encoder, input, output, shape, { ...options, saveStats: savedStats });
        norm.encodeBackward(encoder, { gradOutput, input, gradInput, gradAffine }, shape, {
          ...options,
          savedStats: saved ? savedStats : undefined,
        });
        device.queue.submit([encoder.finish()]);
        const dx = await readBuffer(device, gradInput, count);
        const affine = await readBuffer(device, gradAffine, 2 * affineLength);
        await norm.checkErrors();
        let cpuOptions = options;
        if (saved) {
          const stats = await readBuffer(device, savedStats, 2 * instances);
          // The CPU backward from the same float32 statistics (a mean of 1e3 saved in float32 moves x̂ by 1e-4).
          cpuOptions = { ...options, savedStats: { mean: stats.slice(0, instances), invStd: stats.slice(instances) } };
          for (let i = 0; i < instances; i++) {
            const degenerate = isDegenerate(DEGENERATE_ROLES[i % DEGENERATE_ROLES.length]);
            if (degenerate) expect(stats[instances + i], `saved invStd ${i}`).toBe(0);
          }
          expectBiasWhereDegenerate(
            await readBuffer(device, output, count),
            referenceInstanceNorm(x, shape, options),
            c,
            DEGENERATE_ROLES,
            bias,
          );
        }
        const expected = referenceBackward(dy, x, shape, cpuOptions);
        for (let i = 0; i < instances; i++) {
          if (!isDegenerate(DEGENERATE_ROLES[i % DEGENERATE_ROLES.length])) continue;
          expect(
            instanceOutput(dx, c, i).filter((v) => v !== 0),
            `GPU dx of instance ${i}`,
          ).toEqual([]);
          expect(
            instanceOutput(expected.gradInput, c, i).filter((v) => v !== 0),
            `CPU dx of instance ${i}`,
          ).toEqual([]);
          if (variant === 'per-instance scale') {
            expect(affine[i], `GPU dScale of instance ${i}`).toBe(0);
            const sumDy = instanceOutput(dy, c, i).reduce((a, b) => a + b, 0);
            expectClose(Float32Array.of(affine[affineLength + i]), Float32Array.of(sumDy), 1e-3, 1e-5);
          }
        }
        expectClose(dx, expected.gradInput, 1e-4, 1e-4);
        expectClose(affine.subarray(0, affineLength), expected.gradScale as Float32Array, 1e-3, 1e-4);
        expectClose(affine.subarray(affineLength), expected.gradBias as Float32Array, 1e-3, 1e-4);
        for (const b of [input, gradOutput, gradInput, gradAffine, output, savedStats]) b.destroy();
        norm.destroy();
      },
    );
  });
});

describe('running statistics, GroupNorm and AdaIN where var + epsilon is below 2^-126', () => {
  const c: LayoutCase = { t: { batch: 2, channels: 4, spatial: [5, 6] }, layout: 'nchw', kinds: ['scalar', 'scalar'] };

  it.each(['nchw', 'nhwc'] as const)(
    'eval mode: a running variance of 0 with epsilon 0 gives the bias, and dx = 0 (%s)',
    async (layout) => {
      const device = owner.device!;
      const lc = { ...c, layout };
      const shape = shapeOf(c.t, layout);
      const count = elementCount(c.t);
      const x = randomNormal(count, 800, 2, 3);
      const dy = randomNormal(count, 801);
      const mean = randomUniform(4, 802, -1, 1);
      const variance = new Float32Array([0, 2.5, 0, 0.75]);
      const { scale, bias } = affineFor(lc, 803);
      const onGpu = owner.createRunningStats(4);
      onGpu.set({ mean, variance });
      const onCpu = new RunningStats(4);
      onCpu.set({ mean, variance });
      const options = { layout, epsilon: 0, scale, bias, training: false };
      const input = storageBuffer(device, x);
      const output = storageBuffer(device, new Float32Array(count).fill(Number.NaN));
      const gradOutput = storageBuffer(device, dy);
      const gradInput = storageBuffer(device, new Float32Array(count).fill(Number.NaN));
      const encoder = device.createCommandEncoder();
      owner.encode(encoder, input, output, shape, { ...options, runningStats: onGpu });
      owner.encodeBackward(encoder, { gradOutput, input, gradInput }, shape, { ...options, runningStats: onGpu });
      device.queue.submit([encoder.finish()]);
      const y = await readBuffer(device, output, count);
      const dx = await readBuffer(device, gradInput, count);
      await owner.checkErrors();
      const expectedY = referenceInstanceNorm(x, shape, { ...options, runningStats: onCpu });
      const expectedDx = referenceBackward(dy, x, shape, { ...options, runningStats: onCpu }).gradInput;
      const roles: Role[] = [
        { kind: 'constant', magnitude: 0 },
        { kind: 'normal', mean: 0, std: 1 },
        { kind: 'constant', magnitude: 0 },
        { kind: 'normal', mean: 0, std: 1 },
      ];
      expectBiasWhereDegenerate(expectedY, expectedY, lc, roles, bias);
      expectBiasWhereDegenerate(y, expectedY, lc, roles, bias);
      const zeros = new Float32Array(bias.length);
      expectBiasWhereDegenerate(dx, expectedDx, lc, roles, zeros);
      expectBiasWhereDegenerate(expectedDx, expectedDx, lc, roles, zeros);
      for (const b of [input, output, gradOutput, gradInput]) b.destroy();
      onGpu.destroy();
    },
  );

  it.each(['nchw', 'nhwc'] as const)('GroupNorm: a constant group with epsilon 0 gives the bias (%s)', async (layout) => {
    const device = owner.device!;
    const lc = { ...c, layout };
    const shape = shapeOf(c.t, layout);
    // Groups of two channels: image 0's first group constant, image 1's second.
    const value = Math.fround(seededRandom(810)() * 200 - 100);
    const roles: Role[] = [{ kind: 'normal', mean: 0, std: 1 }];
    const x = buildInput(lc, roles, 811);
    for (const instance of [0, 1, 6, 7]) {
      for (let p = 0; p < spatialSize(c.t); p++) x[indexAt(lc, instance, p)] = value;
    }
    const { scale, bias } = affineFor(lc, 812);
    const options = { layout, epsilon: 0, scale, bias, groups: 2 };
    const input = storageBuffer(device, x);
    const output = storageBuffer(device, new Float32Array(x.length).fill(Number.NaN));
    const encoder = device.createCommandEncoder();
    owner.encode(encoder, input, output, shape, options);
    device.queue.submit([encoder.finish()]);
    const y = await readBuffer(device, output, x.length);
    await owner.checkErrors();
    const expected = referenceInstanceNorm(x, shape, options);
    const groupRoles: Role[] = [...Array(8)].map((_, i) =>
      [0, 1, 6, 7].includes(i) ? { kind: 'constant', magnitude: 1 } : roles[0],
    );
    expectBiasWhereDegenerate(expected, expected, lc, groupRoles, bias);
    expectBiasWhereDegenerate(y, expected, lc, groupRoles, bias);
    for (const b of [input, output]) b.destroy();
  });

  it.each(['nchw', 'nhwc'] as const)('AdaIN: a constant style instance with epsilon 0 gives its value (%s)', async (layout) => {
    const device = owner.device!;
    const lc = { ...c, layout };
    const shape = shapeOf(c.t, layout);
    const content = randomNormal(elementCount(c.t), 820, 1, 2);
    const style = buildInput(lc, DEGENERATE_ROLES, 821);
    const inputs = [storageBuffer(device, content), storageBuffer(device, style)];
    const output = storageBuffer(device, new Float32Array(content.length).fill(Number.NaN));
    const encoder = device.createCommandEncoder();
    owner.encodeAdain(encoder, inputs[0], inputs[1], output, shape, shape, { layout, epsilon: 0 });
    device.queue.submit([encoder.finish()]);
    const y = await readBuffer(device, output, content.length);
    await owner.checkErrors();
    const expected = referenceAdain(content, shape, style, shape, { layout, epsilon: 0 });
    for (let i = 0; i < 8; i++) {
      const role = DEGENERATE_ROLES[i % DEGENERATE_ROLES.length];
      if (role.kind !== 'constant') continue;
      const styleValue = style[indexAt(lc, i, 0)];
      expect(
        instanceOutput(expected, lc, i).filter((v) => v !== styleValue),
        `CPU instance ${i}`,
      ).toEqual([]);
      expect(
        instanceOutput(y, lc, i).filter((v) => v !== styleValue),
        `GPU instance ${i}`,
      ).toEqual([]);
    }
    expectClose(y, expected, 1e-4, 1e-4);
    for (const b of [...inputs, output]) b.destroy();
  });
});
