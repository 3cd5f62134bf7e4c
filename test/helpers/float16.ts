import { expect } from 'vitest';
import type { InstanceNorm, InstanceNormOptions } from '../../src';
import { halfUlp, halfValue } from '../../src/core/float16';

// Below this times the operands' magnitude an output is the cancellation of f32 operands (x near
// the mean, a residual near minus the activation): f32's own rounding, not the half storage,
// bounds it. 2^-20 is 16 f32 ulps of an operand of 1.
const CANCELLATION_FLOOR = 2 ** -20;

/**
 * Expects each half of `actual` within `ulps` half ulps of the half in `expected` (the float64
 * reference rounded to half), or within 2^-20 × max(1, |residual|) absolute of it, the residual
 * being the operand an output near zero cancelled against (a real GPU's fused multiply-adds and
 * exp round it differently); NaN only where NaN is expected, infinities exactly.
 */
export function expectWithinHalfUlps(actual: Uint16Array, expected: Uint16Array, ulps: number, residual?: Uint16Array): void {
  expect(actual.length, 'length').toBe(expected.length);
  const bad: string[] = [];
  let badCount = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = halfValue(actual[i]);
    const e = halfValue(expected[i]);
    const floor = CANCELLATION_FLOOR * Math.max(1, residual ? Math.abs(halfValue(residual[i])) : 1);
    const ok = Number.isNaN(e)
      ? Number.isNaN(a)
      : Number.isFinite(e)
        ? Math.abs(a - e) <= Math.max(ulps * halfUlp(e), floor)
        : a === e;
    if (!ok) {
      badCount++;
      if (bad.length < 5) bad.push(`[${i}] got ${a}, expected ${e}`);
    }
  }
  if (badCount > 0) expect.fail(`${badCount} of ${expected.length} halves off by more than ${ulps} ulps: ${bad.join('; ')}`);
}

/** A storage buffer of halves (whole 4-byte words), for encode(). */
export function halfBuffer(device: GPUDevice, bits: Uint16Array): GPUBuffer {
  const buffer = device.createBuffer({
    label: 'test.halves',
    size: Math.max(16, Math.ceil(bits.byteLength / 4) * 4),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    mappedAtCreation: true,
  });
  new Uint16Array(buffer.getMappedRange(), 0, bits.length).set(bits);
  buffer.unmap();
  return buffer;
}

export async function readHalves(device: GPUDevice, buffer: GPUBuffer, length: number): Promise<Uint16Array> {
  const size = Math.ceil((length * 2) / 4) * 4;
  const readback = device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, 0, readback, 0, size);
  device.queue.submit([encoder.finish()]);
  await readback.mapAsync(GPUMapMode.READ);
  const out = new Uint16Array(readback.getMappedRange().slice(0), 0, length);
  readback.destroy();
  return out;
}

/**
 * Normalizes halves through encode() into an output poisoned with NaN halves, so an element the
 * kernels never write fails; a residual array is uploaded too. Asserts no WebGPU error.
 */
export async function normalizeHalvesOnGpu(
  norm: InstanceNorm,
  input: Uint16Array,
  shape: readonly number[],
  options: InstanceNormOptions & { residualHalves?: Uint16Array },
): Promise<Uint16Array> {
  const device = norm.device!;
  device.pushErrorScope('validation');
  const inputBuffer = halfBuffer(device, input);
  const outputBuffer = halfBuffer(device, new Uint16Array(input.length).fill(0x7e00));
  const residualBuffer = options.residualHalves && halfBuffer(device, options.residualHalves);
  const { residualHalves: _, ...rest } = options;
  const encoder = device.createCommandEncoder();
  norm.encode(encoder, inputBuffer, outputBuffer, shape, { ...rest, dataType: 'float16', residual: residualBuffer });
  device.queue.submit([encoder.finish()]);
  const output = await readHalves(device, outputBuffer, input.length);
  await norm.checkErrors();
  expect((await device.popErrorScope())?.message).toBeUndefined();
  for (const b of [inputBuffer, outputBuffer, residualBuffer]) b?.destroy();
  return output;
}
