import type { InstanceNorm, InstanceStats } from '../src';
import { type ColorSpace, fromRgb, toRgb } from './color-spaces';
import { IMAGE_SIZE } from './sample-images';

const SHAPE = [1, 3, IMAGE_SIZE, IMAGE_SIZE];

export interface TransferSettings {
  readonly space: ColorSpace;
  /** 0: the content's own statistics; 1: the style's. */
  readonly strength: number;
  readonly epsilon: number;
}

/** What one transfer used and produced, for display and for the CPU check. */
export interface Transfer {
  readonly rgb: Float32Array;
  /** The content in the colour space, and the options the normalization ran with. */
  readonly content: Float32Array;
  readonly scale: Float32Array;
  readonly bias: Float32Array;
  /** The normalization's output in the colour space. */
  readonly normalized: Float32Array;
}

/**
 * Adaptive instance normalization (AdaIN): the content, normalized per channel, re-scaled with
 * the style's per-channel mean and standard deviation, all computed by the library (statistics
 * and normalization on the GPU where there is one). The standard deviation is 1 / invStd, so
 * that strength 0 gives the content back exactly.
 */
export async function transferStyle(
  norm: InstanceNorm,
  contentRgb: Float32Array,
  styleRgb: Float32Array,
  settings: TransferSettings,
): Promise<Transfer> {
  const options = { epsilon: settings.epsilon };
  const content = fromRgb(contentRgb, settings.space);
  const style = fromRgb(styleRgb, settings.space);
  const [contentStats, styleStats] = await Promise.all([norm.stats(content, SHAPE, options), norm.stats(style, SHAPE, options)]);
  const { scale, bias } = blendStatistics(contentStats, styleStats, settings.strength);
  const normalized = await norm.run(content, SHAPE, { ...options, scale, bias });
  return { rgb: toRgb(normalized, settings.space), content, scale, bias, normalized };
}

/** Per channel: the target mean and standard deviation, (1 - t) of the content's and t of the style's. */
function blendStatistics(content: InstanceStats, style: InstanceStats, t: number): { scale: Float32Array; bias: Float32Array } {
  const scale = new Float32Array(3);
  const bias = new Float32Array(3);
  for (let c = 0; c < 3; c++) {
    scale[c] = (1 - t) / content.invStd[c] + t / style.invStd[c];
    bias[c] = (1 - t) * content.mean[c] + t * style.mean[c];
  }
  return { scale, bias };
}

export { SHAPE as IMAGE_SHAPE };
