import { defineConfig } from 'vitest/config';

// The reliability suite (`npm run test:reliability`): crash trials, exchange faults, hostile input,
// secrets and load. Sizes come from the environment (KILO_CRASH_TRIALS, KILO_LOAD_ROUNDS, ...);
// the *.ci.test.ts files run CI-sized inside the normal `npm test` too.
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 1_800_000,
    hookTimeout: 300_000,
  },
});
