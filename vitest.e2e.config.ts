import { defineConfig } from 'vitest/config';

// The slow suites: real browsers (headless Chromium) against the built viewer. `npm run test:e2e`.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One browser at a time: each file launches its own Chromium, and two at 4K strain a small runner.
    fileParallelism: false,
    env: { PORTHOLE_FROM_SOURCE: '1' },
  },
});
