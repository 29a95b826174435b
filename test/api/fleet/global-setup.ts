/**
 * Global setup of `npm run test:fleet`: one private PostgreSQL cluster and one private Redis for the
 * whole run (each test creates its own database; instances of different tests never meet, since
 * every process start draws a new instance id). Without either, empty URLs and the reason.
 */
import type { TestProject } from 'vitest/node';
import { findPostgresBin, POSTGRES_MISSING, startPrivatePostgres } from '../../fixtures/postgres.js';
import { findRedisServer, REDIS_MISSING, startPrivateRedis } from '../../fixtures/redis.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const missing = [!findPostgresBin() && POSTGRES_MISSING, !findRedisServer() && REDIS_MISSING].filter(
    Boolean,
  );
  if (missing.length > 0) {
    for (const m of missing) console.warn(m);
    project.provide('pgAdminUrl', '');
    project.provide('redisUrl', '');
    return async () => undefined;
  }
  const [cluster, redis] = await Promise.all([startPrivatePostgres(), startPrivateRedis()]);
  project.provide('pgAdminUrl', cluster.url);
  project.provide('redisUrl', redis.url);
  return async () => {
    await Promise.all([cluster.destroy(), redis.destroy()]);
  };
}
