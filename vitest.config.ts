import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores, and the native ops already use both (OpenMP): test files running side by side would
    // oversubscribe the cores and make every timing-sensitive check (event-loop pauses) noisy.
    fileParallelism: false,
  },
});
