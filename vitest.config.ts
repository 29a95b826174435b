import { defineConfig } from 'vitest/config';

// The fast suite: unit, property, fuzz and local multi-process tests. Slow suites (Xvfb + Chromium,
// the soak, Wine) have their own configs and npm scripts so `npm test` stays quick.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/api/postgres: `npm run test:postgres` (vitest.postgres.config.ts), with its own cluster;
    // test/api/fleet: `npm run test:fleet` (vitest.fleet.config.ts), with PostgreSQL and Redis.
    exclude: [
      'test/e2e/**',
      'test/soak/**',
      'test/win32/**',
      'test/package/**',
      'test/api/postgres/**',
      'test/api/fleet/**',
      'node_modules/**',
    ],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // Processes the tests spawn (bin/porthole.js) run the sources, never a stale dist/ build.
    env: { PORTHOLE_FROM_SOURCE: '1' },
  },
});
