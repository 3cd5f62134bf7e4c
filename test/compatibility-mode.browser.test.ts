import { describe, expect, it } from 'vitest';
import { InstanceNorm } from '../src';
import { referenceInstanceNorm } from '../src/reference/float64-reference';
import { expectClose } from './helpers/compare';
import { STRATEGY_CHOICES } from './helpers/gpu-instance';
import { randomNormal } from './helpers/random';

// WebGPU's compatibility mode (featureLevel 'compatibility': OpenGL ES, D3D11), at its default
// limits: workgroups of 128 invocations, 4 storage buffers per shader stage. Skipped, by name,
// where the browser gives no compatibility-mode adapter (one that lacks 'core-features-and-limits').
const adapter = await globalThis.navigator?.gpu
  ?.requestAdapter({ featureLevel: 'compatibility' } as GPURequestAdapterOptions)
  .catch(() => null);
const isCompatibility = adapter != null && !adapter.features.has('core-features-and-limits' as GPUFeatureName);
const SHAPES = [
  [[2, 3, 17, 19], 'nchw'],
  [[1, 2, 64, 64], 'nchw'],
  [[2, 9, 11, 6], 'nhwc'],
] as const;
const describeLimits = (l: GPUSupportedLimits) =>
  `${l.maxComputeInvocationsPerWorkgroup} invocations per workgroup, ${l.maxStorageBuffersPerShaderStage} storage buffers per stage`;

describe.skipIf(!isCompatibility)(
  isCompatibility
    ? 'on a compatibility-mode device at its default limits'
    : 'on a compatibility-mode device (skipped: this browser gives no compatibility-mode adapter)',
  () => {
    it('either runs every strategy matching the reference or is refused at create() naming what is missing', async () => {
      const device = await adapter!.requestDevice();
      console.log(`compatibility-mode device: ${describeLimits(device.limits)}`);
      const first = await InstanceNorm.create({ device }).then(
        (norm) => ({ norm }),
        (error: unknown) => ({ error }),
      );
      if ('error' in first) {
        expect(first.error).toMatchObject({ name: 'InstanceNormError', code: 'unsupported' });
        expect(String((first.error as Error).message)).toMatch(/compatibility|maxStorageBuffersPerShaderStage|limit/);
        console.log(`refused: ${(first.error as Error).message}`);
        device.destroy();
        return;
      }
      first.norm.destroy();
      for (const strategy of STRATEGY_CHOICES) {
        const norm = await InstanceNorm.create({ device, strategy });
        for (const [shape, layout] of SHAPES) {
          const x = randomNormal(
            (shape as readonly number[]).reduce((a, b) => a * b, 1),
            3,
            10,
            2,
          );
          expectClose(await norm.run(x, shape, { layout }), referenceInstanceNorm(x, shape, { layout }), 1e-4);
        }
        await norm.checkErrors();
        norm.destroy();
      }
      device.destroy();
    });
  },
);
