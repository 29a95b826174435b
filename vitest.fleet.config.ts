import { defineConfig } from 'vitest/config';
import { findPostgresBin } from './test/fixtures/postgres.js';
import { findRedisServer } from './test/fixtures/redis.js';
import { ROUTE_TESTS } from './vitest.postgres.config.js';

// `npm run test:fleet`: several API instances sharing PostgreSQL and Redis (issue 18): relayed
// commands, takeovers, revocations, one-time tokens and failover after SIGKILL, with real
// `porthole api serve` processes. The global setup starts a private PostgreSQL cluster and a private
// redis-server on free ports (test/fixtures/postgres.ts, redis.ts). Not part of `npm test`: it needs
// Debian's postgresql and redis-server (scripts/apt/fleet.txt); without them the tests skip and say why.
// The API's route tests run here once more, on PostgreSQL and with Redis (PORTHOLE_TEST_REDIS=1 in
// test/api/harness.ts): every route through the Redis fleet, with one instance.
export default defineConfig({
  test: {
    include: ['test/api/fleet/**/*.test.ts', ...(findPostgresBin() && findRedisServer() ? ROUTE_TESTS : [])],
    globalSetup: ['test/api/fleet/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The files start several processes each: one at a time on a small machine.
    fileParallelism: false,
    env: { PORTHOLE_FROM_SOURCE: '1', PORTHOLE_TEST_STORE: 'postgres', PORTHOLE_TEST_REDIS: '1' },
  },
});
