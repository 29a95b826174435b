/** Picks the fleet: Redis when a URL is given, else the in-process fleet of one (ioredis not loaded). */
import type { Logger } from '../../log/logger.js';
import type { Timers } from '../../time/timers.js';
import type { Fleet } from './fleet.js';
import { LocalFleet } from './local-fleet.js';

export interface FleetOptions {
  /** `redis://…` (`--redis`, PORTHOLE_REDIS_URL); absent: one instance, no Redis. */
  redis?: string | undefined;
  log: Logger;
  commandTimeoutMs: number;
  heartbeatMs: number;
  timers?: Timers;
}

export async function openFleet(o: FleetOptions): Promise<Fleet> {
  if (o.redis === undefined) return new LocalFleet();
  const { RedisFleet } = await import('./redis-fleet.js');
  return new RedisFleet({ ...o, url: o.redis });
}
