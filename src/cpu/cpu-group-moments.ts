/**
 * GroupNorm on the CPU: the `count` means and variances from means[meanAt] and
 * variances[varianceAt], `step` apart (a group's channels), replaced in place by the group's,
 * exactly: with equal counts, the mean of the means, and the mean of the variances plus the
 * variance of the means.
 */
export function mergeGroupMoments(
  means: Float64Array,
  meanAt: number,
  variances: Float64Array,
  varianceAt: number,
  step: number,
  count: number,
): void {
  let meanSum = 0;
  for (let i = 0; i < count; i++) meanSum += means[meanAt + i * step];
  const mean = meanSum / count;
  let spread = 0;
  for (let i = 0; i < count; i++) spread += variances[varianceAt + i * step] + (means[meanAt + i * step] - mean) ** 2;
  for (let i = 0; i < count; i++) {
    means[meanAt + i * step] = mean;
    variances[varianceAt + i * step] = spread / count;
  }
}
