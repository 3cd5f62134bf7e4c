import { InstanceNorm, instanceNormCpu } from '../src';
import { sampleImage } from './sample-image';

const SIZE = 256;
const shape = [1, 3, SIZE, SIZE];

/** Draws an NCHW RGB tensor, mapping [low, high] to [0, 255]. */
function draw(canvas: HTMLCanvasElement, tensor: Float32Array, low: number, high: number): void {
  const context = canvas.getContext('2d')!;
  const pixels = context.createImageData(SIZE, SIZE);
  const plane = SIZE * SIZE;
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      pixels.data[4 * i + c] = ((tensor[c * plane + i] - low) / (high - low)) * 255;
    }
    pixels.data[4 * i + 3] = 255;
  }
  context.putImageData(pixels, 0, 0);
}

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = element<HTMLParagraphElement>('status');
const slider = element<HTMLInputElement>('epsilon');

async function main(): Promise<void> {
  const norm = await InstanceNorm.create();
  if (norm.backend === 'cpu') element('banner').style.display = 'block';
  const input = sampleImage(SIZE);
  draw(element('input'), input, 0, 1);

  const update = async () => {
    const epsilon = 10 ** Number(slider.value);
    element('epsilon-value').textContent = epsilon.toExponential(1);
    const started = performance.now();
    const output = await norm.run(input, shape, { epsilon });
    const elapsed = performance.now() - started;
    draw(element('output'), output, -2.5, 2.5); // ±2.5 standard deviations
    const reference = instanceNormCpu(input, shape, { epsilon });
    const difference = output.reduce((worst, v, i) => Math.max(worst, Math.abs(v - reference[i])), 0);
    const adapter = norm.device?.adapterInfo;
    status.textContent =
      `backend: ${norm.backend}${adapter ? ` (${adapter.vendor} ${adapter.architecture})` : ''}\n` +
      `${elapsed.toFixed(1)} ms per call, max |GPU − CPU reference| = ${difference.toExponential(2)}`;
    document.documentElement.dataset.state = 'ready';
  };
  slider.addEventListener('input', () => void update());
  await update();
}

main().catch((error: unknown) => {
  status.textContent = `error: ${error instanceof Error ? error.message : String(error)}`;
  document.documentElement.dataset.state = 'error';
});
