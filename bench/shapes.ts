import type { Layout } from '../src';

export interface BenchShape {
  /** Logical [N, C, ...spatial]; an 'nhwc' case runs the same tensor channels-last. */
  readonly dims: readonly number[];
  readonly layout: Layout;
  /** Kept by `--quick`. */
  readonly quick?: boolean;
}

const nchw = (dims: number[], quick = false): BenchShape => ({ dims, layout: 'nchw', quick });
const nhwc = (dims: number[], quick = false): BenchShape => ({ dims, layout: 'nhwc', quick });

export const BENCH_SHAPES: readonly BenchShape[] = [
  // one image of a few channels, split across the device
  nchw([1, 3, 1024, 1024], true),
  nchw([1, 16, 512, 512], true),
  // style transfer and image generators: 32-256 channels at 16²-256², batch 1-16
  nchw([1, 32, 256, 256]),
  nchw([1, 64, 128, 128], true),
  nchw([1, 128, 64, 64], true),
  nchw([4, 128, 64, 64]),
  nchw([1, 256, 32, 32]),
  nchw([1, 256, 16, 16], true),
  nchw([16, 64, 16, 16], true),
  nchw([16, 256, 16, 16]),
  // channels-last (TF.js's layout), each timed against the same tensor channels-first
  nhwc([1, 3, 1024, 1024], true),
  nhwc([1, 32, 256, 256]),
  nhwc([1, 64, 128, 128], true),
  nhwc([8, 128, 32, 32], true),
  nhwc([16, 64, 16, 16]),
];

/** The shape array of a case in its layout. */
export function layoutShape(s: BenchShape): number[] {
  const [n, c, ...spatial] = s.dims;
  return s.layout === 'nchw' ? [...s.dims] : [n, ...spatial, c];
}

/** A TF.js benchmark case: a channels-last tensor, as TF.js holds it, and the op it gets. */
export interface TfjsBenchShape {
  /** [N, H, W, C]. */
  readonly shape: readonly number[];
  /** instanceNorm, or groupNorm with this many groups. */
  readonly groups?: number;
  /** Kept by `--quick`. */
  readonly quick?: boolean;
}

// Style transfer's instance norms (32-256 channels at 32²-256²) and the GroupNorm (G = 32) of
// diffusion U-Nets (320-1280 channels), channels-last as in TF.js.
export const TFJS_BENCH_SHAPES: readonly TfjsBenchShape[] = [
  { shape: [1, 256, 256, 32] },
  { shape: [1, 128, 128, 64], quick: true },
  { shape: [1, 64, 64, 128], quick: true },
  { shape: [1, 32, 32, 256] },
  { shape: [1, 64, 64, 320], groups: 32, quick: true },
  { shape: [1, 32, 32, 640], groups: 32 },
  { shape: [2, 16, 16, 1280], groups: 32 },
];

/** What `--only` matches a TF.js case against: `[dims] tfjs instanceNorm` or `[dims] tfjs groupNorm`. */
export function tfjsLabel(s: TfjsBenchShape): string {
  return `[${s.shape.join(', ')}] tfjs ${s.groups ? 'groupNorm' : 'instanceNorm'}`;
}

/** A GroupNorm + SiLU case of Stable Diffusion (NCHW, as its ONNX exports hold it). */
export interface GroupBenchShape {
  /** [N, C, H, W]. */
  readonly dims: readonly number[];
  readonly groups: number;
  readonly model: 'U-Net' | 'VAE decoder';
  /** Kept by `--quick`. */
  readonly quick?: boolean;
}

const unet = (dims: number[], quick = false): GroupBenchShape => ({ dims, groups: 32, model: 'U-Net', quick });
const vae = (dims: number[], quick = false): GroupBenchShape => ({ dims, groups: 32, model: 'VAE decoder', quick });

// Stable Diffusion 1.x at 512²: the U-Net's GroupNorms at batch 2 (classifier-free guidance) on the
// 64² latents, down blocks and the wider up blocks; the VAE decoder's at batch 1 on its way from
// 64² to 512².
export const GROUP_BENCH_SHAPES: readonly GroupBenchShape[] = [
  unet([2, 320, 64, 64], true),
  unet([2, 640, 32, 32]),
  unet([2, 1280, 16, 16]),
  unet([2, 1280, 8, 8], true),
  unet([2, 2560, 8, 8]),
  unet([2, 1920, 16, 16]),
  unet([2, 960, 32, 32]),
  unet([2, 640, 64, 64]),
  vae([1, 512, 64, 64]),
  vae([1, 512, 128, 128], true),
  vae([1, 256, 256, 256]),
  vae([1, 128, 512, 512]),
];

/** What `--only` matches a GroupNorm case against: `[dims] groupNorm`. */
export function groupLabel(s: GroupBenchShape): string {
  return `[${s.dims.join(', ')}] groupNorm`;
}

/** A whole network on TF.js's WebGPU backend, at one input size. */
export interface NetworkBenchCase {
  /** Engstrom's TransformNet, the fast-style-transfer network of ml5's StyleTransfer. */
  readonly network: 'transformnet';
  /** The input image is [1, size, size, 3]. */
  readonly size: number;
  /** Kept by `--quick`. */
  readonly quick?: boolean;
  /**
   * Skipped on a CPU adapter (SwiftShader: TF.js's convolutions take minutes a frame there)
   * unless `--only` names the case's label exactly.
   */
  readonly gpuOnly?: boolean;
}

// 64² on every adapter (on SwiftShader its convolutions take seconds a frame), 512² where there
// is a real GPU (`--only 'transformnet 512'` forces it).
export const NETWORK_BENCH_CASES: readonly NetworkBenchCase[] = [
  { network: 'transformnet', size: 64, quick: true },
  { network: 'transformnet', size: 512, gpuOnly: true },
];

/** What `--only` matches a network case against: `transformnet 64`. */
export function networkLabel(c: NetworkBenchCase): string {
  return `${c.network} ${c.size}`;
}
