import { expect } from 'vitest';

/**
 * Expects |actual - expected| ≤ atol + rtol * |expected| everywhere (NaN matches only NaN),
 * and on failure names the first few bad indices with both values.
 */
export function expectClose(actual: Float32Array, expected: Float32Array, atol: number, rtol = 0): void {
  expect(actual.length, 'length').toBe(expected.length);
  const bad: string[] = [];
  let badCount = 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const ok = Number.isNaN(e) ? Number.isNaN(a) : Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (!ok) {
      badCount++;
      if (bad.length < 5) bad.push(`[${i}] got ${a}, expected ${e}`);
    }
    if (!Number.isNaN(e)) worst = Math.max(worst, Number.isNaN(a) ? Infinity : Math.abs(a - e));
  }
  if (badCount > 0) {
    expect.fail(`${badCount} of ${expected.length} elements off by more than ${atol} (worst ${worst}): ${bad.join('; ')}`);
  }
}

/** Largest absolute difference, for reporting. */
export function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}
