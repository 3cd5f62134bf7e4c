import { describe, expect, it } from 'vitest';
import halfPacking from '../shaders/elements/half-packing.wgsl?raw';
import { halfBits, halfValue } from '../src/core/float16';

// The WGSL conversions of half-packing.wgsl on this device, bit for bit: every one of the 65536
// halves to f32, and f32 values around every half (the half itself, the midpoints to its
// neighbours and a hair either side of them, the overflow threshold, subnormals, infinities,
// NaN) to halves, against the CPU's rounding (src/core/float16.ts).

const UNPACK_KERNEL = `
@group(0) @binding(0) var<storage, read> words: array<u32>;
@group(0) @binding(1) var<storage, read_write> values: array<vec2f>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x < arrayLength(&words)) {
    values[id.x] = unpackHalves(words[id.x]);
  }
}`;

const PACK_KERNEL = `
@group(0) @binding(0) var<storage, read> pairs: array<vec2f>;
@group(0) @binding(1) var<storage, read_write> words: array<u32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x < arrayLength(&words)) {
    words[id.x] = packHalves(pairs[id.x]);
  }
}`;

async function runKernel(kernel: string, input: Uint32Array<ArrayBuffer>, outputWords: number): Promise<Uint32Array> {
  const adapter = await navigator.gpu.requestAdapter();
  const device = await adapter!.requestDevice();
  const buffer = (words: number, usage: number) => device.createBuffer({ size: words * 4, usage });
  const source = buffer(input.length, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
  device.queue.writeBuffer(source, 0, input);
  const target = buffer(outputWords, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
  const readback = buffer(outputWords, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
  device.pushErrorScope('validation');
  const pipeline = device.createComputePipeline({
    layout: 'auto',
    compute: { module: device.createShaderModule({ code: `${halfPacking}\n${kernel}` }), entryPoint: 'main' },
  });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(
    0,
    device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: source } },
        { binding: 1, resource: { buffer: target } },
      ],
    }),
  );
  pass.dispatchWorkgroups(Math.ceil(Math.max(input.length, outputWords) / 64));
  pass.end();
  encoder.copyBufferToBuffer(target, 0, readback, 0, outputWords * 4);
  device.queue.submit([encoder.finish()]);
  expect(await device.popErrorScope()).toBeNull();
  await readback.mapAsync(GPUMapMode.READ);
  const result = new Uint32Array(readback.getMappedRange().slice(0));
  device.destroy();
  return result;
}

describe('half-packing.wgsl on this device', () => {
  it('unpacks every half exactly, infinities and NaN included, signs kept', async () => {
    // Word i holds half i in its low 16 bits and half 65535 - i in its high ones.
    const words = new Uint32Array(65536);
    for (let i = 0; i < 65536; i++) words[i] = i | ((65535 - i) << 16);
    const bits = await runKernel(UNPACK_KERNEL, words, 2 * 65536);
    const values = new Float32Array(bits.buffer);
    const wrong: string[] = [];
    for (let i = 0; i < 65536; i++) {
      for (const [half, k] of [
        [i, 2 * i],
        [65535 - i, 2 * i + 1],
      ]) {
        const expected = halfValue(half);
        // NaN: any NaN of the half's sign (the raw bits, not a JavaScript number, keep the sign).
        const ok = Number.isNaN(expected)
          ? Number.isNaN(values[k]) && bits[k] >>> 31 === half >>> 15
          : Object.is(values[k], expected);
        if (!ok && wrong.length < 10) wrong.push(`0x${half.toString(16)}: ${values[k]}, expected ${expected}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('packs f32 values to the nearest half, ties to even, overflow to infinity, NaN to NaN', async () => {
    const values: number[] = [];
    for (let half = 0; half < 0x7c00; half++) {
      const v = halfValue(half);
      const next = halfValue(half + 1);
      const mid = (v + next) / 2; // exact in f32: halves have 11 significant bits
      values.push(v, mid, Math.fround(mid * (1 - 2 ** -20)), Math.fround(mid * (1 + 2 ** -20)));
    }
    values.push(65504, 65519.99, 65520, 65536, 1e30, 3.4e38, Number.POSITIVE_INFINITY, Number.NaN, 1e-30, 2 ** -25, 2 ** -26);
    const all = [...values, ...values.map((v) => -v)];
    if (all.length % 2) all.push(0);
    const input = new Uint32Array(new Float32Array(all).buffer);
    const words = await runKernel(PACK_KERNEL, input, all.length / 2);
    const wrong: string[] = [];
    for (let i = 0; i < all.length; i++) {
      const actual = (words[i >> 1] >>> ((i & 1) * 16)) & 0xffff;
      const value = Math.fround(all[i]);
      const expected = Number.isNaN(value) ? actual : halfBits(value);
      const nanOk = !Number.isNaN(value) || ((actual & 0x7c00) === 0x7c00 && (actual & 0x3ff) !== 0);
      if ((actual !== expected || !nanOk) && wrong.length < 10) {
        wrong.push(`${value}: 0x${actual.toString(16)}, expected 0x${expected.toString(16)}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
