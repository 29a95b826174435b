/**
 * What the suites' global set-ups hand their tests through vitest's provide/inject. Kept apart from
 * the fixtures, which the benches (part of the build) import too: the build does not see vitest.
 */
import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The private PostgreSQL cluster's superuser URL (vitest.postgres.config.ts); empty when absent. */
    pgAdminUrl: string;
    /** The private Redis's URL (vitest.fleet.config.ts); empty when redis-server is absent. */
    redisUrl: string;
  }
}
