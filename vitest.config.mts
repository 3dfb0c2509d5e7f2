import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each test file runs in its own child process: the native core keeps
    // per-thread state, and crash cases must not take the runner down.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Type tests (test/types/*.test-d.ts) run with `npm test`: tsc checks them
    // against the built package as a consumer would, and a wrong type fails the run.
    typecheck: {
      enabled: true,
      include: ['test/types/**/*.test-d.ts', 'test/types/**/*.test-d.mts'],
      tsconfig: './test/types/tsconfig.json',
      ignoreSourceErrors: false,
    },
  },
});
