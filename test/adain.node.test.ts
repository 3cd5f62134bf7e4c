import { describe, expect, it } from 'vitest';
import { adainCpu } from '../src';
import { expectClose } from './helpers/compare';

describe('adainCpu', () => {
  it('gives the content the style instance mean and standard deviation: [0, 2] with style [10, 14, 10, 14] → [10, 14]', () => {
    // content: mean 1, variance 1 → ±1 (epsilon 0); style: mean 12, variance 4 → std 2
    const y = adainCpu(new Float32Array([0, 2]), [1, 1, 2], new Float32Array([10, 14, 10, 14]), [1, 1, 4], { epsilon: 0 });
    expectClose(y, new Float32Array([10, 14]), 0);
  });

  it('uses the one style image for every content image when the style has N = 1', () => {
    const y = adainCpu(new Float32Array([0, 2, 5, 3]), [2, 1, 2], new Float32Array([-1, 3]), [1, 1, 2], { epsilon: 0 });
    expectClose(y, new Float32Array([-1, 3, 3, -1]), 0); // style mean 1, std 2
  });

  it('rejects a style of another C or N, and scale or bias options', () => {
    const x = new Float32Array(12);
    expect(() => adainCpu(x, [2, 3, 2], new Float32Array(8), [2, 4, 1])).toThrow(/has C = 4, expected the content's C = 3/);
    expect(() => adainCpu(x, [2, 3, 2], new Float32Array(9), [3, 3, 1])).toThrow(/has N = 3, expected the content's N = 2 or 1/);
    expect(() => adainCpu(x, [2, 3, 2], x, [2, 3, 2], { scale: new Float32Array(3) } as object)).toThrow(
      /adain takes no scale option/,
    );
    expect(() => adainCpu(x, [2, 3, 2], new Float32Array(5), [2, 3, 1])).toThrow(/style has length 5, expected 6/);
  });
});
