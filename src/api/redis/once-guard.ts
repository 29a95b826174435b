/**
 * The one-time login token's single use across instances that share a JSON store. The store's lock
 * file makes its read-modify-write atomic on one host's filesystem, but not reliably over a network
 * filesystem, so with Redis the first instance to `SET NX` the token's hash wins and the others
 * refuse, before the store is asked. With PostgreSQL the store's `DELETE … RETURNING` already decides,
 * and this guard is not consulted (see ViewerAuth).
 */
import type { Redis } from 'ioredis';

export class OnceGuard {
  constructor(private readonly redis: Redis) {}

  async spend(key: string, ttlMs: number): Promise<boolean> {
    const set = await this.redis.set(`porthole:once:${key}`, '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
    return set === 'OK';
  }
}
