import { describe } from '../core/describe-value.js';
import { argumentError } from '../core/errors.js';
import type { OwnOptions } from '../core/own-options.js';

// WebNN's option names (epsilon, scale, bias, layout) are this library's own; PyTorch's
// (eps, weight, affine, track_running_stats as trackRunningStats) are mapped onto them here,
// once, at every public entry, so that the rest of the code knows one name per thing.

const ALIASES = [
  ['eps', 'epsilon'],
  ['weight', 'scale'],
] as const;

/**
 * Options read by ownOptions() with PyTorch's names replaced by this library's. Both names of
 * a pair at once, `affine: false` with a scale or bias, or `trackRunningStats` disagreeing with
 * `runningStats`, throw: each would leave one of them silently ignored.
 */
export function canonicalOptions(options: OwnOptions): OwnOptions {
  const result: Record<string, unknown> = Object.assign(Object.create(null), options);
  for (const [alias, name] of ALIASES) {
    if (options[alias] === undefined) continue;
    if (options[name] !== undefined) {
      throw argumentError(alias, `both ${name} and ${alias} (PyTorch's name for ${name}) are given; pass one`);
    }
    result[name] = options[alias];
    delete result[alias];
  }
  const { affine, trackRunningStats } = options;
  if (affine !== undefined) {
    if (typeof affine !== 'boolean') throw argumentError('affine', `affine must be a boolean, got ${describe(affine)}`);
    if (!affine && (result.scale !== undefined || result.bias !== undefined)) {
      throw argumentError('affine', 'affine is false but a scale (weight) or bias is given');
    }
  }
  delete result.affine;
  if (trackRunningStats !== undefined) {
    if (typeof trackRunningStats !== 'boolean') {
      throw argumentError('trackRunningStats', `trackRunningStats must be a boolean, got ${describe(trackRunningStats)}`);
    }
    if (trackRunningStats !== (options.runningStats !== undefined)) {
      throw argumentError(
        'trackRunningStats',
        trackRunningStats
          ? 'trackRunningStats is true but no runningStats are given'
          : 'trackRunningStats is false but runningStats are given',
      );
    }
  }
  delete result.trackRunningStats;
  return result;
}
