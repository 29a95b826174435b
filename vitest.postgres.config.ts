import { defineConfig } from 'vitest/config';
import { findPostgresBin } from './test/fixtures/postgres.js';

// `npm run test:postgres`: the PostgreSQL store. A private cluster (test/api/postgres/global-setup.ts)
// serves the store contract, migrations, migrate-store and a database outage (test/api/postgres/), and
// the API's route tests (the files below, through test/api/harness.ts) run again with
// PORTHOLE_TEST_STORE=postgres, each test on its own database. Not part of `npm test`: it needs
// Debian's postgresql package (scripts/apt/fleet.txt) and starts database servers. Without
// PostgreSQL only test/api/postgres/ runs, and skips itself saying why.
export const ROUTE_TESTS = [
  'test/api/agent-events.test.ts',
  'test/api/agent-protocol.test.ts',
  'test/api/agent-relay.test.ts',
  'test/api/cors.test.ts',
  'test/api/enroll-route.test.ts',
  'test/api/login.test.ts',
  'test/api/service-process.test.ts',
  'test/api/viewer-routes.test.ts',
  'test/api/relay/relay-route.test.ts',
];

export default defineConfig({
  test: {
    include: ['test/api/postgres/**/*.test.ts', ...(findPostgresBin() ? ROUTE_TESTS : [])],
    globalSetup: ['test/api/postgres/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    env: { PORTHOLE_FROM_SOURCE: '1', PORTHOLE_TEST_STORE: 'postgres' },
  },
});
