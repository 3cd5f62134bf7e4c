import { describe, expect, it } from 'vitest';
import { nextBatchSize } from '../src/gpu/tuner';

// tune() on a fast GPU: browsers coarsen timestamps to 100 µs, so one call reads as 0 ms and
// every strategy would tie. Batches grow until a sample lasts 1 ms.
describe('nextBatchSize', () => {
  it('keeps a batch that lasts 1 ms or more', () => {
    expect(nextBatchSize(1, 1)).toBeNull();
    expect(nextBatchSize(1, 30)).toBeNull();
    expect(nextBatchSize(8, 1.2)).toBeNull();
  });

  it('grows a short batch to about 1 ms, at least doubling it', () => {
    expect(nextBatchSize(1, 0.1)).toBe(10);
    expect(nextBatchSize(4, 0.3)).toBe(16);
    expect(nextBatchSize(10, 0.9)).toBe(20);
  });

  it('grows a batch read as 0 ms (below the timer resolution) 16-fold, up to 256 calls', () => {
    expect(nextBatchSize(1, 0)).toBe(16);
    expect(nextBatchSize(16, 0)).toBe(256);
    expect(nextBatchSize(64, 0.001)).toBe(256);
    expect(nextBatchSize(256, 0)).toBeNull();
  });
});
