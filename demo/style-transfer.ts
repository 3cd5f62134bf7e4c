import type { InstanceNorm } from '../src';
import { COLOR_SPACES as COLOR_SPACE_NAMES, type ColorSpace, fromRgb, toRgb } from './color-spaces';
import { IMAGE_SIZE } from './sample-images';

const SHAPE = [1, 3, IMAGE_SIZE, IMAGE_SIZE];

export interface TransferSettings {
  readonly space: ColorSpace;
  /** 0: the content itself; 1: the content with the style's statistics (AdaIN). */
  readonly strength: number;
  readonly epsilon: number;
}

/** What one transfer used and produced, for display and for the CPU check. */
export interface Transfer {
  readonly rgb: Float32Array;
  /** The content and style in the colour space, as adain() took them. */
  readonly content: Float32Array;
  readonly style: Float32Array;
  /** adain()'s output in the colour space. */
  readonly stylized: Float32Array;
}

/**
 * Adaptive instance normalization through the library's own `adain()` (on the GPU where there
 * is one): the content, normalized per channel, given the style's per-channel mean and
 * sqrt(var + epsilon). The strength mixes it with the content: (1 - t) · content + t · adain is
 * exactly a normalization whose target mean and std are (1 - t) of the content's and t of the
 * style's, since the normalization is affine in its scale and bias; t = 0 gives the content back.
 */
export async function transferStyle(
  norm: InstanceNorm,
  contentRgb: Float32Array,
  styleRgb: Float32Array,
  settings: TransferSettings,
): Promise<Transfer> {
  const content = fromRgb(contentRgb, settings.space);
  const style = fromRgb(styleRgb, settings.space);
  const stylized = await norm.adain(content, SHAPE, style, SHAPE, { epsilon: settings.epsilon });
  const t = settings.strength;
  const mixed = t === 1 ? stylized : stylized.map((v, i) => (1 - t) * content[i] + t * v);
  return { rgb: toRgb(mixed, settings.space), content, style, stylized };
}

/** The call the page makes, as code, with the current settings. */
export function transferCode(settings: TransferSettings): string {
  const t = settings.strength.toFixed(2);
  const mix =
    settings.strength === 1
      ? ''
      : `// strength ${t}: mixed with the content, as a normalization to (1 - t) of its statistics and t of the style's\n` +
        `const shown = stylized.map((v, i) => (1 - ${t}) * content[i] + ${t} * v);\n`;
  return (
    `import { InstanceNorm } from 'webgpu-instancenorm';\n\n` +
    `const norm = await InstanceNorm.create();   // WebGPU, or the CPU where it is missing\n` +
    `// content, style: Float32Array, NCHW, the images in ${COLOR_SPACE_NAMES[settings.space]}\n` +
    `const stylized = await norm.adain(\n` +
    `  content, [1, 3, ${IMAGE_SIZE}, ${IMAGE_SIZE}],\n` +
    `  style, [1, 3, ${IMAGE_SIZE}, ${IMAGE_SIZE}],\n` +
    `  { epsilon: ${settings.epsilon.toExponential(1)} },\n);\n${mix}`
  );
}

export { SHAPE as IMAGE_SHAPE };
