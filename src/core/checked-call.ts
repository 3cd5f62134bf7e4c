import type { Activation, BackwardOptions, EpsilonPlacement, InstanceNormOptions, ResidualPosition } from './options.js';
import type { RunningStats } from './running-stats.js';
import type { TensorGeometry } from './tensor-geometry.js';

// What validation hands to the backends: a call whose arguments are checked, so that the GPU
// and the CPU backend never check them again.

/** A tensor on the CPU: a Float32Array, or for `dataType: 'float16'` a Uint16Array of half bits. */
export type TensorArray = Float32Array | Uint16Array;

/** How a call uses running statistics: updates them from the batch (training), or normalizes with them (eval). */
export type RunningStatsUse = 'update' | 'normalize-with';

/** The options of a call as read: own properties, this library's names, values not yet checked. */
export type CallOptions = Readonly<
  Omit<InstanceNormOptions, 'eps' | 'weight' | 'affine' | 'trackRunningStats'> &
    Pick<BackwardOptions, 'savedStats'> & { persist?: unknown; repetitions?: unknown }
>;

/** The epilogue's options, checked; whether there is a residual is the residual argument's business. */
export interface CheckedEpilogue {
  readonly activation: Activation;
  readonly activationAlpha: number;
  readonly residualPosition: ResidualPosition;
}

/** How a call uses its running statistics, checked. */
export interface CheckedRunning {
  readonly stats: RunningStats;
  readonly use: RunningStatsUse;
  /** The batch's weight in the update: momentum, or null for the cumulative average over batchesTracked. */
  readonly momentum: number | null;
}

/** The backend-independent part of a call: shape, layout, epsilon, epilogue, running statistics, checked. */
export interface CheckedCall {
  /** The options as read once from the caller's object; later steps read these, never the caller's object. */
  readonly options: CallOptions;
  readonly geometry: TensorGeometry;
  readonly epsilon: number;
  /** Whether epsilon is added to the variance or to the standard deviation. */
  readonly epsilonPlacement: EpsilonPlacement;
  readonly epilogue: CheckedEpilogue;
  readonly running?: CheckedRunning;
  /** Channels per normalization group: 1 for instance norm, C / groups for GroupNorm. */
  readonly groupChannels: number;
}
