import { describe } from './describe-value';
import { InstanceNormError } from './errors';
import type { InstanceNormOptions } from './options';

// WebNN's option names (epsilon, scale, bias, layout) are this library's own; PyTorch's
// (eps, weight, affine, track_running_stats as trackRunningStats) are mapped onto them here,
// once, at every public entry, so that the rest of the code knows one name per thing.

const ALIASES = [
  ['eps', 'epsilon'],
  ['weight', 'scale'],
] as const;

/**
 * The options with PyTorch's names replaced by this library's. Both names of a pair at once,
 * `affine: false` with a scale or bias, or `trackRunningStats` disagreeing with `runningStats`,
 * throw: each would leave one of them silently ignored.
 */
export function canonicalOptions<T extends InstanceNormOptions>(options: T | undefined): T | undefined {
  if (options === undefined || options === null || typeof options !== 'object') return options;
  const o = options as InstanceNormOptions;
  if (ALIASES.every(([alias]) => o[alias] === undefined) && o.affine === undefined && o.trackRunningStats === undefined) {
    return options;
  }
  const result: Record<string, unknown> = { ...(options as object) };
  for (const [alias, name] of ALIASES) {
    if (o[alias] === undefined) continue;
    if (o[name] !== undefined) {
      throw new InstanceNormError(`both ${name} and ${alias} (PyTorch's name for ${name}) are given; pass one`);
    }
    result[name] = o[alias];
    delete result[alias];
  }
  if (o.affine !== undefined) {
    if (typeof o.affine !== 'boolean') throw new InstanceNormError(`affine must be a boolean, got ${describe(o.affine)}`);
    if (!o.affine && (result.scale !== undefined || result.bias !== undefined)) {
      throw new InstanceNormError('affine is false but a scale (weight) or bias is given');
    }
    delete result.affine;
  }
  if (o.trackRunningStats !== undefined) {
    if (typeof o.trackRunningStats !== 'boolean') {
      throw new InstanceNormError(`trackRunningStats must be a boolean, got ${describe(o.trackRunningStats)}`);
    }
    if (o.trackRunningStats !== (o.runningStats !== undefined)) {
      throw new InstanceNormError(
        o.trackRunningStats
          ? 'trackRunningStats is true but no runningStats are given'
          : 'trackRunningStats is false but runningStats are given',
      );
    }
    delete result.trackRunningStats;
  }
  return result as T;
}
