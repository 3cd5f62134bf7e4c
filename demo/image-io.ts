import { IMAGE_SIZE } from './sample-images';

/** Draws an NCHW RGB tensor (values in [0, 1], clamped) on a canvas of IMAGE_SIZE². */
export function drawRgb(canvas: HTMLCanvasElement, rgb: Float32Array): void {
  const context = canvas.getContext('2d');
  if (!context) return;
  const plane = IMAGE_SIZE * IMAGE_SIZE;
  const image = context.createImageData(IMAGE_SIZE, IMAGE_SIZE);
  for (let i = 0; i < plane; i++) {
    image.data[4 * i] = rgb[i] * 255;
    image.data[4 * i + 1] = rgb[plane + i] * 255;
    image.data[4 * i + 2] = rgb[2 * plane + i] * 255;
    image.data[4 * i + 3] = 255;
  }
  context.putImageData(image, 0, 0);
}

/**
 * An image, bitmap or video frame (`width` × `height`) scaled to cover `outWidth` × `outHeight`
 * (IMAGE_SIZE² by default, the middle kept), as an NCHW RGB tensor in [0, 1].
 */
export function tensorFromSource(
  source: CanvasImageSource,
  width: number,
  height: number,
  outWidth = IMAGE_SIZE,
  outHeight = IMAGE_SIZE,
): Float32Array {
  const canvas = new OffscreenCanvas(outWidth, outHeight);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('2-D canvas unavailable');
  const scale = Math.min(width / outWidth, height / outHeight);
  const [cropWidth, cropHeight] = [outWidth * scale, outHeight * scale];
  context.drawImage(source, (width - cropWidth) / 2, (height - cropHeight) / 2, cropWidth, cropHeight, 0, 0, outWidth, outHeight);
  const { data } = context.getImageData(0, 0, outWidth, outHeight);
  const plane = outWidth * outHeight;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    out[i] = data[4 * i] / 255;
    out[plane + i] = data[4 * i + 1] / 255;
    out[2 * plane + i] = data[4 * i + 2] / 255;
  }
  return out;
}

/** A dropped or picked image file as a tensor of `outWidth` × `outHeight` (IMAGE_SIZE² by default). */
export async function tensorFromFile(file: File, outWidth = IMAGE_SIZE, outHeight = IMAGE_SIZE): Promise<Float32Array> {
  const bitmap = await createImageBitmap(file);
  const tensor = tensorFromSource(bitmap, bitmap.width, bitmap.height, outWidth, outHeight);
  bitmap.close();
  return tensor;
}

/**
 * Draws an NCHW RGB tensor of `width` × `height` (N = 1) on a canvas of that size, mapping
 * [low, high] to 0-255 (clamped); NaN is drawn magenta.
 */
export function drawImageTensor(
  canvas: HTMLCanvasElement,
  rgb: ArrayLike<number>,
  width: number,
  height: number,
  low: number,
  high: number,
): void {
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d');
  if (!context) return;
  const plane = width * height;
  const image = context.createImageData(width, height);
  const span = high > low ? high - low : 1;
  const nan = [255, 0, 255];
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const v = rgb[c * plane + i];
      image.data[4 * i + c] = Number.isNaN(v) ? nan[c] : ((v - low) / span) * 255;
    }
    image.data[4 * i + 3] = 255;
  }
  context.putImageData(image, 0, 0);
}

/** The heat map's colour at t in [0, 1]: blue (0) through white (0.5) to red (1). */
function heatColor(t: number): [number, number, number] {
  const cold = Math.min(1, 2 * t);
  const hot = Math.min(1, 2 - 2 * t);
  return [255 * cold, 255 * Math.min(cold, hot), 255 * hot];
}

/** Draws one channel as a heat map: blue (low) through white to red (high) over [low, high]. */
export function drawHeatMap(canvas: HTMLCanvasElement, plane: Float32Array, low: number, high: number): void {
  const context = canvas.getContext('2d');
  if (!context) return;
  const image = context.createImageData(IMAGE_SIZE, IMAGE_SIZE);
  for (let i = 0; i < plane.length; i++) {
    const [r, g, b] = heatColor(Math.min(1, Math.max(0, (plane[i] - low) / (high - low))));
    image.data[4 * i] = r;
    image.data[4 * i + 1] = g;
    image.data[4 * i + 2] = b;
    image.data[4 * i + 3] = 255;
  }
  context.putImageData(image, 0, 0);
}

/** The heat map's legend: the colour bar over [low, high] with its ends and middle labelled. */
export function drawLegend(canvas: HTMLCanvasElement, low: number, high: number): void {
  const context = canvas.getContext('2d');
  if (!context) return;
  const { width, height } = canvas;
  const inset = 16;
  context.clearRect(0, 0, width, height);
  for (let x = inset; x < width - inset; x++) {
    const [r, g, b] = heatColor((x - inset) / (width - 2 * inset - 1));
    context.fillStyle = `rgb(${r} ${g} ${b})`;
    context.fillRect(x, 0, 1, 14);
  }
  context.strokeStyle = '#999';
  context.strokeRect(inset - 0.5, 0.5, width - 2 * inset, 14);
  context.fillStyle = '#333';
  context.font = '11px system-ui, sans-serif';
  context.textAlign = 'center';
  const label = (v: number) => `${v > 0 && low < 0 ? '+' : ''}${Number(v.toFixed(2))}`;
  const labels: [number, string][] = [
    [inset, `≤ ${label(low)}`],
    [width / 2, label((low + high) / 2)],
    [width - inset, `≥ ${label(high)}`],
  ];
  for (const [x, text] of labels) context.fillText(text, Math.min(Math.max(x, 20), width - 20), height - 4);
}
