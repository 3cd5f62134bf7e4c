/**
 * Colour spaces for style-statistics transfer, on planar NCHW tensors of 3 channels. Moving
 * per-channel statistics in RGB mixes brightness into colour; in a decorrelated space (YCbCr,
 * CIE Lab) the channels separate lightness from colour and the transfer looks far better.
 */
export type ColorSpace = 'rgb' | 'ycbcr' | 'lab';

export const COLOR_SPACES: Record<ColorSpace, string> = { rgb: 'RGB', ycbcr: 'YCbCr (BT.601)', lab: 'CIE Lab' };

/** RGB in [0, 1] to the colour space, in a new tensor. */
export function fromRgb(rgb: Float32Array, space: ColorSpace): Float32Array {
  return mapPixels(rgb, space === 'rgb' ? (p) => p : space === 'ycbcr' ? rgbToYcbcr : rgbToLab);
}

/** The colour space back to RGB (not clamped), in a new tensor. */
export function toRgb(tensor: Float32Array, space: ColorSpace): Float32Array {
  return mapPixels(tensor, space === 'rgb' ? (p) => p : space === 'ycbcr' ? ycbcrToRgb : labToRgb);
}

type Pixel = [number, number, number];

function mapPixels(tensor: Float32Array, convert: (p: Pixel) => Pixel): Float32Array {
  const plane = tensor.length / 3;
  const out = new Float32Array(tensor.length);
  for (let i = 0; i < plane; i++) {
    const [a, b, c] = convert([tensor[i], tensor[plane + i], tensor[2 * plane + i]]);
    out[i] = a;
    out[plane + i] = b;
    out[2 * plane + i] = c;
  }
  return out;
}

function rgbToYcbcr([r, g, b]: Pixel): Pixel {
  return [
    0.299 * r + 0.587 * g + 0.114 * b,
    0.5 - 0.168736 * r - 0.331264 * g + 0.5 * b,
    0.5 + 0.5 * r - 0.418688 * g - 0.081312 * b,
  ];
}

function ycbcrToRgb([y, cb, cr]: Pixel): Pixel {
  return [y + 1.402 * (cr - 0.5), y - 0.344136 * (cb - 0.5) - 0.714136 * (cr - 0.5), y + 1.772 * (cb - 0.5)];
}

// sRGB ↔ linear ↔ XYZ (D65) ↔ Lab.
const toLinear = (c: number) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
const toGamma = (c: number) => (c <= 0.0031308 ? 12.92 * c : 1.055 * Math.max(c, 0) ** (1 / 2.4) - 0.055);
const WHITE: Pixel = [0.95047, 1, 1.08883];
const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);
const fInverse = (t: number) => (t ** 3 > 216 / 24389 ? t ** 3 : (116 * t - 16) / (24389 / 27));

function rgbToLab(rgb: Pixel): Pixel {
  const [r, g, b] = rgb.map(toLinear);
  const x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / WHITE[0];
  const y = (0.2126 * r + 0.7152 * g + 0.0722 * b) / WHITE[1];
  const z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / WHITE[2];
  return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
}

function labToRgb([l, a, b]: Pixel): Pixel {
  const fy = (l + 16) / 116;
  const x = WHITE[0] * fInverse(fy + a / 500);
  const y = WHITE[1] * fInverse(fy);
  const z = WHITE[2] * fInverse(fy - b / 200);
  const r = 3.2406 * x - 1.5372 * y - 0.4986 * z;
  const g = -0.9689 * x + 1.8758 * y + 0.0415 * z;
  const bl = 0.0557 * x - 0.204 * y + 1.057 * z;
  return [toGamma(r), toGamma(g), toGamma(bl)];
}
