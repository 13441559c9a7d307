import { defineConfig } from 'vitest/config';

// Two cores: run test files in two forked processes; tfjs and worker threads behave best in forks.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // The reliability suite's *.ci.test.ts files run here CI-sized; anything else under
    // test/reliability runs only with `npm run test:reliability` (full sizes from the environment).
    exclude: ['node_modules/**', 'test/reliability/**/!(*.ci).test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
