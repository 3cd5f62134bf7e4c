import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Cases of the fuzz test (FUZZ_RUNS, default 200). */
    fuzzRuns: number;
    /** Seed of the fuzz test (FUZZ_SEED; fixed unless FUZZ_RUNS is set). */
    fuzzSeed: number;
  }
}
