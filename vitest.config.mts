import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each test file runs in its own child process: the native core keeps
    // per-thread state, and crash cases must not take the runner down.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
