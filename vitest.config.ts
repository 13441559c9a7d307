import { defineConfig } from 'vitest/config';

// Two cores: run test files in two forked processes; tfjs and worker threads behave best in forks.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    exclude: ['node_modules/**', 'test/reliability/**'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
