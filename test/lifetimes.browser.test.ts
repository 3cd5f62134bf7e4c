import { expect, it } from 'vitest';
import { InstanceNorm, type Layout } from '../src';
import { deviceProfile } from '../src/gpu/device-profile';
import { ELEMENT_KINDS } from '../src/gpu/planner';
import { referenceInstanceNorm } from '../src/reference/float64-reference';
import { expectClose } from './helpers/compare';
import { readBuffer, storageBuffer } from './helpers/gpu';
import { libraryBuffer, watchBuffers } from './helpers/live-buffers';
import { randomNormal, seededRandom } from './helpers/random';

it('10,000 calls of mixed shapes keep live buffers and pipelines bounded; destroy() frees every buffer', async () => {
  const owner = await InstanceNorm.create({ fallback: 'error' });
  const device = owner.device!;
  const buffers = watchBuffers(device, libraryBuffer);
  const pipelines = { count: 0 };
  const createComputePipeline = device.createComputePipeline.bind(device);
  device.createComputePipeline = (descriptor) => {
    pipelines.count++;
    return createComputePipeline(descriptor);
  };
  const instances = [await InstanceNorm.create({ device }), await InstanceNorm.create({ device, strategy: 'split' })];

  const random = seededRandom(99);
  const pick = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
  const maxElements = 3 * 8 * 40 * 40;
  const input = storageBuffer(device, randomNormal(maxElements, 5));
  const output = storageBuffer(device, new Float32Array(maxElements));
  const liveAt: number[] = [];
  device.pushErrorScope('validation');
  let encoder = device.createCommandEncoder();
  for (let call = 1; call <= 10_000; call++) {
    const layout: Layout = random() < 0.5 ? 'nchw' : 'nhwc';
    const channels = pick(1, 8);
    const spatial = Array.from({ length: pick(1, 2) }, () => pick(1, 40));
    const shape = layout === 'nchw' ? [pick(1, 3), channels, ...spatial] : [pick(1, 3), ...spatial, channels];
    // A fresh scale array on half the calls: a new affine buffer each time.
    const options = {
      layout,
      epsilon: random() < 0.5 ? 1e-5 : pick(1, 1000) * 1e-6,
      scale: random() < 0.5 ? new Float32Array(channels).fill(2) : undefined,
    };
    const norm = instances[call % 2];
    if (call % 500 === 0) {
      const count = shape.reduce((a, b) => a * b);
      const x = randomNormal(count, call);
      expectClose(await norm.run(x, shape, options), referenceInstanceNorm(x, shape, options), 1e-4);
    } else {
      norm.encode(encoder, input, output, shape, options);
    }
    if (call % 50 === 0) {
      device.queue.submit([encoder.finish()]);
      encoder = device.createCommandEncoder();
    }
    if (call % 2500 === 0) liveAt.push(buffers.live.size);
  }
  await Promise.all(instances.map((n) => n.checkErrors()));
  expect(await device.popErrorScope()).toBeNull();
  // The output of the last call is still right after all that churn.
  const lastShape = [2, 3, 17];
  const x = randomNormal(102, 7);
  const lastInput = storageBuffer(device, x);
  const finalEncoder = device.createCommandEncoder();
  instances[0].encode(finalEncoder, lastInput, output, lastShape);
  device.queue.submit([finalEncoder.finish()]);
  expectClose(await readBuffer(device, output, 102), referenceInstanceNorm(x, lastShape), 1e-4);

  console.log(
    `library buffers created: ${buffers.created()}, live at 2500-call marks: ${liveAt.join(', ')}, pipelines: ${pipelines.count}`,
  );
  expect(buffers.created()).toBeGreaterThan(5000); // the churn really happened
  // Per instance: at most 256 uniform and 256 affine buffers, placeholder, partials, stats and a few outgrown.
  for (const live of liveAt) expect(live).toBeLessThanOrEqual(2 * (256 + 256 + 3 + 32));
  expect(liveAt[3]).toBeLessThanOrEqual(liveAt[1] + 8); // not growing with the call count
  // Per f32 element kind: on a CPU adapter 5 kernels (per-thread, per-workgroup, and the split's
  // three); on a GPU per-thread, per-workgroup in 4 sizes (32 to 256 invocations), and the
  // split's two.
  const f32Kinds = Object.keys(ELEMENT_KINDS).filter((kind) => !kind.startsWith('half')).length;
  expect(pipelines.count).toBeLessThanOrEqual(f32Kinds * (deviceProfile(device).isCpuAdapter ? 5 : 7));

  for (const norm of instances) norm.destroy();
  expect(buffers.live.size).toBe(0);
  owner.destroy();
});
