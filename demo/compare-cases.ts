/**
 * The shapes the "Compare on your device" section offers. Kept apart from compare.ts, which
 * imports ONNX Runtime Web and TensorFlow.js, so that the page can list them before those load.
 */
export type CaseKind = 'instance-norm' | 'group-norm-silu';

export interface CompareCase {
  readonly id: string;
  readonly kind: CaseKind;
  /** NCHW. */
  readonly shape: readonly [number, number, number, number];
  /** For GroupNorm: the number of groups. */
  readonly groups: number;
  /** Ticked at first. */
  readonly checked: boolean;
}

export const EPSILON = 1e-5;

export const COMPARE_CASES: readonly CompareCase[] = [
  { id: 'style-32x256', kind: 'instance-norm', shape: [1, 32, 256, 256], groups: 32, checked: true },
  { id: 'style-64x128', kind: 'instance-norm', shape: [1, 64, 128, 128], groups: 64, checked: false },
  { id: 'style-128x64', kind: 'instance-norm', shape: [1, 128, 64, 64], groups: 128, checked: true },
  { id: 'unet-320x64', kind: 'group-norm-silu', shape: [1, 320, 64, 64], groups: 32, checked: true },
  { id: 'unet-640x32', kind: 'group-norm-silu', shape: [1, 640, 32, 32], groups: 32, checked: false },
  { id: 'unet-1280x16', kind: 'group-norm-silu', shape: [1, 1280, 16, 16], groups: 32, checked: false },
];

/** With `?quick` in the page's address (the end-to-end tests): every side divided by 8, and fewer calls. */
export function scaledCase(c: CompareCase, quick: boolean): CompareCase {
  if (!quick) return c;
  const [n, channels, h, w] = c.shape;
  return { ...c, shape: [n, channels, Math.max(4, h / 8), Math.max(4, w / 8)] };
}

export function caseLabel(c: CompareCase): string {
  const shape = `[${c.shape.join(', ')}]`;
  return c.kind === 'instance-norm' ? `Style transfer: InstanceNorm ${shape}` : `U-Net: GroupNorm(${c.groups}) + SiLU ${shape}`;
}

/** A short label for the chart. */
export function caseShortLabel(c: CompareCase): string {
  const [, channels, h, w] = c.shape;
  return c.kind === 'instance-norm' ? `IN ${channels}×${h}×${w}` : `GN${c.groups}+SiLU ${channels}×${h}×${w}`;
}
