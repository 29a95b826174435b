/**
 * Revocations every instance must act on at once: a removed device's agent is closed by whichever
 * instance holds it. Published on one channel all instances subscribe to, by the instance or admin
 * command that made the change (`porthole api device remove --redis …`). A revocation nobody
 * published (an admin command run without --redis) is still caught: each instance checks the devices
 * it holds against the store on every heartbeat.
 *
 * Viewer tokens need no event: every viewer request reads the shared store, so a revoked token is
 * refused by every instance from its next request on.
 */
import { Redis } from 'ioredis';
import { object, literal, str } from '../../protocol/validate.js';
import { DEVICE_ID_PATTERN } from '../store.js';
import type { Revocation } from './fleet.js';
import { checkRedisUrl } from './redis-url.js';

export const REVOCATION_CHANNEL = 'porthole:revocations';

const deviceRemoved = object({
  kind: literal('device_removed'),
  deviceId: str({ max: 128, pattern: DEVICE_ID_PATTERN }),
});

/** Throws ProtocolError on anything but a known revocation. */
export function parseRevocation(text: string): Revocation {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = undefined;
  }
  return deviceRemoved(raw, '');
}

export function encodeRevocation(r: Revocation): string {
  return JSON.stringify(r);
}

/** Publishes one revocation from a process that is not an API instance (the admin commands). */
export async function publishRevocationTo(url: string, r: Revocation): Promise<number> {
  checkRedisUrl(url);
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 5000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await redis.publish(REVOCATION_CHANNEL, encodeRevocation(r));
  } finally {
    redis.disconnect();
  }
}
