import { describe, expect, it } from 'vitest';
import { InstanceNorm } from '../src';
import { referenceInstanceNorm } from '../src/reference/float64-reference';
import { expectClose } from './helpers/compare';
import { storageBuffer } from './helpers/gpu';
import { randomNormal, randomUniform } from './helpers/random';

describe('run() on typed arrays', () => {
  it('uploads, normalizes and reads back, for both layouts, with array and buffer affine', async () => {
    const norm = await InstanceNorm.create({ fallback: 'error' });
    const x = randomNormal(2 * 4 * 33 * 17, 3, 2, 5);
    const scale = randomUniform(4, 4, -2, 2);
    const bias = randomUniform(4, 5, -1, 1);
    for (const [layout, shape] of [
      ['nchw', [2, 4, 33, 17]],
      ['nhwc', [2, 33, 17, 4]],
    ] as const) {
      expectClose(
        await norm.run(x, shape, { layout, scale, bias }),
        referenceInstanceNorm(x, shape, { layout, scale, bias }),
        1e-4,
      );
    }
    const scaleBuffer = storageBuffer(norm.device!, scale);
    const y = await norm.run(x, [2, 4, 561], { scale: scaleBuffer, bias });
    expectClose(y, referenceInstanceNorm(x, [2, 4, 561], { scale, bias }), 1e-4);
    scaleBuffer.destroy();
    norm.destroy();
  });

  it('returns each concurrent call its own result', async () => {
    const norm = await InstanceNorm.create({ fallback: 'error' });
    const shapes = [
      [1, 3, 64, 64],
      [4, 8, 5],
      [2, 2, 300, 301],
      [1, 1, 1],
    ];
    const inputs = shapes.map((s, i) =>
      randomNormal(
        s.reduce((a, b) => a * b),
        40 + i,
        i * 10,
        1 + i,
      ),
    );
    const outputs = await Promise.all(shapes.map((s, i) => norm.run(inputs[i], s, { epsilon: 1e-3 * (i + 1) })));
    for (const [i, y] of outputs.entries())
      expectClose(y, referenceInstanceNorm(inputs[i], shapes[i], { epsilon: 1e-3 * (i + 1) }), 1e-4);
    norm.destroy();
  });
});

describe("encode() into the caller's encoder", () => {
  it('records several calls of different shapes into one encoder, each with its own sizes', async () => {
    const norm = await InstanceNorm.create({ fallback: 'error' });
    const device = norm.device!;
    const shapes = [
      [2, 3, 10, 10],
      [1, 5, 7],
      [1, 2, 128, 130],
    ];
    const inputs = shapes.map((s, i) =>
      randomNormal(
        s.reduce((a, b) => a * b),
        60 + i,
        -i,
        2,
      ),
    );
    const inBuffers = inputs.map((x) => storageBuffer(device, x));
    const outBuffers = inputs.map((x) => storageBuffer(device, new Float32Array(x.length).fill(Number.NaN)));
    const encoder = device.createCommandEncoder();
    for (const [i, s] of shapes.entries()) norm.encode(encoder, inBuffers[i], outBuffers[i], s, { epsilon: 10 ** -(i + 2) });
    device.queue.submit([encoder.finish()]);
    await norm.checkErrors();
    for (let i = 0; i < shapes.length; i++) {
      const readback = device.createBuffer({
        size: inputs[i].byteLength,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      const copy = device.createCommandEncoder();
      copy.copyBufferToBuffer(outBuffers[i], 0, readback, 0, inputs[i].byteLength);
      device.queue.submit([copy.finish()]);
      await readback.mapAsync(GPUMapMode.READ);
      expectClose(
        new Float32Array(readback.getMappedRange()),
        referenceInstanceNorm(inputs[i], shapes[i], { epsilon: 10 ** -(i + 2) }),
        1e-4,
      );
    }
    expect(norm.plan(shapes[2]).windows[0].dispatches.length).toBeGreaterThan(0);
    norm.destroy();
  });
});
