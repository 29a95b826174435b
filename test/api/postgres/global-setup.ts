/**
 * Global setup of `npm run test:postgres`: one private PostgreSQL cluster for the whole run (each test
 * then creates its own database in it), its URL provided to the tests as `pgAdminUrl`, and the cluster
 * deleted at the end. Without PostgreSQL installed it provides an empty URL and says why.
 */
import type { TestProject } from 'vitest/node';
import { findPostgresBin, POSTGRES_MISSING, startPrivatePostgres } from '../../fixtures/postgres.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!findPostgresBin()) {
    console.warn(POSTGRES_MISSING);
    project.provide('pgAdminUrl', '');
    return async () => undefined;
  }
  const cluster = await startPrivatePostgres();
  project.provide('pgAdminUrl', cluster.url);
  return () => cluster.destroy();
}
