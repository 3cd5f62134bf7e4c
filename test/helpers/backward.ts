import { type BackwardOptions, type BackwardResult, type InstanceNorm, type Layout, RunningStats } from '../../src';
import { referenceBackward } from '../../src/reference/float64-reference';
import { readBuffer, storageBuffer } from './gpu';
import { elementCount, shapeOf, type TensorCase } from './shapes';

/** Where the backward's statistics come from, and the affine's kind. */
export type BackwardVariant = 'recomputed statistics' | 'saved statistics' | 'per-instance scale' | 'eval mode';
export const BACKWARD_VARIANTS: readonly BackwardVariant[] = [
  'recomputed statistics',
  'saved statistics',
  'per-instance scale',
  'eval mode',
];

/** The GPU's gradients, and the float64 reference's for the same call. */
export interface BackwardOutcome {
  readonly gradInput: Float32Array;
  readonly gradScale: Float32Array;
  readonly gradBias: Float32Array;
  readonly expected: BackwardResult;
}

/**
 * Runs the backward of one variant through encodeBackward() into outputs poisoned with NaN, and
 * the reference beside it: 'saved statistics' first saves them with a forward in the same
 * encoder; 'eval mode' sets `running` on the GPU's and the reference's RunningStats alike.
 * `options.scale` (per channel, or per instance for 'per-instance scale') sets the affine's length.
 */
export async function backwardOnGpu(
  norm: InstanceNorm,
  t: TensorCase,
  layout: Layout,
  data: { readonly x: Float32Array; readonly dy: Float32Array },
  options: BackwardOptions & { readonly scale: Float32Array },
  variant: BackwardVariant,
  running?: { readonly mean: Float32Array; readonly variance: Float32Array },
): Promise<BackwardOutcome> {
  const device = norm.device!;
  const shape = shapeOf(t, layout);
  const count = elementCount(t);
  const affineLength = options.scale.length;
  const buffers = { x: storageBuffer(device, data.x), dy: storageBuffer(device, data.dy) };
  const gradInput = storageBuffer(device, new Float32Array(count).fill(Number.NaN));
  const gradAffine = storageBuffer(device, new Float32Array(2 * affineLength).fill(Number.NaN));
  const encoder = device.createCommandEncoder();
  let savedStats: GPUBuffer | undefined;
  let output: GPUBuffer | undefined;
  if (variant === 'saved statistics') {
    savedStats = storageBuffer(device, new Float32Array(2 * t.batch * t.channels).fill(Number.NaN));
    output = storageBuffer(device, new Float32Array(count));
    norm.encode(encoder, buffers.x, output, shape, { ...options, saveStats: savedStats });
  }
  let onGpu: RunningStats | undefined;
  let onCpu: RunningStats | undefined;
  if (variant === 'eval mode') {
    if (!running) throw new Error("backwardOnGpu: 'eval mode' needs the running statistics");
    onGpu = norm.createRunningStats(t.channels);
    onGpu.set(running);
    onCpu = new RunningStats(t.channels);
    onCpu.set(running);
  }
  const evalMode = (stats: RunningStats | undefined) => (stats ? { runningStats: stats, training: false } : {});
  norm.encodeBackward(encoder, { gradOutput: buffers.dy, input: buffers.x, gradInput, gradAffine }, shape, {
    ...options,
    savedStats,
    ...evalMode(onGpu),
  });
  device.queue.submit([encoder.finish()]);
  const actualInput = await readBuffer(device, gradInput, count);
  const actualAffine = await readBuffer(device, gradAffine, 2 * affineLength);
  await norm.checkErrors();
  for (const b of [buffers.x, buffers.dy, gradInput, gradAffine, savedStats, output]) b?.destroy();
  onGpu?.destroy();
  return {
    gradInput: actualInput,
    gradScale: actualAffine.slice(0, affineLength),
    gradBias: actualAffine.slice(affineLength),
    expected: referenceBackward(data.dy, data.x, shape, { ...options, ...evalMode(onCpu) }),
  };
}
