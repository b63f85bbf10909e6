/**
 * Global test setup. Property tests are seeded like everything else
 * (determinism is a feature): fast-check runs from a fixed seed unless
 * FC_SEED is set to explore another one; a failure prints its seed and path.
 */
import fc from 'fast-check';

const seed = process.env.FC_SEED === undefined ? 20261125 : Number(process.env.FC_SEED);
fc.configureGlobal({ seed, numRuns: Number(process.env.FC_RUNS ?? 100) });
