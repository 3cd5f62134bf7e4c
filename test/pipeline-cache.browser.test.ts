import { expect, it, vi } from 'vitest';
import { InstanceNorm } from '../src';
import { deviceProfile } from '../src/gpu/device-profile';
import { deviceKernels, pipelineFailures } from '../src/gpu/pipeline-cache';
import { referenceInstanceNorm } from '../src/reference/float64-reference';
import { expectClose } from './helpers/compare';
import { readBuffer, storageBuffer } from './helpers/gpu';
import { randomNormal } from './helpers/random';

it('compiles each variant once: a second call of the same variant creates no module or pipeline', async () => {
  const owner = await InstanceNorm.create({ fallback: 'error' });
  const device = owner.device!;
  const modules = vi.spyOn(device, 'createShaderModule');
  const pipelines = vi.spyOn(device, 'createComputePipeline');
  const layouts = vi.spyOn(device, 'createBindGroupLayout');
  const norm = await InstanceNorm.create({ device, strategy: 'split' });
  const encodeOnce = (shape: number[], epsilon: number) => {
    const count = shape.reduce((a, b) => a * b);
    const input = storageBuffer(device, randomNormal(count, 1));
    const output = storageBuffer(device, new Float32Array(count));
    const encoder = device.createCommandEncoder();
    norm.encode(encoder, input, output, shape, { epsilon });
    device.queue.submit([encoder.finish()]);
  };
  encodeOnce([1, 2, 100, 100], 1e-5);
  const compiled = { modules: modules.mock.calls.length, pipelines: pipelines.mock.calls.length };
  // partial-moments, combine-moments, normalize; on a GPU partial-moments, combine-and-normalize
  const passes = norm.plan([1, 2, 100, 100]).windows[0].dispatches.length;
  expect(passes).toBe(deviceProfile(device).isCpuAdapter ? 3 : 2);
  expect(compiled.pipelines).toBe(passes);
  expect(layouts.mock.calls.length).toBe(1);
  // Same variant (nchw, sizes multiples of 8: vec4 loads), other sizes and epsilon: sizes live in the uniform, not in the code.
  encodeOnce([1, 2, 100, 100], 1e-5);
  encodeOnce([3, 5, 40, 70], 1e-3);
  encodeOnce([2, 1, 8], 0.5);
  expect(modules.mock.calls.length).toBe(compiled.modules);
  expect(pipelines.mock.calls.length).toBe(compiled.pipelines);
  // An instance size that is not a multiple of 4 is another variant (scalar loads): compiled once more.
  encodeOnce([2, 1, 7], 0.5);
  expect(pipelines.mock.calls.length).toBe(compiled.pipelines + passes);
  encodeOnce([1, 3, 5, 5], 0.1);
  expect(pipelines.mock.calls.length).toBe(compiled.pipelines + passes);
  // A second instance on the same device shares the compiled pipelines.
  const other = await InstanceNorm.create({ device, strategy: 'split' });
  const encoder = device.createCommandEncoder();
  other.encode(encoder, storageBuffer(device, randomNormal(16, 2)), storageBuffer(device, new Float32Array(16)), [1, 2, 8]);
  device.queue.submit([encoder.finish()]);
  expect(pipelines.mock.calls.length).toBe(compiled.pipelines + passes);
  await norm.checkErrors();
  other.destroy();
  norm.destroy();
  owner.destroy();
});

it('does not keep a pipeline that failed to build: the call fails, the next one compiles it again and succeeds', async () => {
  const norm = await InstanceNorm.create({ fallback: 'error', strategy: 'split' });
  const device = norm.device!;
  const create = device.createComputePipeline.bind(device);
  // The first pipeline asks for more invocations than the device allows: a failed creation.
  let broken = 0;
  const pipelines = vi.spyOn(device, 'createComputePipeline').mockImplementation((descriptor) => {
    if (broken++ > 0) return create(descriptor);
    const tooLarge = 2 * device.limits.maxComputeInvocationsPerWorkgroup;
    return create({
      ...descriptor,
      compute: { ...descriptor.compute, constants: { ...descriptor.compute.constants, WORKGROUP_SIZE: tooLarge } },
    });
  });
  const shape = [1, 2, 30, 30];
  const x = randomNormal(1800, 7, 3, 2);
  await expect(norm.run(x, shape)).rejects.toThrow(/pipeline|invalid/i);
  const failures = await pipelineFailures(device);
  expect(failures).toHaveLength(1);
  expect(deviceKernels(device).pipelines.has(failures[0].key)).toBe(false);
  const callsAfterFailure = pipelines.mock.calls.length;
  expectClose(await norm.run(x, shape), referenceInstanceNorm(x, shape), 1e-4);
  // The failed variant alone was compiled again; the others stayed cached.
  expect(pipelines.mock.calls.length).toBe(callsAfterFailure + 1);
  expect(await pipelineFailures(device)).toHaveLength(1);
  await norm.checkErrors();
  norm.destroy();
});

it('a pipeline that failed to build in encode() is reported by checkErrors(), and the next encode() compiles it again', async () => {
  const norm = await InstanceNorm.create({ fallback: 'error', strategy: 'split' });
  const device = norm.device!;
  const create = device.createComputePipeline.bind(device);
  let broken = 0;
  vi.spyOn(device, 'createComputePipeline').mockImplementation((descriptor) => {
    if (broken++ > 0) return create(descriptor);
    const tooLarge = 2 * device.limits.maxComputeInvocationsPerWorkgroup;
    return create({
      ...descriptor,
      compute: { ...descriptor.compute, constants: { ...descriptor.compute.constants, WORKGROUP_SIZE: tooLarge } },
    });
  });
  const shape = [1, 2, 30, 30];
  const x = randomNormal(1800, 8, 3, 2);
  const input = storageBuffer(device, x);
  const output = storageBuffer(device, new Float32Array(1800).fill(Number.NaN));
  device.pushErrorScope('validation');
  norm.encode(device.createCommandEncoder(), input, output, shape);
  await expect(norm.checkErrors()).rejects.toThrow(/WebGPU error in InstanceNorm\.encode/);
  await device.popErrorScope(); // the app's own scope saw the invalid encoder
  const encoder = device.createCommandEncoder();
  norm.encode(encoder, input, output, shape);
  device.queue.submit([encoder.finish()]);
  await norm.checkErrors();
  expectClose(await readBuffer(device, output, 1800), referenceInstanceNorm(x, shape), 1e-4);
  norm.destroy();
});
